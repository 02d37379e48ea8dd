// Small horizontal bar charts as inline SVG: one bar per item, the value written at its end.

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// A label cut to what its column holds (CJK glyphs are about 13 px wide at the chart's size, Latin ones 7 px).
function fitted(label, width) {
  let used = 0;
  for (let i = 0; i < label.length; i++) {
    used += label.charCodeAt(i) > 0x2e80 ? 13 : 7;
    if (used > width) return `${label.slice(0, Math.max(i - 1, 1))}…`;
  }
  return label;
}

/** items: [{label, value, colour?}]; returns an <svg> sized to its rows. */
export function barChart(items, { title = "", format = (v) => String(v), width = 420, colour = "#1d5fa7", labelWidth = 110 } = {}) {
  const row = 22;
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
      svg("text", { x: labelWidth - 6, y: y + 14, "text-anchor": "end" }, fitted(String(item.label), labelWidth - 8)),
      svg("rect", { x: labelWidth, y: y + 3, width: length, height: row - 8, fill: item.colour ?? colour, rx: 2, "data-value": item.value }),
      svg("text", { x: labelWidth + length + 4, y: y + 14, class: "bar-value" }, format(item.value)),
    );
  });
  return chart;
}

// Bin edges for sizes that spread over orders of magnitude (cluster or circle sizes): 1, 2, 3-4, 5-9, 10-19, ...
const SIZE_EDGES = [1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** How many groups fall in each size band (from the API's ``[{size, count}]``), from the smallest band used to
 * the largest. */
export function sizeBins(sizeCounts) {
  const bins = SIZE_EDGES.map((low, i) => {
    const high = SIZE_EDGES[i + 1];
    const label = high === undefined ? `≥${low}` : high - low === 1 ? String(low) : `${low}–${high - 1}`;
    const inBand = sizeCounts.filter(({ size }) => size >= low && (high === undefined || size < high));
    return { label, value: inBand.reduce((sum, { count }) => sum + count, 0) };
  });
  const used = bins.map((bin, i) => (bin.value ? i : null)).filter((i) => i !== null);
  return used.length ? bins.slice(used[0], used.at(-1) + 1) : [];
}
