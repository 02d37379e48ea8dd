// Shortest paths between two customers: "Path from here" marks one customer, "Shortest paths to here" on another
// asks the API and lights every path on the graph, customers out of the caller's sight drawn as stubs.

import { enc, get } from "./api.js";
import { h } from "./dom.js";
import { t, tieName } from "./i18n.js";

let start = null; // {id, name}: the customer the next paths start from

/** One path as text: each customer, and the tie to the next with an arrow the way the tie points. */
function pathText(path) {
  return path.nodes
    .map((node, index) => {
      if (!index) return node.name ?? node.id;
      const arrow = path.forward[index - 1] ? "→" : "←";
      return ` ${arrow}${tieName(path.ties[index - 1])}${arrow} ${node.name ?? node.id}`;
    })
    .join("");
}

/**
 * The panel's path buttons for ``customer`` (its id and shown name); ``show(section)`` puts the answer in the
 * panel, ``graph`` draws and lights it, ``item(content, light)`` makes a list entry that lights on hover.
 */
export function pathButtons(customer, { graph, show, item, report }) {
  const buttons = [
    h("button", { type: "button", id: "path-start", onclick: () => {
      start = customer;
      document.querySelector("#path-start").textContent = t("path.started");
    } }, start?.id === customer.id ? t("path.started") : t("path.start")),
  ];
  if (!start || start.id === customer.id) return buttons;
  const from = start;
  const findPaths = async () => {
    try {
      const body = await get(`/customers/${enc(from.id)}/paths/${enc(customer.id)}`);
      const g = graph();
      const all = g.addPaths(body.paths);
      if (body.paths.length) g.highlight(all.nodes, all.edges);
      const list = h("ol", { class: "evidence", id: "paths-list" });
      for (const path of body.paths) {
        list.append(item(pathText(path), () => {
          const drawn = g.addPaths([path]);
          g.highlight(drawn.nodes, drawn.edges);
        }));
      }
      const title = body.paths.length ? t("path.title", { n: body.paths.length, hops: body.hops }) : t("path.none");
      show(h("div", { id: "paths-view", dataset: { paths: body.paths.length } }, h("h3", {}, t("path.heading", { from: from.name })), h("p", { class: "muted" }, title), list));
    } catch (error) {
      report(error);
    }
  };
  buttons.push(h("button", { type: "button", id: "path-to", onclick: findPaths }, t("path.to", { name: from.name })));
  return buttons;
}
