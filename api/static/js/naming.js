// Names of clusters and guarantee circles, as the API gives them (what the members share, and how many do),
// in the page's language: a short name for lists and titles, and a line of evidence beside it.

import { money, percent } from "./dom.js";
import { t } from "./i18n.js";

/**
 * The group's name, e.g. "杭州云帆科技员工"; ``fallback`` when nothing names it. Many groups share a city, so a
 * group named after its city also names ``lead`` (its most central member, as the caller may see it).
 */
export function groupName(naming, fallback, lead = null) {
  const name = naming?.name;
  if (!name) return fallback;
  if (name.kind === "city" && lead) return t("name.city_lead", { text: name.text, lead });
  return t(`name.${name.kind}`, { text: name.text });
}

/**
 * A referral cluster's name: what its members share; else its most central member ("Around 宁**": a large
 * cluster often shares no employer, referrer or city enough to be named after it); else its id.
 */
export function clusterName(cluster) {
  const lead = cluster.central_members?.[0]?.name;
  return groupName(cluster.naming, lead ? t("name.lead", { lead }) : `${t("clusters.name")} ${cluster.id}`, lead);
}

/** One trait as evidence: "75% of members work for ...", "guarantees 1,000,000, 40% of the circle's amount". */
export function traitLine(trait) {
  return t(`evidence.${trait.kind}`, { text: trait.text, share: percent(trait.share), amount: money(trait.amount) });
}

/** The evidence of a name: each trait the API found, strongest first, and how many members were examined. */
export function namingEvidence(naming, size = null) {
  if (!naming?.traits?.length) return "";
  const lines = naming.traits.map(traitLine).join(" · ");
  return size && naming.examined < size ? `${lines} ${t("evidence.examined", { n: naming.examined })}` : lines;
}
