// What the panel's scores come from: the churn model analyze fitted (its tie-type weights and its backtest)
// and the cross-sell model, read once from /models (risk and admin tokens).

import { get, session } from "./api.js";
import { h } from "./dom.js";
import { t, tieName } from "./i18n.js";

const SHOWN_WEIGHTS = 5;
let card = null; // one request per page: the card changes only when analyze runs again

async function models() {
  if (!session.may("models:read")) return null;
  card ??= get("/models").catch(() => null);
  return card;
}

const fixed = (value) => (typeof value === "number" ? value.toFixed(2) : "–");
const interval = (range) => (range && range[0] === range[0] ? ` [${fixed(range[0])}, ${fixed(range[1])}]` : "");

/** The fitted tie weights (largest first) and the backtest beside the churn score; nothing for other roles. */
export async function modelSection() {
  const body = await models();
  const churn = body?.churn;
  if (!churn) return [];
  const section = [h("h4", {}, t("model.title")), h("p", { class: "muted", id: "model-kind" }, `${churn.model}: ${churn.reason}`)];
  const weights = Object.entries(churn.tie_weights ?? {})
    .filter(([, weight]) => weight > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, SHOWN_WEIGHTS);
  if (weights.length) {
    section.push(
      h("p", {}, t("model.tie_weights")),
      h(
        "ul",
        { class: "evidence", id: "model-tie-weights" },
        weights.map(([type, weight]) => h("li", { dataset: { tie: type } }, h("span", { class: "score" }, `+${fixed(weight)}`), tieName(type))),
      ),
    );
  }
  const lift = churn.backtest?.lift_at_5pct;
  if (lift) {
    const auc = churn.backtest.auc ?? {};
    section.push(
      h(
        "p",
        { id: "model-backtest" },
        t("model.backtest", {
          own: fixed(lift.own),
          network: fixed(lift.network),
          ratio: `${fixed(lift.ratio)}${interval(lift.ratio_ci)}`,
          auc_own: fixed(auc.own),
          auc_network: fixed(auc.network),
        }),
      ),
    );
  }
  const crossSell = body.cross_sell;
  if (crossSell) section.push(h("p", { class: "muted", id: "model-cross-sell" }, t("model.cross_sell", { model: crossSell.model })));
  return section;
}
