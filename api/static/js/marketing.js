// Marketing: referral clusters (chart, list, one cluster drawn) and a product's prospects with CSV export.

import { enc, get, getCsv } from "./api.js";
import { $, clear, downloadBlob, h } from "./dom.js";
import { barChart } from "./charts.js";
import { NetworkGraph } from "./graph.js";
import { onLanguageChange, t, tierName } from "./i18n.js";
import { report } from "./status.js";

let clusters = [];
let clusterGraph = null;
let shownCluster = null;
let prospects = null;

function renderClusters() {
  const chart = clear($("#cluster-chart"));
  chart.append(
    barChart(
      clusters.slice(0, 12).map((cluster) => ({ label: cluster.label ?? cluster.id, value: cluster.size ?? 0, colour: "#fb8c00" })),
      { title: t("clusters.chart") },
    ),
  );
  const table = clear($("#cluster-table"));
  table.append(
    h("thead", {}, h("tr", {}, h("th", {}, t("field.id")), h("th", { class: "num" }, t("field.size")))),
    h(
      "tbody",
      {},
      clusters.map((cluster) =>
        h(
          "tr",
          { class: "clickable", dataset: { clusterId: cluster.id }, onclick: () => showCluster(cluster.id).catch(report) },
          h("td", {}, cluster.label ?? cluster.id),
          h("td", { class: "num" }, cluster.size ?? "–"),
        ),
      ),
    ),
  );
}

/** A cluster's members (masked stubs; the API does not give ties among them) around the cluster. */
async function showCluster(clusterId) {
  shownCluster = clusterId;
  const body = await get(`/clusters/${enc(clusterId)}`, { page_size: 200 });
  $("#cluster-title").textContent = t("clusters.members", { id: clusterId });
  clusterGraph ??= new NetworkGraph($("#cluster-graph"));
  clusterGraph.clear();
  const hub = `cluster:${clusterId}`;
  clusterGraph.addNode({ id: hub, name: clusterId, hub: true });
  for (const member of body.members) {
    clusterGraph.addNode({ id: member.opaque_id, name: member.name, stub: true });
    clusterGraph.addEdge(hub, member.opaque_id, "REFERRED");
  }
  clusterGraph.layout();
}

function renderProspects() {
  const table = clear($("#prospects-table"));
  if (!prospects) return;
  $("#prospects-export").hidden = !prospects.items.length;
  if (!prospects.items.length) {
    table.append(h("tbody", {}, h("tr", {}, h("td", {}, t("prospects.none")))));
    return;
  }
  const columns = [
    ["field.id", (p) => p.customer_id],
    ["field.name", (p) => p.name],
    ["field.segment", (p) => p.segment ?? ""],
    ["field.city", (p) => p.city ?? ""],
    ["field.tier", (p) => tierName(p.tier)],
  ];
  table.append(
    h("thead", {}, h("tr", {}, columns.map(([key]) => h("th", {}, t(key))), h("th", { class: "num" }, t("field.score")))),
    h(
      "tbody",
      {},
      prospects.items.map((p) =>
        h(
          "tr",
          { dataset: { customerId: p.customer_id } },
          columns.map(([, value]) => h("td", {}, value(p))),
          h("td", { class: "num" }, p.score?.toFixed(3) ?? "–"),
        ),
      ),
    ),
  );
}

async function findProspects(event) {
  event.preventDefault();
  try {
    prospects = await get(`/products/${enc($("#product-code").value.trim())}/prospects`, { page_size: 100 });
    renderProspects();
  } catch (error) {
    prospects = null;
    renderProspects();
    report(error);
  }
}

async function exportProspects() {
  try {
    const { blob, filename } = await getCsv(`/products/${enc(prospects.product_code)}/prospects`, { page_size: 100 });
    downloadBlob(blob, filename);
  } catch (error) {
    report(error);
  }
}

export async function openMarketing(session) {
  $("#clusters-section").hidden = !session.may("clusters:read");
  $("#prospects-section").hidden = !session.may("prospects:read");
  if (session.may("clusters:read") && !clusters.length) {
    clusters = (await get("/clusters", { page_size: 50 })).items;
    renderClusters();
  }
}

export function initMarketing() {
  $("#prospects-form").addEventListener("submit", findProspects);
  $("#prospects-export").addEventListener("click", exportProspects);
  onLanguageChange(() => {
    if (clusters.length) renderClusters();
    if (shownCluster) $("#cluster-title").textContent = t("clusters.members", { id: shownCluster });
    renderProspects();
  });
}
