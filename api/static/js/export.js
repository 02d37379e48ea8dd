// Export of the drawn network: a PNG of the picture, and CSV files of its nodes and of its ties.

import { downloadBlob } from "./dom.js";

// Spreadsheets run a cell that starts with one of these as a formula: such text is written with a leading quote.
const FORMULA_START = /^[=+\-@\t\r]/;

function cell(value) {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV text (with a byte order mark, so that spreadsheets read the Chinese names as UTF-8). */
export function csvText(header, rows) {
  const lines = [header, ...rows].map((row) => row.map(cell).join(","));
  return `\ufeff${lines.join("\r\n")}\r\n`;
}

/** The customers drawn (not the "N more" markers, nor those a collapse hides): id, name, kind, tier, churn
 * risk, masked or not. */
export function nodesCsv(cy) {
  const rows = cy
    .nodes(":visible")
    .filter((node) => !node.data("more"))
    .map((node) => {
      const data = node.data();
      return [data.id, data.name ?? "", data.kind ?? "", data.tier ?? "", data.churn ?? "", data.stub ? "masked" : ""];
    });
  return csvText(["id", "name", "kind", "tier", "churn_risk", "masked"], rows);
}

/** The ties drawn between customers (both ends shown): source, target, tie type. */
export function tiesCsv(cy) {
  const rows = cy
    .edges(":visible")
    .filter((edge) => !edge.data("more"))
    .map((edge) => [edge.data("source"), edge.data("target"), edge.data("type")]);
  return csvText(["source", "target", "tie_type"], rows);
}

export function downloadCsv(text, filename) {
  downloadBlob(new Blob([text], { type: "text/csv;charset=utf-8" }), filename);
}

/**
 * The whole network as a PNG on white, drawn at twice the model's size whatever the zoom on screen: every label
 * is legible there, so labels hidden on screen for being too small are shown in the picture.
 */
export function downloadPng(graph, filename) {
  graph.cy.nodes().removeClass("quiet");
  try {
    downloadBlob(graph.cy.png({ output: "blob", bg: "#ffffff", full: true, scale: 2, maxWidth: 6000, maxHeight: 6000 }), filename);
  } finally {
    graph.quietSmallLabels();
  }
}
