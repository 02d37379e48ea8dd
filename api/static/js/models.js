// What the panel's scores come from: the churn model analyze fitted (its tie-type weights and its backtest)
// and the cross-sell model, read once from /models (risk and admin tokens).

import { get, session } from "./api.js";
import { h } from "./dom.js";
import { lang, t, tieName } from "./i18n.js";

const SHOWN_WEIGHTS = 5;
let card = null; // one request per page: the card changes only when analyze runs again

async function models() {
  if (!session.may("models:read")) return null;
  card ??= get("/models").catch(() => null);
  return card;
}

const fixed = (value) => (typeof value === "number" ? value.toFixed(2) : "–");
const interval = (range) => (range && range[0] === range[0] ? ` [${fixed(range[0])}, ${fixed(range[1])}]` : "");

/**
 * Why analyze used this churn model. English shows the API's own sentence; Chinese says the same from the card's
 * fields (the months, whether the network terms were kept, the backtest's AUC), since the sentence is not
 * translatable word for word.
 */
function churnReason(churn) {
  if (lang === "en") return churn.reason;
  if (churn.model.startsWith("fitted")) {
    const months = t("model.reason_fitted", { features_as_of: churn.features_as_of, outcomes_until: churn.outcomes_until });
    return churn.network_terms && !churn.network_terms.kept ? `${months}${t("model.reason_terms_left_out")}` : months;
  }
  const auc = churn.backtest?.auc;
  if (churn.features_as_of && auc) {
    return t("model.reason_below_defaults", { features_as_of: churn.features_as_of, fitted: auc.network?.toFixed(3), defaults: auc.default?.toFixed(3) });
  }
  return t("model.reason_too_little");
}

/** The fitted tie weights (largest first) and the backtest beside the churn score; nothing for other roles. */
export async function modelSection() {
  const body = await models();
  const churn = body?.churn;
  if (!churn) return [];
  const section = [h("h4", {}, t("model.title")), h("p", { class: "muted", id: "model-kind" }, `${t(churn.model)}${t("model.reason_separator")}${churnReason(churn)}`)];
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
  if (crossSell) section.push(h("p", { class: "muted", id: "model-cross-sell" }, t("model.cross_sell", { model: t(crossSell.model) })));
  return section;
}
