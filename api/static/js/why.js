// Why a product is offered, in the page's language: the parts of its score, then the kinds of tie its evidence
// came through (the side panel's recommendations and the portfolio's opportunities say it the same way).

import { partName, t, tieName } from "./i18n.js";

/** The API's English "why" in the page's language. */
function explain(why, types) {
  if (!why) return "";
  if (types.length) return t("why.tied", { ties: types.map(tieName).join(", ") });
  const signal = /^strongest signal: (.+)$/.exec(why);
  return signal ? t("why.signal", { signal: partName(signal[1]) }) : why;
}

/**
 * One line on where a score comes from: its parts (``item.parts``), then the ties its evidence came through
 * (``types``); the strongest part alone when the evidence names no tie.
 */
export function offerLine(item, types) {
  const why = explain(item.why, types);
  const parts = Object.entries(item.parts ?? {})
    .filter(([name]) => name !== "eligibility") // 1 for every product shown: it explains nothing
    .map(([name, value]) => `${partName(name)} ${value.toFixed(2)}`)
    .join(" · ");
  if (!parts || !types.length) return parts || why;
  return t("why.score", { parts, why });
}
