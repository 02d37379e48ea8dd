// The network view: search a customer, draw its ego network, expand nodes, filter by tie type and depth.

import { enc, get, isAborted, LatestAction } from "./api.js";
import { $, clear, h } from "./dom.js";
import { writeAddress } from "./address.js";
import { Minimap } from "./minimap.js";
import { downloadCsv, downloadPng, nodesCsv, tiesCsv } from "./export.js";
import { BANKED_AT, decorate, NetworkGraph, nodeOf, TIE_COLOURS } from "./graph.js";
import { onLanguageChange, tieName } from "./i18n.js";
import { showCustomer } from "./panel.js";
import { CustomerSearch } from "./search.js";
import { report } from "./status.js";

const LIMIT = 25; // related customers drawn per node; the rest become "N more"
const MAX_EXPANSIONS_PER_LEVEL = 20; // depth 2-3 expand at most this many customers per level
const TIE_TYPES = Object.keys(TIE_COLOURS).filter((type) => type !== "MEMBER"); // the filter's choices
const CUSTOMER_TIE_TYPES = TIE_TYPES.filter((type) => type !== BANKED_AT);

const state = {
  graph: null,
  selectedTypes: new Set(CUSTOMER_TIE_TYPES), // branches only when asked
  centerId: null,
  search: null,
  requests: new LatestAction(), // a search, depth change or recentre cancels the one before
};

export function graph() {
  return state.graph;
}

/** The tie types to ask the API for: [] for every tie between customers; BANKED_AT adds the branches. */
function selectedTypes() {
  const chosen = CUSTOMER_TIE_TYPES.filter((type) => state.selectedTypes.has(type));
  const types = chosen.length === CUSTOMER_TIE_TYPES.length ? [] : chosen;
  return state.selectedTypes.has(BANKED_AT) ? [...types, BANKED_AT] : types;
}

/** The types to expand one customer by: one tie type (with the branches when they are drawn), else all chosen. */
function expandTypes(type) {
  if (!type) return selectedTypes();
  return state.selectedTypes.has(BANKED_AT) && type !== BANKED_AT ? [type, BANKED_AT] : [type];
}

function depth() {
  return Number($("#depth").value);
}

/** One customer's related customers (one hop, through ``types``: [] for all) as the API answers them, with
 * the "N more" count. */
async function neighbours(customerId, signal, types = selectedTypes()) {
  const body = await get(`/customers/${enc(customerId)}/network`, { depth: 1, types, limit: LIMIT }, signal);
  // The API counts the neighbours its cap left out: the "N more" marker.
  return { fromId: customerId, related: body.related, omitted: body.omitted_neighbours ?? 0, branches: body.branches ?? [] };
}

/**
 * Fetch one customer's related customers (through one tie type when ``type`` is given) and merge them into the
 * drawn graph, showing them even where a collapse hid them (unless a newer action came).
 */
export async function expand(customerId, type = null) {
  const signal = state.requests.signal;
  const hop = await neighbours(customerId, signal, expandTypes(type));
  signal.throwIfAborted();
  const g = state.graph;
  g.uncollapse(customerId);
  g.reveal(hop.related.map((entry) => nodeOf(entry).id));
  // By one type, the "N more" marker counts what that type left out, or stays as it was when it left none.
  g.cy.batch(() => g.mergeNeighbours(hop.fromId, hop.related, hop.omitted || (type ? null : 0), hop.branches));
  g.applyCollapses();
  return hop.related;
}

/**
 * Fetch the network of ``centerId`` to the chosen depth, breadth first. The hops come back as fetched so far
 * with the first error, if any: a partial network is still worth drawing.
 */
async function fetchNetwork(centerId, signal) {
  const hops = [];
  const seen = new Set([centerId]);
  let frontier = [centerId];
  try {
    for (let level = 1; level <= depth() && frontier.length; level++) {
      const next = [];
      for (const id of frontier.slice(0, MAX_EXPANSIONS_PER_LEVEL)) {
        const hop = await neighbours(id, signal);
        hops.push(hop);
        for (const entry of hop.related) {
          if (entry.customer && !seen.has(entry.customer.id)) {
            seen.add(entry.customer.id);
            next.push(entry.customer.id);
          }
        }
      }
      frontier = next;
    }
  } catch (error) {
    if (isAborted(error)) throw error;
    return { hops, error };
  }
  return { hops, error: null };
}

/**
 * Draw the network of ``customer`` (a CustomerPublic) as the action of ``signal``. Nothing is drawn until the
 * whole network is fetched, and only if no newer action began meanwhile: two networks never mix.
 */
async function drawNetwork(customer, signal) {
  const { hops, error } = await fetchNetwork(customer.id, signal);
  signal.throwIfAborted();
  state.centerId = customer.id;
  $("#graph-empty").hidden = true;
  const g = state.graph;
  g.clear();
  // One batch of adds and one layout: cytoscape restyles and redraws once, not once per node.
  g.cy.batch(() => {
    g.addNode({ ...nodeOf({ customer }), center: true });
    for (const hop of hops) g.mergeNeighbours(hop.fromId, hop.related, hop.omitted, hop.branches);
  });
  g.layout();
  report(error);
  $("#exports").hidden = false;
  writeAddress({ view: "explorer", center: customer.id, depth: depth(), ties: selectedTypes().join(",") || null });
  await showCustomer(customer.id, PANEL_ACTIONS);
}

/** Draw the network of ``customer``, cancelling whatever the view was still fetching. */
export async function showNetwork(customer) {
  try {
    await drawNetwork(customer, state.requests.begin());
  } catch (error) {
    report(error);
  }
}

/** Expand as the panel asks (all ties, or one type); the merge lays the graph out once. */
async function expandFromPanel(customerId, type = null) {
  try {
    await expand(customerId, type);
    report(null);
  } catch (error) {
    report(error);
  }
}

/** Hide what hangs off the customer, or show it again. */
function toggleCollapse(customerId) {
  const g = state.graph;
  if (g.isCollapsed(customerId)) g.uncollapse(customerId);
  else g.collapse(customerId);
}

/** Redraw around ``customerId`` (the current centre when none), as a new action. */
async function recenter(customerId = state.centerId) {
  if (!customerId) return;
  const signal = state.requests.begin();
  try {
    const profile = await get(`/customers/${enc(customerId)}`, {}, signal);
    await drawNetwork(profile.customer, signal);
  } catch (error) {
    report(error);
  }
}

// What the side panel may do to the graph.
const PANEL_ACTIONS = {
  expand: expandFromPanel,
  recenter: (customerId) => recenter(customerId),
  collapse: toggleCollapse,
  isCollapsed: (customerId) => state.graph.isCollapsed(customerId),
};

export function forgetSearch() {
  state.search.forget();
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

/** Draw the graph again in the layout picked (kept in the address; "auto" is the default and not written). */
function pickLayout(layout) {
  $("#layout").value = layout;
  state.graph.chosenLayout = layout;
  writeAddress({ layout: layout === "auto" ? null : layout });
  if (state.graph.cy.nodes().nonempty()) state.graph.layout();
}

/** Open the view a bookmark describes: its depth, tie types and layout, then its centre (if the token may see it). */
export async function restoreExplorer({ center, depth: wanted, ties, layout }) {
  if (wanted) $("#depth").value = String(wanted);
  if (layout) pickLayout(layout);
  if (ties) {
    const customer = ties.filter((type) => CUSTOMER_TIE_TYPES.includes(type));
    state.selectedTypes = new Set([...(customer.length ? customer : CUSTOMER_TIE_TYPES), ...(ties.includes(BANKED_AT) ? [BANKED_AT] : [])]);
    renderTieFilter();
  }
  if (center) await recenter(center);
}

function exportName(extension, part = "") {
  return `network-${state.centerId}${part}.${extension}`.replace(/[^\w.-]+/g, "_");
}

export function initExplorer() {
  state.graph = new NetworkGraph($("#graph"), {
    onSelect: (data) => {
      if (data.more || data.branch) return;
      showCustomer(data.stub ? null : data.id, { ...PANEL_ACTIONS, stub: data.stub ? data : null });
    },
    onContact: (data) => {
      if (data.more || data.stub || data.branch) return;
      showCustomer(data.id, { ...PANEL_ACTIONS, contact: true });
    },
  });
  state.search = new CustomerSearch({ requests: state.requests, draw: drawNetwork });
  $("#depth").addEventListener("change", () => recenter());
  $("#layout").addEventListener("change", () => pickLayout($("#layout").value));
  state.minimap = new Minimap(state.graph, $("#minimap"));
  $("#tie-filter").addEventListener("toggle", (event) => {
    if (!event.target.open) recenter();
  });
  $("#export-png").addEventListener("click", () => downloadPng(state.graph, exportName("png")));
  $("#export-nodes").addEventListener("click", () => downloadCsv(nodesCsv(state.graph.cy), exportName("csv", "-customers")));
  $("#export-ties").addEventListener("click", () => downloadCsv(tiesCsv(state.graph.cy), exportName("csv", "-ties")));
  renderTieFilter();
  decorate(state.graph);
  onLanguageChange(() => {
    renderTieFilter();
    state.graph.refresh();
  });
}
