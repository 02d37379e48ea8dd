// The landing view, one card per thing the role looks at first: a manager's book at a glance (customers most at
// risk, overdue follow-ups, best opportunities), marketing's largest clusters, risk's largest guarantee circles.
// Each line opens what it names; each card leads on to its full view.

import { enc, get } from "./api.js";
import { $, clear, h, money, percent } from "./dom.js";
import { onLanguageChange, t } from "./i18n.js";
import { distinctClusterNames, groupName, namingEvidence } from "./naming.js";
import { productName } from "./products.js";
import { nodeOf } from "./graph.js";

const SHOWN = 5; // lines per card
let cards = null; // what the cards show: {book, clusters, circles}, each null when the role has no such card
let actions = null; // {openCustomer(customerId), openView(name), showCluster(id), showCircle(circle)}

function card(id, title, more, ...content) {
  return h(
    "div",
    { class: "card", id },
    h("h3", {}, title),
    ...content,
    more ? h("button", { type: "button", class: "more", onclick: more }, t("home.more")) : null,
  );
}

/** A list of lines, each opening what it names. */
function lines(id, items, render, open) {
  if (!items.length) return h("p", { class: "muted" }, t("portfolio.none"));
  return h(
    "ul",
    { class: "home-list", id },
    items.map((item) => h("li", {}, h("button", { type: "button", class: "link", onclick: () => open(item) }, ...render(item)))),
  );
}

function bookCard(book) {
  const open = (customerId) => actions.openCustomer(customerId);
  return card(
    "home-book",
    t("home.book", { name: book.manager.name ?? book.manager.id, n: book.customers }),
    () => actions.openView("portfolio"),
    h("p", { class: "muted" }, t("portfolio.as_of", { date: book.as_of })),
    h("h4", {}, `${t("portfolio.at_risk", { t: percent(book.risk_threshold) })} · ${book.at_risk_total}`),
    lines(
      "home-at-risk",
      book.at_risk.slice(0, SHOWN),
      (c) => [c.name ?? c.id, h("small", {}, `${percent(c.churn_risk)} · ${t("portfolio.expected_loss")} ${money(c.expected_loss)}`)],
      (c) => open(c.id),
    ),
    h("h4", {}, `${t("portfolio.overdue")} · ${book.overdue_total}`),
    lines(
      "home-overdue",
      book.overdue_follow_ups.slice(0, SHOWN),
      (f) => [f.customer_name ?? f.customer_id, h("small", {}, t("home.days_overdue", { n: f.days_overdue }))],
      (f) => open(f.customer_id),
    ),
    h("h4", {}, t("portfolio.opportunities")),
    lines(
      "home-opportunities",
      book.opportunities.slice(0, SHOWN),
      (o) => [o.customer_name ?? o.customer_id, h("small", {}, `${productName(o.product_code, o.product_name)} · ${t("field.score")} ${o.score.toFixed(2)}`)],
      (o) => open(o.customer_id),
    ),
  );
}

function clustersCard(page) {
  const names = distinctClusterNames(page.items);
  return card(
    "home-clusters",
    t("home.clusters", { n: page.total }),
    () => actions.openView("marketing"),
    lines(
      "home-cluster-list",
      page.items,
      (c) => [
        names.get(c.id),
        h("small", {}, `${t("home.members", { n: c.size })} · ${t("field.aum")} ${money(c.total_aum)} · ${namingEvidence(c.naming, c.size)}`),
      ],
      (c) => actions.showCluster(c.id),
    ),
  );
}

function circlesCard(page) {
  return card(
    "home-circles",
    t("home.circles", { n: page.total }),
    () => actions.openView("circles"),
    lines(
      "home-circle-list",
      page.items,
      (c) => [
        groupName(c.naming, c.members.map((member) => nodeOf(member).name).join(" → ")),
        h("small", {}, `${t("home.members", { n: c.members.length })} · ${t("circles.exposure", { amount: money(c.total_exposure) })}`),
      ],
      (c) => actions.showCircle(c),
    ),
  );
}

function render() {
  const board = clear($("#home"));
  if (!cards) return;
  const shown = [
    cards.book && bookCard(cards.book),
    cards.clusters && clustersCard(cards.clusters),
    cards.circles && circlesCard(cards.circles),
  ].filter(Boolean);
  board.append(...(shown.length ? shown : [h("p", { class: "muted" }, t("home.nothing"))]));
}

/** Read what the role's cards show (each only when the token may read it) and draw them. */
export async function openHome(session, viewActions) {
  actions = viewActions;
  const managerId = session.me.manager_id;
  const [book, clusters, circles] = await Promise.all([
    managerId && session.may("portfolio:read:own") ? get(`/managers/${enc(managerId)}/portfolio`, { top: SHOWN }) : null,
    session.may("clusters:read") ? get("/clusters", { page_size: SHOWN }) : null,
    session.may("guarantee-circles:read") ? get("/guarantee-circles", { page_size: SHOWN, order: "exposure" }) : null,
  ]);
  cards = { book, clusters, circles };
  render();
}

onLanguageChange(render);
