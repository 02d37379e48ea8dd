// The network view: search a customer, draw its ego network, expand nodes, filter by tie type and depth.

import { enc, get } from "./api.js";
import { $, clear, h } from "./dom.js";
import { legend, NetworkGraph, nodeOf, TIE_COLOURS } from "./graph.js";
import { onLanguageChange, t, tieName, tierName } from "./i18n.js";
import { showCustomer } from "./panel.js";
import { report } from "./status.js";

const LIMIT = 25; // related customers drawn per node; the rest become "N more"
const MAX_EXPANSIONS_PER_LEVEL = 20; // depth 2-3 expand at most this many customers per level
const TIE_TYPES = Object.keys(TIE_COLOURS).filter((type) => type !== "MEMBER");

const state = { graph: null, selectedTypes: new Set(TIE_TYPES), centerId: null, lastResults: null };

export function graph() {
  return state.graph;
}

function selectedTypes() {
  return state.selectedTypes.size === TIE_TYPES.length ? [] : [...state.selectedTypes];
}

function depth() {
  return Number($("#depth").value);
}

/** Fetch one customer's related customers, merge them into the graph, and return them. */
export async function expand(customerId) {
  const body = await get(`/customers/${enc(customerId)}/network`, { depth: 1, types: selectedTypes(), limit: LIMIT });
  // The API counts the neighbours its cap left out: the "N more" marker.
  state.graph.mergeNeighbours(customerId, body.related, body.omitted_neighbours ?? 0);
  return body.related;
}

/** Draw the network of ``customer`` (a CustomerPublic) to the chosen depth, expanding breadth first. */
export async function showNetwork(customer) {
  state.centerId = customer.id;
  $("#graph-empty").hidden = true;
  const g = state.graph;
  g.clear();
  g.addNode({ ...nodeOf({ customer }), center: true });
  const seen = new Set([customer.id]);
  let frontier = [customer.id];
  try {
    for (let level = 1; level <= depth() && frontier.length; level++) {
      const next = [];
      for (const id of frontier.slice(0, MAX_EXPANSIONS_PER_LEVEL)) {
        for (const entry of await expand(id)) {
          if (entry.customer && !seen.has(entry.customer.id)) {
            seen.add(entry.customer.id);
            next.push(entry.customer.id);
          }
        }
      }
      frontier = next;
    }
  } catch (error) {
    report(error);
  }
  g.layout();
  await showCustomer(customer.id, { expand: expandAndLayout, recenter: recenter });
}

async function expandAndLayout(customerId) {
  try {
    await expand(customerId);
  } catch (error) {
    report(error);
  }
  state.graph.layout();
}

async function recenter(customerId) {
  const profile = await get(`/customers/${enc(customerId)}`);
  await showNetwork(profile.customer);
}

function renderResults() {
  const list = clear($("#search-results"));
  if (state.lastResults === null) return;
  if (!state.lastResults.length) list.append(h("li", {}, t("search.none")));
  for (const customer of state.lastResults) {
    const tier = customer.tier ? ` · ${tierName(customer.tier)}` : "";
    const label = `${customer.name ?? customer.id} (${t(`kind.${customer.kind}`)}${tier})`;
    const button = h("button", { type: "button", dataset: { customerId: customer.id } }, label);
    button.addEventListener("click", () => showNetwork(customer));
    list.append(h("li", {}, button));
  }
}

async function search(event) {
  event.preventDefault();
  try {
    const page = await get("/customers", { q: $("#search-q").value.trim(), page_size: 20 });
    state.lastResults = page.items;
    renderResults();
    if (page.items.length === 1) await showNetwork(page.items[0]);
  } catch (error) {
    report(error);
  }
}

function renderTieFilter() {
  const box = clear($("#tie-filter-options"));
  for (const type of TIE_TYPES) {
    const input = h("input", { type: "checkbox", value: type, checked: state.selectedTypes.has(type) });
    input.addEventListener("change", () => {
      if (input.checked) state.selectedTypes.add(type);
      else state.selectedTypes.delete(type);
    });
    box.append(h("label", {}, input, " ", h("span", { style: `color:${TIE_COLOURS[type]}` }, "━ "), tieName(type)));
  }
}

async function redraw() {
  if (!state.centerId) return;
  const profile = await get(`/customers/${enc(state.centerId)}`);
  await showNetwork(profile.customer);
}

export function initExplorer() {
  state.graph = new NetworkGraph($("#graph"), {
    onSelect: (data) => {
      if (data.more) return;
      showCustomer(data.stub ? null : data.id, { expand: expandAndLayout, recenter, stub: data.stub ? data : null });
    },
  });
  $("#search-form").addEventListener("submit", search);
  $("#depth").addEventListener("change", () => redraw().catch(report));
  $("#tie-filter").addEventListener("toggle", (event) => {
    if (!event.target.open) redraw().catch(report);
  });
  $("#fit-graph").addEventListener("click", () => state.graph.fit());
  renderTieFilter();
  legend($("#legend"));
  onLanguageChange(() => {
    renderResults();
    renderTieFilter();
    legend($("#legend"));
    state.graph.refresh();
  });
}
