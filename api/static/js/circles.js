// Guarantee circles (risk): customers guaranteeing each other in a cycle, listed and drawn one at a time.

import { PagedList } from "./api.js";
import { barChart, sizeBins } from "./charts.js";
import { $, clear, h, money } from "./dom.js";
import { decorate, NetworkGraph, nodeOf } from "./graph.js";
import { onLanguageChange, t } from "./i18n.js";
import { groupName, namingEvidence } from "./naming.js";
import { report } from "./status.js";

let circles = null; // the circles listed so far (PagedList)
let circleGraph = null;
let drawnIndex = null; // the circle drawn, by its place in the list
let drawnCircleBody = null; // the circle drawn (one the list has not reached yet, when opened from the landing view)

export const drawnCircle = () => circleGraph;

const sameMembers = (a, b) => a.members.map((m) => nodeOf(m).id).join() === b.members.map((m) => nodeOf(m).id).join();

function draw(circle) {
  drawnCircleBody = circle;
  const index = circles?.items.findIndex((item) => sameMembers(item, circle)) ?? -1;
  drawnIndex = index >= 0 ? index : null;
  for (const [i, item] of [...document.querySelectorAll("#circle-list li")].entries()) item.classList.toggle("chosen", i === index);
  renderTitle();
  if (!circleGraph) {
    circleGraph = new NetworkGraph($("#circle-graph"));
    decorate(circleGraph, { ties: false });
  }
  circleGraph.clear();
  const ids = circle.members.map((member) => circleGraph.addNode(nodeOf(member)).id());
  // The members come in the order of the cycle: each guarantees the next.
  ids.forEach((id, index) => {
    const next = ids[(index + 1) % ids.length];
    circleGraph.addEdge(id, next, "GUARANTEES", { directed: true, id: `${id}>${next}` });
  });
  circleGraph.layout();
}

/** A circle's name in the page's language: its group or largest guarantor, else its place in the list. */
const circleName = (circle, index) => groupName(circle.naming, t("circles.item", { n: index + 1, size: circle.members.length }));

function renderTitle() {
  const circle = drawnCircleBody;
  $("#circle-title").textContent = circle ? groupName(circle.naming, t("circles.title")) : "";
  $("#circle-facts").textContent = circle ? namingEvidence(circle.naming) : "";
}

function render() {
  const list = clear($("#circle-list"));
  if (!circles) return;
  $("#circles-more").hidden = circles.complete;
  const { sizes = [], total = circles.items.length } = circles.last ?? {};
  clear($("#circle-chart")).append(
    barChart(sizeBins(sizes).map((bin) => ({ ...bin, colour: "#e53935" })), { title: t("circles.chart", { n: total }) }),
  );
  if (!circles.items.length) list.append(h("li", {}, t("circles.none")));
  circles.items.forEach((circle, index) => {
    const names = circle.members.map((member) => nodeOf(member).name).join(" → ");
    list.append(
      h(
        "li",
        { class: index === drawnIndex ? "chosen" : null },
        h(
          "button",
          {
            type: "button",
            onclick: () => {
              draw(circle);
              $("#circle-detail").scrollIntoView({ block: "nearest" }); // on a phone the drawing is under the list
            },
          },
          h("strong", {}, circleName(circle, index)),
          ` · ${t("circles.item", { n: index + 1, size: circle.members.length })}`,
          h("br"),
          h("small", { class: "muted" }, t("circles.exposure", { amount: money(circle.total_exposure) })),
          h("br"),
          names,
        ),
      ),
    );
  });
}

export async function openCircles() {
  if (circles === null) {
    circles = new PagedList("/guarantee-circles", { page_size: 50 });
    await circles.more();
    render();
    if (circles.items.length && !drawnCircleBody) draw(circles.items[0]);
  }
}

/** Open the circles view on ``circle`` (from the landing view), whether or not the list has reached it. */
export async function showCircle(circle) {
  await openCircles();
  draw(circle);
}

export function initCircles() {
  $("#circles-more").addEventListener("click", () =>
    circles
      .more()
      .then(render)
      .catch(report),
  );
  onLanguageChange(() => {
    render();
    renderTitle();
  });
}
