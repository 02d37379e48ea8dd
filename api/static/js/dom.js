// Building DOM from data without innerHTML: API text is always set as text, never parsed as markup.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export function $(selector) {
  return document.querySelector(selector);
}

export function clear(element) {
  element.replaceChildren();
  return element;
}

export function money(value) {
  if (value === null || value === undefined) return "–";
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: 0 });
}

export function percent(value) {
  if (value === null || value === undefined) return "–";
  return `${Math.round(Number(value) * 100)}%`;
}

// Churn risk 0..1 on a green - amber - red scale, shared by the graph, the panel and the charts.
export function riskColour(value) {
  if (value === null || value === undefined) return "#9aa5b1";
  const stops = [
    [0, [46, 125, 50]],
    [0.5, [240, 170, 30]],
    [1, [198, 40, 40]],
  ];
  const v = Math.max(0, Math.min(1, Number(value)));
  const [low, high] = v <= 0.5 ? [stops[0], stops[1]] : [stops[1], stops[2]];
  const f = (v - low[0]) / (high[0] - low[0]);
  const rgb = low[1].map((c, i) => Math.round(c + f * (high[1][i] - c)));
  return `rgb(${rgb.join(",")})`;
}

export function riskBar(value) {
  return h(
    "span",
    { class: "risk", title: percent(value) },
    h("span", { style: `width:${percent(value ?? 0)};background:${riskColour(value)}` }),
  );
}

export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
