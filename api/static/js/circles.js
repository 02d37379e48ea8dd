// Guarantee circles (risk): customers guaranteeing each other in a cycle, listed and drawn one at a time.

import { get } from "./api.js";
import { $, clear, h } from "./dom.js";
import { decorate, NetworkGraph, nodeOf } from "./graph.js";
import { onLanguageChange, t } from "./i18n.js";

let circles = null;
let circleGraph = null;

export const drawnCircle = () => circleGraph;

function draw(circle) {
  if (!circleGraph) {
    circleGraph = new NetworkGraph($("#circle-graph"));
    decorate(circleGraph, { ties: false });
  }
  circleGraph.clear();
  const ids = circle.members.map((member) => circleGraph.addNode(nodeOf(member)).id());
  // The members come in the order of the cycle: each guarantees the next.
  ids.forEach((id, index) => circleGraph.addEdge(id, ids[(index + 1) % ids.length], "GUARANTEES", { directed: true }));
  circleGraph.layout();
}

function render() {
  const list = clear($("#circle-list"));
  if (!circles) return;
  if (!circles.length) list.append(h("li", {}, t("circles.none")));
  circles.forEach((circle, index) => {
    const names = circle.members.map((member) => nodeOf(member).name).join(" → ");
    list.append(
      h(
        "li",
        {},
        h("button", { type: "button", onclick: () => draw(circle) }, h("strong", {}, t("circles.item", { n: index + 1, size: circle.members.length })), h("br"), names),
      ),
    );
  });
}

export async function openCircles() {
  if (circles === null) {
    circles = (await get("/guarantee-circles", { page_size: 50 })).items;
    render();
    if (circles.length) draw(circles[0]);
  }
}

onLanguageChange(render);
