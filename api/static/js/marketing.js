// Marketing: referral clusters (charts of size, assets and product penetration, a table, one cluster drawn
// with the ties among its members) and a product's prospects, picked from the catalogue, with CSV export.

import { enc, get, getCsv, LatestAction, PagedList } from "./api.js";
import { $, clear, downloadBlob, h, money, percent } from "./dom.js";
import { barChart, sizeBins } from "./charts.js";
import { decorate, NetworkGraph } from "./graph.js";
import { categoryName, cityName, onLanguageChange, segmentName, t, tierName } from "./i18n.js";
import { clusterName, distinctClusterNames, namingEvidence } from "./naming.js";
import { productName } from "./products.js";
import { report } from "./status.js";

const CHARTED = 12; // clusters in the assets chart (the largest by assets)
const PAGE_SIZE = 50;
let clusterPages = null; // the clusters listed so far (PagedList)
let chosenCluster = null;
let clusterGraph = null;
let shownCluster = null; // the body of GET /clusters/{id}
const clusterRequests = new LatestAction(); // a cluster clicked while another is coming replaces it
let prospects = null;
let products = [];

export function drawnCluster() {
  return clusterGraph;
}

function renderClusters() {
  const clusters = clusterPages.items;
  const { sizes = [], total = clusters.length } = clusterPages.last ?? {};
  clear($("#cluster-chart")).append(
    barChart(
      sizeBins(sizes).map((bin) => ({ ...bin, colour: "#fb8c00" })),
      { title: t("clusters.chart", { n: total }) },
    ),
  );
  const names = distinctClusterNames(clusters);
  const largest = [...clusters].sort((a, b) => (b.total_aum ?? 0) - (a.total_aum ?? 0)).slice(0, CHARTED);
  clear($("#cluster-assets-chart")).append(
    barChart(
      largest.map((cluster) => ({ label: names.get(cluster.id), value: cluster.total_aum ?? 0, colour: "#1d5fa7" })),
      // Wide enough for a name told apart by its id ("Referred by 杨** (K000012)"): the end is what differs.
      { title: t("clusters.assets_chart"), format: money, width: 500, labelWidth: 250 },
    ),
  );
  $("#clusters-more").hidden = clusterPages.complete;
  const table = clear($("#cluster-table"));
  table.append(
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", {}, t("clusters.name")),
        h("th", { class: "num" }, t("field.size")),
        h("th", { class: "num" }, t("field.aum")),
        h("th", { class: "num" }, t("clusters.referrals")),
        h("th", {}, t("clusters.central")),
      ),
    ),
    h(
      "tbody",
      {},
      clusters.map((cluster) =>
        h(
          "tr",
          {
            class: cluster.id === chosenCluster ? "clickable chosen" : "clickable",
            dataset: { clusterId: cluster.id },
            onclick: () => showCluster(cluster.id).catch(report),
          },
          h(
            "td",
            { class: "group-name" },
            h("strong", {}, names.get(cluster.id)),
            h("br"),
            h("small", { class: "muted" }, [cluster.id, namingEvidence(cluster.naming, cluster.size)].filter(Boolean).join(" · ")),
          ),
          h("td", { class: "num" }, cluster.size ?? "–"),
          h("td", { class: "num" }, money(cluster.total_aum)),
          h("td", { class: "num" }, cluster.referrals_per_member?.toFixed(2) ?? "–"),
          h("td", {}, cluster.central_members.map((member) => member.name).join("、")),
        ),
      ),
    ),
  );
}

function renderCluster() {
  const body = shownCluster;
  if (!body) return;
  const c = body.cluster;
  const members = t("clusters.members", { id: c.id });
  const named = c.naming?.name || c.central_members?.length; // else the name is the id: said once
  $("#cluster-title").textContent = named ? `${clusterName(c)} · ${members}` : members;
  const facts = clear($("#cluster-facts"));
  facts.append(
    ...[
    h("span", { class: "evidence-line" }, namingEvidence(c.naming, c.size)),
    h("br"),
    h("span", { class: "badge" }, `${t("field.size")} ${c.size ?? "–"}`),
    h("span", { class: "badge" }, `${t("field.aum")} ${money(c.total_aum)}`),
    h("span", { class: "badge" }, `${t("clusters.referrals")} ${c.referrals_per_member?.toFixed(2) ?? "–"}`),
    // A cluster held together by family ties alone has no one referred: no share of them to show.
    c.referrals_per_member > 0 ? h("span", { class: "badge" }, `${t("clusters.referred_active")} ${percent(c.referred_active_share)}`) : null,
    c.size > body.members.length ? h("span", { class: "muted" }, t("clusters.truncated", { n: body.members.length })) : null,
    ].filter(Boolean),
  );
  clear($("#cluster-penetration-chart")).append(
    barChart(
      c.product_penetration.map((item) => ({ label: productName(item.product_code, item.product_name), value: item.share, colour: "#00897b" })),
      { title: t("clusters.penetration_chart"), format: percent, labelWidth: 150 },
    ),
  );
}

/**
 * A cluster drawn as a graph: its most central members (masked stubs) and the ties among them; ``scroll`` brings it
 * into view (a click in the list; not the first drawing, which would scroll the charts away).
 */
export async function showCluster(clusterId, { scroll = true } = {}) {
  shownCluster = await get(`/clusters/${enc(clusterId)}`, { page_size: 200 }, clusterRequests.begin());
  chosenCluster = clusterId;
  for (const row of document.querySelectorAll("#cluster-table tbody tr")) row.classList.toggle("chosen", row.dataset.clusterId === clusterId);
  renderCluster();
  if (!clusterGraph) {
    clusterGraph = new NetworkGraph($("#cluster-graph"));
    decorate(clusterGraph);
  }
  clusterGraph.clear();
  for (const member of shownCluster.members) clusterGraph.addNode({ id: member.opaque_id, name: member.name, stub: true });
  for (const tie of shownCluster.ties) clusterGraph.addEdge(tie.source, tie.target, tie.type, { directed: tie.type === "REFERRED" });
  clusterGraph.layout({ refine: true });
  if (scroll) $("#cluster-detail").scrollIntoView({ block: "nearest" }); // beside the list, in view
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
    ["field.segment", (p) => (p.segment ? segmentName(p.segment) : "")],
    ["field.city", (p) => cityName(p.city) ?? ""],
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
    prospects = await get(`/products/${enc($("#product-code").value)}/prospects`, { page_size: 100 });
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

function renderProducts() {
  const select = $("#product-code");
  const chosen = select.value;
  clear(select).append(
    h("option", { value: "", disabled: true, selected: !chosen }, t("prospects.pick")),
    ...products.map((product) =>
      h(
        "option",
        { value: product.id, selected: product.id === chosen },
        `${product.name ?? product.id} · ${categoryName(product.category)}`,
      ),
    ),
  );
}

export async function openMarketing(session) {
  $("#clusters-section").hidden = !session.may("clusters:read");
  $("#prospects-section").hidden = !session.may("prospects:read");
  if (session.may("clusters:read") && !clusterPages) {
    clusterPages = new PagedList("/clusters", { page_size: PAGE_SIZE });
    await clusterPages.more();
    renderClusters();
    // The largest cluster is drawn beside the list from the start (a click draws another).
    if (clusterPages.items.length && !chosenCluster) await showCluster(clusterPages.items[0].id, { scroll: false });
  }
  if (session.may("prospects:read") && session.may("products:read") && !products.length) {
    products = (await get("/products")).items;
    renderProducts();
  }
}

export function initMarketing() {
  $("#prospects-form").addEventListener("submit", findProspects);
  $("#prospects-export").addEventListener("click", exportProspects);
  $("#clusters-more").addEventListener("click", () =>
    clusterPages
      .more()
      .then(renderClusters)
      .catch(report),
  );
  onLanguageChange(() => {
    if (clusterPages) renderClusters();
    renderCluster();
    renderProspects();
    if (products.length) renderProducts();
  });
}
