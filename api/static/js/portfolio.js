// The manager's dashboard: book size, customers by tier and lifecycle stage, the most at-risk customers
// overdue follow-ups and the best open cross-sell opportunities. Managers see their own book; a token with portfolio:read:all picks a manager.

import { enc, get } from "./api.js";
import { $, clear, h, money, riskBar, percent } from "./dom.js";
import { barChart } from "./charts.js";
import { channelName, onLanguageChange, stageName, t, tierName } from "./i18n.js";
import { contactForm, mayLogContacts } from "./contact.js";
import { productName } from "./products.js";
import { report } from "./status.js";
import { offerLine } from "./why.js";

const TIER_ORDER = ["private_banking", "diamond", "platinum", "gold", "silver", "standard"];
const STAGE_ORDER = ["acquisition", "growth", "maturity", "decline", "churned"];
let body = null;
let openCustomer = null;
let managerId = null;
let kept = null; // the customer whose follow-up was just logged, to say so once the book is read again
let stale = false; // a contact was logged elsewhere (panel, graph): the book must be read again

function ordered(counts, order) {
  const keys = [...order.filter((key) => key in counts), ...Object.keys(counts).filter((key) => !order.includes(key))];
  return keys.map((key) => [key, counts[key]]);
}

function card(title, ...content) {
  return h("div", { class: "card" }, h("h3", {}, title), ...content);
}

async function openById(customerId) {
  try {
    const profile = await get(`/customers/${enc(customerId)}`);
    await openCustomer?.(profile.customer);
  } catch (error) {
    report(error);
  }
}

function opportunities() {
  if (!body.opportunities.length) return h("p", { id: "no-opportunities" }, t("portfolio.no_opportunities"));
  return h(
    "table",
    { class: "table", id: "opportunities" },
    h(
      "thead",
      {},
      h("tr", {}, ["field.customer", "field.product"].map((key) => h("th", {}, t(key))), h("th", { class: "num" }, t("field.score")), h("th", {}, t("portfolio.why"))),
    ),
    h(
      "tbody",
      {},
      body.opportunities.map((item) =>
        h(
          "tr",
          {
            class: "clickable",
            dataset: { customerId: item.customer_id, product: item.product_code, score: item.score },
            onclick: () => openById(item.customer_id),
          },
          h("td", {}, item.customer_name ?? item.customer_id),
          h("td", {}, productName(item.product_code, item.product_name)),
          h("td", { class: "num" }, item.score.toFixed(3)),
          h("td", { class: "why" }, offerLine(item, item.evidence_ties ?? [])),
        ),
      ),
    ),
  );
}

/** The overdue follow-ups, each with a button that opens a form to log the contact that keeps it. */
function overdue() {
  if (!body.overdue_follow_ups.length) return h("p", {}, t("portfolio.none"));
  const headings = ["field.customer", "field.channel", "field.due"].map((key) => h("th", {}, t(key)));
  const rows = body.overdue_follow_ups.map((item) => {
    const name = item.customer_name ?? item.customer_id;
    const row = h(
      "tr",
      { dataset: { interactionId: item.interaction_id, customerId: item.customer_id } },
      h("td", {}, h("button", { type: "button", class: "link", onclick: () => openById(item.customer_id) }, name)),
      h("td", {}, item.channel ? channelName(item.channel) : ""),
      h("td", {}, item.due),
      h("td", { class: "num" }, item.days_overdue),
      h("td", {}, mayLogContacts() ? h("button", { type: "button", class: "keep", onclick: () => toggleForm(row, item, name) }, t("portfolio.keep")) : null),
    );
    return row;
  });
  // A book can owe a hundred follow-ups: the table scrolls in its card (headings kept) instead of the page.
  return h(
    "div",
    { class: "scroll-list" },
    h(
      "table",
      { class: "table", id: "overdue" },
      h("thead", {}, h("tr", {}, headings, h("th", { class: "num" }, t("field.overdue")), h("th", {}))),
      h("tbody", {}, rows),
    ),
  );
}

function toggleForm(row, item, name) {
  const open = row.nextElementSibling?.classList.contains("contact-row");
  for (const other of document.querySelectorAll("#overdue .contact-row")) other.remove();
  if (open) return;
  const form = contactForm(item.customer_id, {
    channel: item.channel,
    onLogged: async () => {
      kept = name;
      await load(managerId);
    },
  });
  row.after(h("tr", { class: "contact-row" }, h("td", { colspan: 5 }, form)));
  form.querySelector("textarea").focus();
}

function render() {
  const board = clear($("#portfolio"));
  if (!body) return;
  board.append(
    card(
      t("portfolio.customers"),
      h("div", { class: "big-number", id: "book-size" }, body.customers),
      h("p", {}, body.manager.name ?? body.manager.id),
      // Overdue days count from the day the data describe, which is not the calendar's today in a demo bank.
      h("p", { class: "muted", id: "as-of" }, t("portfolio.as_of", { date: body.as_of })),
    ),
    card(
      t("portfolio.by_tier"),
      barChart(ordered(body.by_tier, TIER_ORDER).map(([tier, count]) => ({ label: tierName(tier), value: count })), { colour: "#c9a227" }),
    ),
    card(
      t("portfolio.by_stage"),
      barChart(ordered(body.by_lifecycle_stage, STAGE_ORDER).map(([stage, count]) => ({ label: stageName(stage), value: count })), { colour: "#00897b" }),
    ),
    card(
      `${t("portfolio.at_risk", { t: percent(body.risk_threshold) })} · ${body.at_risk_total}`,
      h("p", { class: "muted" }, t("portfolio.ranked_by_loss")),
      h(
        "table",
        { class: "table", id: "at-risk", dataset: { threshold: body.risk_threshold } },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", {}, t("field.customer")),
            h("th", {}, t("field.tier")),
            h("th", { class: "num" }, t("field.risk")),
            h("th", { class: "num" }, t("portfolio.value")),
            h("th", { class: "num" }, t("portfolio.expected_loss")),
          ),
        ),
        h(
          "tbody",
          {},
          body.at_risk.map((customer) =>
            h(
              "tr",
              { class: "clickable", dataset: { customerId: customer.id, expectedLoss: customer.expected_loss }, onclick: () => openCustomer?.(customer) },
              h("td", {}, customer.name ?? customer.id),
              h("td", {}, tierName(customer.tier)),
              h("td", { class: "num" }, percent(customer.churn_risk), riskBar(customer.churn_risk)),
              h("td", { class: "num" }, money(customer.value)),
              h("td", { class: "num" }, h("strong", {}, money(customer.expected_loss))),
            ),
          ),
        ),
      ),
    ),
    card(
      `${t("portfolio.opportunities")} · ${body.opportunities.length}`,
      body.opportunities.length ? h("p", { class: "muted", id: "opportunities-order" }, t("portfolio.ranked_diverse")) : null,
      opportunities(),
    ),
    card(`${t("portfolio.overdue")} · ${body.overdue_total}`, kept ? h("p", { id: "follow-up-kept", role: "status" }, t("portfolio.kept", { name: kept })) : null, overdue()),
  );
}

async function load(id) {
  if (id !== managerId) kept = null;
  managerId = id;
  stale = false;
  try {
    body = await get(`/managers/${enc(id)}/portfolio`, { top: 15, risk_threshold: $("#risk-threshold").value });
  } catch (error) {
    body = null;
    report(error);
  }
  render();
}

export async function openPortfolio(session, onCustomer) {
  openCustomer = onCustomer;
  const threshold = $("#risk-threshold");
  if (!threshold.dataset.wired) {
    threshold.dataset.wired = "yes";
    threshold.addEventListener("change", () => load(managerId));
  }
  if (session.me.manager_id) {
    $("#manager-pick").hidden = true;
    if (!body || stale) await load(session.me.manager_id);
    return;
  }
  if (!session.may("managers:read")) return;
  const select = $("#manager-select");
  if (!select.options.length) {
    const managers = (await get("/managers", { page_size: 200 })).items;
    for (const manager of managers) select.append(h("option", { value: manager.id }, `${manager.name ?? manager.id} (${manager.customers ?? 0})`));
    select.addEventListener("change", () => {
      kept = null;
      load(select.value);
    });
    $("#manager-pick").hidden = false;
    if (managers.length) await load(managers[0].id);
  }
}

onLanguageChange(render);
document.addEventListener("contact-logged", () => {
  stale = true;
});
