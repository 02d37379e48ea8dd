// The side panel: customer 360, recommendations and churn-risk contributors (each highlighted on the
// graph when hovered or clicked), and the household and corporate-group rollups.

import { enc, get, session } from "./api.js";
import { $, clear, h, money, percent, riskBar } from "./dom.js";
import { nodeOf, pointsOneWay, TIE_COLOURS } from "./graph.js";
import { graph } from "./explorer.js";
import { cityName, industryName, onLanguageChange, segmentName, stageName, statusName, t, tieName, tierName } from "./i18n.js";
import { modelSection } from "./models.js";
import { productName } from "./products.js";
import { contactForm, mayLogContacts } from "./contact.js";
import { pathButtons } from "./paths.js";
import { report } from "./status.js";
import { offerLine } from "./why.js";

const TIE_TYPES = Object.keys(TIE_COLOURS);
let last = null; // what the panel shows, to redraw it in another language

function facts(customer) {
  const rows = [
    ["field.segment", customer.segment && segmentName(customer.segment)],
    ["field.city", cityName(customer.city)],
    ["field.status", customer.status && statusName(customer.status)],
    ["field.stage", customer.lifecycle_stage && stageName(customer.lifecycle_stage)],
    ["field.aum", customer.aum !== null ? money(customer.aum) : null],
    ["field.deposits", customer.deposits !== null ? money(customer.deposits) : null],
    ["field.loans", customer.loans !== null ? money(customer.loans) : null],
    ["field.phone", customer.phone_masked],
    ["field.birth_year", customer.birth_year],
    ["field.since", customer.customer_since],
    ["field.industry", customer.industry && industryName(customer.industry)],
    ["field.credit_code", customer.credit_code],
  ].filter(([, value]) => value !== null && value !== undefined);
  return h("dl", { class: "facts" }, rows.map(([key, value]) => [h("dt", {}, t(key)), h("dd", {}, value)]));
}

/** Hover previews a highlight; click pins it (click again to release). */
function evidenceItem(content, light) {
  const item = h("li", {}, content);
  item.addEventListener("mouseenter", light);
  item.addEventListener("mouseleave", () => {
    if (!item.classList.contains("selected")) graph().clearHighlight();
    else light();
  });
  item.addEventListener("click", () => {
    const pinned = !item.classList.contains("selected");
    for (const other of item.parentElement.children) other.classList.remove("selected");
    item.classList.toggle("selected", pinned);
    if (pinned) light();
    else graph().clearHighlight();
  });
  return item;
}

/** One line on a churn risk: own and network shares, and the contributor that weighs most. */
function churnLine(body) {
  const top = body.contributors[0];
  const own = percent(body.churn_risk_own);
  const network = percent(body.churn_risk_network);
  if (!top) return t("why.churn_alone", { own, network });
  const name = top.node?.name ?? top.stub?.name ?? top.customer?.name ?? "";
  return t("why.churn", { own, network, name, tie: tieName(top.tie_type), share: percent(top.share) });
}

function recommendations(customerId, body) {
  const section = [h("h3", {}, t("panel.recommendations"))];
  if (!body.recommendations.length) {
    section.push(h("p", { class: "muted", id: "no-recommendations" }, t(body.reason ?? "panel.no_recommendations")));
    return section;
  }
  const list = h("ol", { class: "evidence", id: "recommendations" });
  for (const item of body.recommendations) {
    const types = [...new Set(item.evidence.flatMap((path) => path.ties))].filter((type) => TIE_TYPES.includes(type));
    // The evidence paths name each customer as the graph draws it (real id or stub id): light exactly those.
    const light = () => {
      const g = graph();
      const drawn = g.addPaths(item.evidence);
      g.highlight(drawn.nodes.length ? drawn.nodes : [customerId], drawn.edges);
    };
    const entry = evidenceItem(
      [
        h("span", { class: "score", dataset: { score: item.score } }, item.score?.toFixed(3) ?? "–"),
        h("strong", { class: "product", dataset: { product: item.product_code } }, productName(item.product_code, item.product_name)),
        h("span", { class: "why" }, offerLine(item, types)),
      ],
      light,
    );
    entry.dataset.ties = types.join(" ");
    entry.dataset.paths = String(item.evidence.length);
    list.append(entry);
  }
  section.push(list);
  return section;
}

function churn(customerId, body) {
  const section = [
    h("h3", {}, t("panel.churn"), " ", percent(body.churn_risk), riskBar(body.churn_risk)),
    h("p", { id: "churn-why" }, churnLine(body)),
  ];
  if (!body.contributors.length) return section;
  section.push(h("h4", {}, t("panel.contributors")));
  const list = h("ul", { class: "evidence", id: "churn-contributors" });
  for (const contributor of body.contributors) {
    const ref = contributor.node ?? { id: contributor.stub?.opaque_id ?? contributor.customer?.id, name: contributor.stub?.name, stub: true };
    const light = () => {
      const drawn = graph().addPaths([{ nodes: [{ id: customerId }, ref], ties: [contributor.tie_type ?? "MEMBER"] }]);
      graph().highlight(drawn.nodes, drawn.edges);
    };
    const entry = evidenceItem(
      [h("span", { class: "score" }, percent(contributor.share)), ref.name ?? "", " · ", tieName(contributor.tie_type)],
      light,
    );
    entry.dataset.node = ref.id;
    list.append(entry);
  }
  section.push(list);
  return section;
}

async function members(customerId, kind) {
  const panel = $("#side-panel");
  const old = panel.querySelector(".members");
  old?.remove();
  const body = await get(`/customers/${enc(customerId)}/${kind}`);
  const g = graph();
  const ids = [customerId];
  const rows = body.members.map((member) => {
    const node = nodeOf(member);
    const before = g.cy.nodes().length;
    g.addNode(node);
    if (g.cy.nodes().length !== before) g.layoutPending = true;
    ids.push(node.id);
    return h(
      "tr",
      {},
      h("td", {}, node.name ?? ""),
      h("td", {}, member.customer ? tierName(member.customer.tier) : "–"),
      h("td", { class: "num" }, member.customer ? money(member.customer.aum) : "–"),
    );
  });
  // The ties that join the group, each the way it points (a parent to the child, a holder to the company); an
  // edge from the anchor to every member would invent ties and directions.
  for (const tie of body.ties) g.addEdge(tie.source, tie.target, tie.type, { directed: pointsOneWay(tie.type) });
  if (g.layoutPending) {
    g.layout();
    g.layoutPending = false;
  }
  g.highlight(ids);
  const total =
    body.total_aum === null
      ? h("p", { class: "muted" }, t("panel.total_hidden"))
      : h("p", {}, `${t("panel.total_aum")}: `, h("strong", { class: "total-aum" }, money(body.total_aum)));
  panel.append(
    h(
      "div",
      { class: "members", id: `${kind}-view` },
      h("h3", {}, t(kind === "household" ? "panel.household_title" : "panel.group_title"), ` (${body.members.length + 1})`),
      total,
      h("table", { class: "table" }, h("tbody", {}, rows)),
    ),
  );
}

/** A picker that expands the customer through one tie type, listing the types it has with their counts. */
function expandByType(customerId, counts, actions) {
  const types = TIE_TYPES.filter((type) => counts[type]);
  if (!types.length) return null;
  const select = h(
    "select",
    { id: "expand-type", "aria-label": t("panel.expand_type") },
    h("option", { value: "", selected: true }, t("panel.expand_type")),
    types.map((type) => h("option", { value: type }, `${tieName(type)} (${counts[type]})`)),
  );
  select.addEventListener("change", async () => {
    const type = select.value;
    if (!type) return;
    await actions.expand(customerId, type);
    select.value = "";
    refreshCollapse(customerId, actions);
  });
  return select;
}

/** Hide what hangs off the customer in the graph, or show it again. */
function collapseButton(customerId, actions) {
  const button = h("button", { type: "button", id: "collapse" });
  const label = () => {
    button.textContent = t(actions.isCollapsed(customerId) ? "panel.uncollapse" : "panel.collapse");
  };
  button.addEventListener("click", () => {
    actions.collapse(customerId);
    label();
  });
  label();
  return button;
}

function refreshCollapse(customerId, actions) {
  const button = $("#side-panel #collapse");
  if (button && $("#side-panel").dataset.customerId === customerId) {
    button.textContent = t(actions.isCollapsed(customerId) ? "panel.uncollapse" : "panel.collapse");
  }
}

/** Put the paths found right under the panel's actions, replacing those shown before. */
function showPaths(section) {
  const panel = $("#side-panel");
  panel.querySelector("#paths-view")?.remove();
  (panel.querySelector(".contact-form") ?? panel.querySelector(".actions")).after(section);
}

/** Open (or close) the form that logs a contact with the customer, right under the panel's actions. */
function toggleContact(customerId) {
  const panel = $("#side-panel");
  const open = panel.querySelector(".contact-form");
  if (open) {
    open.remove();
    return;
  }
  const form = contactForm(customerId);
  panel.querySelector(".actions").after(form);
  form.querySelector("textarea").focus();
}

/** Show one customer (or a stub) in the panel; ``actions`` holds the graph's expand and recenter, and
 * ``contact: true`` opens the form that logs a contact with the customer. */
export async function showCustomer(customerId, actions) {
  last = [customerId, actions];
  const panel = clear($("#side-panel"));
  if (!customerId) {
    panel.append(h("h2", {}, actions.stub?.name ?? ""), h("p", { class: "muted" }, t("panel.stub")));
    return;
  }
  panel.append(h("p", {}, t("loading")));
  try {
    const [profile, recos, risk, model] = await Promise.all([
      get(`/customers/${enc(customerId)}`),
      session.may("recommendations:read") ? get(`/customers/${enc(customerId)}/recommendations`) : null,
      session.may("churn:read") ? get(`/customers/${enc(customerId)}/churn-risk`).catch(() => null) : null,
      modelSection(),
    ]);
    if (last[0] !== customerId) return; // another customer was chosen meanwhile
    const c = profile.customer;
    clear(panel).dataset.customerId = customerId;
    panel.append(
      h("h2", { id: "panel-name" }, c.name ?? c.id),
      h(
        "p",
        {},
        h("span", { class: "badge" }, t(`kind.${c.kind}`)),
        c.tier ? h("span", { class: "badge" }, tierName(c.tier)) : null,
        h("span", { class: "badge" }, c.id),
      ),
      facts(c),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            id: "expand",
            onclick: async () => {
              await actions.expand(customerId);
              refreshCollapse(customerId, actions);
            },
          },
          t("panel.expand"),
        ),
        h("button", { type: "button", onclick: () => actions.recenter(customerId) }, t("panel.center")),
        expandByType(customerId, profile.tie_counts ?? {}, actions),
        collapseButton(customerId, actions),
        h("button", { type: "button", id: "show-household", onclick: () => members(customerId, "household").catch(report) }, t("panel.household")),
        h("button", { type: "button", id: "show-group", onclick: () => members(customerId, "group").catch(report) }, t("panel.group")),
        mayLogContacts() ? h("button", { type: "button", id: "log-contact", onclick: () => toggleContact(customerId) }, t("contact.log")) : null,
        pathButtons({ id: customerId, name: c.name ?? c.id }, { graph, show: showPaths, item: evidenceItem, report }),
      ),
    );
    if (actions.contact && mayLogContacts()) toggleContact(customerId);
    if (risk) panel.append(...churn(customerId, risk), ...model);
    if (recos) panel.append(...recommendations(customerId, recos));
    if (profile.accounts.length) {
      panel.append(
        h("h3", {}, t("panel.accounts")),
        h(
          "table",
          { class: "table" },
          h(
            "tbody",
            {},
            profile.accounts.map((account) =>
              h("tr", {}, h("td", { dataset: { product: account.product_id ?? "" } }, productName(account.product_id)), h("td", {}, account.status ? statusName(account.status) : ""), h("td", { class: "num" }, money(account.balance))),
            ),
          ),
        ),
      );
    }
  } catch (error) {
    clear(panel);
    report(error);
  }
}

onLanguageChange(() => {
  if (last) showCustomer(...last);
});
