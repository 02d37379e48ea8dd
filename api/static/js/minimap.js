// A minimap for large graphs: every shown node as a dot, the part in view as a frame; a click there moves the
// view to that place. Drawn on a small canvas over the graph's corner, only once a graph has many nodes.

import { riskColour } from "./dom.js";

const MIN_NODES = 40; // below this the whole graph fits the view legibly: no minimap
const WIDTH = 180;
const HEIGHT = 130;
const PADDING = 6;

export class Minimap {
  constructor(graph, canvas) {
    this.graph = graph;
    this.canvas = canvas;
    canvas.width = WIDTH;
    canvas.height = HEIGHT;
    this.frame = null; // model box -> minimap scale, from the last drawing
    this.pending = false;
    graph.cy.on("render viewport add remove position", () => this.schedule());
    canvas.addEventListener("click", (event) => this.moveTo(event));
  }

  /** Redraw once per animation frame, however many events asked for it. */
  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  draw() {
    const cy = this.graph.cy;
    const nodes = cy.nodes(":visible");
    this.canvas.hidden = nodes.length < MIN_NODES;
    if (this.canvas.hidden) return;
    const box = nodes.boundingBox({ includeLabels: false });
    const scale = Math.min((WIDTH - 2 * PADDING) / Math.max(box.w, 1), (HEIGHT - 2 * PADDING) / Math.max(box.h, 1));
    this.frame = { box, scale };
    const at = (x, y) => [PADDING + (x - box.x1) * scale, PADDING + (y - box.y1) * scale];
    const context = this.canvas.getContext("2d");
    context.clearRect(0, 0, WIDTH, HEIGHT);
    context.fillStyle = "rgba(255,255,255,0.92)";
    context.fillRect(0, 0, WIDTH, HEIGHT);
    for (const node of nodes) {
      const [x, y] = at(node.position("x"), node.position("y"));
      context.fillStyle = node.data("stub") || node.data("more") ? "#b0bec5" : riskColour(node.data("churn"));
      const size = node.data("center") ? 6 : 3;
      context.fillRect(x - size / 2, y - size / 2, size, size);
    }
    // The part of the graph in view, clipped to the minimap.
    const view = cy.extent();
    const [left, top] = at(view.x1, view.y1);
    const [right, bottom] = at(view.x2, view.y2);
    const shown = [Math.max(left, 0), Math.max(top, 0), Math.min(right, WIDTH) - Math.max(left, 0), Math.min(bottom, HEIGHT) - Math.max(top, 0)];
    context.strokeStyle = "#1d5fa7";
    context.lineWidth = 2;
    context.strokeRect(...shown);
    this.canvas.dataset.view = shown.map((value) => Math.round(value)).join(",");
  }

  /** Centre the view on the model point under a click on the minimap. */
  moveTo(event) {
    if (!this.frame) return;
    const { box, scale } = this.frame;
    const rect = this.canvas.getBoundingClientRect();
    const x = box.x1 + (event.clientX - rect.left - PADDING) / scale;
    const y = box.y1 + (event.clientY - rect.top - PADDING) / scale;
    const cy = this.graph.cy;
    const zoom = cy.zoom();
    cy.pan({ x: cy.width() / 2 - x * zoom, y: cy.height() / 2 - y * zoom });
  }
}
