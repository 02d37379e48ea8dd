// Guarantee circles (risk): customers guaranteeing each other in a cycle, listed and drawn one at a time.

import { PagedList } from "./api.js";
import { $, clear, h } from "./dom.js";
import { decorate, NetworkGraph, nodeOf } from "./graph.js";
import { onLanguageChange, t } from "./i18n.js";
import { report } from "./status.js";

let circles = null; // the circles listed so far (PagedList)
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
  $("#circles-more").hidden = circles.complete;
  if (!circles.items.length) list.append(h("li", {}, t("circles.none")));
  circles.items.forEach((circle, index) => {
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
    circles = new PagedList("/guarantee-circles", { page_size: 50 });
    await circles.more();
    render();
    if (circles.items.length) draw(circles.items[0]);
  }
}

export function initCircles() {
  $("#circles-more").addEventListener("click", () =>
    circles
      .more()
      .then(render)
      .catch(report),
  );
  onLanguageChange(render);
}
