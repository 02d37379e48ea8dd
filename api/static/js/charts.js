// Small horizontal bar charts as inline SVG: one bar per item, the value written at its end.

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** items: [{label, value, colour?}]; returns an <svg> sized to its rows. */
export function barChart(items, { title = "", format = (v) => String(v), width = 420, colour = "#1d5fa7" } = {}) {
  const row = 22;
  const labelWidth = 110;
  const valueWidth = 70;
  const height = items.length * row + (title ? 24 : 4);
  const chart = svg("svg", { class: "chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  if (title) chart.append(svg("title", {}, title), svg("text", { x: 0, y: 14, "font-weight": "600" }, title));
  const max = Math.max(1, ...items.map((item) => Number(item.value) || 0));
  const span = width - labelWidth - valueWidth;
  items.forEach((item, index) => {
    const y = (title ? 24 : 4) + index * row;
    const length = Math.max(1, ((Number(item.value) || 0) / max) * span);
    chart.append(
      svg("text", { x: labelWidth - 6, y: y + 14, "text-anchor": "end" }, item.label),
      svg("rect", { x: labelWidth, y: y + 3, width: length, height: row - 8, fill: item.colour ?? colour, rx: 2 }),
      svg("text", { x: labelWidth + length + 4, y: y + 14, class: "bar-value" }, format(item.value)),
    );
  });
  return chart;
}
