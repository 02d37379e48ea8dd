// Sign in, choose the views the token allows, switch views and language.

import { ApiError, get, session } from "./api.js";
import { $ } from "./dom.js";
import { readAddress, writeAddress } from "./address.js";
import { forgetSearch, graph, initExplorer, restoreExplorer, showNetwork } from "./explorer.js";
import { applyTranslations, lang, onLanguageChange, roleName, setLanguage, t } from "./i18n.js";
import { loadProducts } from "./products.js";
import { drawnCluster, initMarketing, openMarketing, showCluster } from "./marketing.js";
import { openPortfolio } from "./portfolio.js";
import { drawnCircle, initCircles, openCircles, showCircle } from "./circles.js";
import { openHome } from "./home.js";
import { report } from "./status.js";

const seesCustomers = () => session.may("customers:read:book") || session.may("customers:read:all");

// What the landing view's lines and cards open.
const HOME_ACTIONS = {
  openCustomer: async (customerId) => openFromPortfolio((await get(`/customers/${encodeURIComponent(customerId)}`)).customer),
  openView: (name) => openView(name),
  showCluster: async (clusterId) => {
    await openView("marketing");
    await showCluster(clusterId);
  },
  showCircle: async (circle) => {
    await openView("circles");
    await showCircle(circle);
  },
};

// The first view allowed is where a sign-in lands: the landing view.
const VIEWS = {
  home: { allowed: () => true, open: () => openHome(session, HOME_ACTIONS) },
  explorer: { allowed: seesCustomers, open: async () => {} },
  portfolio: {
    allowed: () => seesCustomers() && (session.may("portfolio:read:own") || session.may("portfolio:read:all")),
    open: () => openPortfolio(session, openFromPortfolio),
  },
  marketing: { allowed: () => session.may("clusters:read") || session.may("prospects:read"), open: () => openMarketing(session) },
  circles: { allowed: () => session.may("guarantee-circles:read"), open: () => openCircles() },
};

function showOnly(id) {
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== id;
}

async function openView(name) {
  showOnly(`view-${name}`);
  // The address names the view; a centre, depth and ties only mean something in the network view.
  writeAddress(name === "explorer" ? { view: name } : { view: name, center: null, depth: null, ties: null, layout: null });
  for (const button of document.querySelectorAll("#tabs button")) button.classList.toggle("active", button.dataset.view === name);
  report(null);
  try {
    await VIEWS[name].open();
  } catch (error) {
    report(error);
  }
}

async function openFromPortfolio(customer) {
  await openView("explorer");
  forgetSearch(); // the search typed before is not what is shown now
  await showNetwork(customer);
}

function showWho() {
  if (session.me) $("#who").textContent = `${session.me.name} · ${roleName(session.me.role)}`;
}

async function start() {
  try {
    session.me = await get("/me");
  } catch (error) {
    session.token = null;
    showOnly("view-sign-in");
    if (error instanceof ApiError && error.status === 401) $("#sign-in-error").textContent = t("signin.invalid");
    else report(error);
    return;
  }
  await loadProducts();
  showWho();
  $("#sign-out").hidden = false;
  const allowed = Object.keys(VIEWS).filter((name) => VIEWS[name].allowed());
  for (const button of document.querySelectorAll("#tabs button")) button.hidden = !allowed.includes(button.dataset.view);
  $("#tabs").hidden = false;
  if (!allowed.length) return;
  const bookmark = readAddress();
  const view = allowed.includes(bookmark.view) ? bookmark.view : allowed[0];
  await openView(view);
  if (view === "explorer") await restoreExplorer(bookmark);
}

function init() {
  applyTranslations();
  $("#lang-toggle").textContent = t("lang.other");
  $("#lang-toggle").addEventListener("click", () => setLanguage(lang === "zh" ? "en" : "zh"));
  onLanguageChange(() => {
    $("#lang-toggle").textContent = t("lang.other");
    showWho();
  });
  $("#sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("#sign-in-error").textContent = "";
    session.token = $("#token-input").value.trim();
    $("#token-input").value = "";
    start();
  });
  $("#sign-out").addEventListener("click", () => {
    session.token = null;
    location.reload();
  });
  for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => openView(button.dataset.view));
  initExplorer();
  initMarketing();
  initCircles();
  if (session.token) start();
  else showOnly("view-sign-in");
}

// Read-only handle for the browser tests and the console: the drawn graph's elements.
window.crmGraph = {
  cy: () => graph().cy,
  nodes: () => graph().cy.nodes().map((node) => node.data()),
  layouts: () => graph().layouts,
  shape: () => graph().shape,
  circleEdges: () => drawnCircle()?.cy.edges().length ?? 0,
  clusterCy: () => drawnCluster()?.cy,
  cluster: () => ({
    nodes: drawnCluster()?.cy.nodes().map((node) => node.id()) ?? [],
    edges: drawnCluster()?.cy.edges().map((edge) => [edge.data("type"), edge.source().id(), edge.target().id()]) ?? [],
    shape: drawnCluster()?.shape ?? null,
    positions: Object.fromEntries(drawnCluster()?.cy.nodes().map((node) => [node.id(), node.position()]) ?? []),
  }),
  highlighted: () => ({
    nodes: graph().cy.nodes(".highlight").map((node) => node.id()),
    edges: graph().cy.edges(".highlight").map((edge) => edge.id()),
  }),
};

init();
