// Names of clusters and guarantee circles, as the API gives them (what the members share, and how many do),
// in the page's language: a short name for lists and titles, and a line of evidence beside it.

import { money, percent } from "./dom.js";
import { cityName, t } from "./i18n.js";

/**
 * The group's name, e.g. "杭州云帆科技员工"; ``fallback`` when nothing names it. Many groups share a city, so a
 * group named after its city also names ``lead`` (its most central member, as the caller may see it).
 */
export function groupName(naming, fallback, lead = null) {
  const name = naming?.name;
  if (!name) return fallback;
  const text = name.kind === "city" ? cityName(name.text) : name.text;
  if (name.kind === "city" && lead) return t("name.city_lead", { text, lead });
  return t(`name.${name.kind}`, { text });
}

/**
 * A referral cluster's name: what its members share; else its most central member ("Around 宁**": a large
 * cluster often shares no employer, referrer or city enough to be named after it); else its id.
 */
export function clusterName(cluster, leads = 1) {
  const [first, second] = (cluster.central_members ?? []).map((member) => member.name);
  const lead = leads > 1 && second ? t("name.leads", { first, second }) : first;
  return groupName(cluster.naming, lead ? t("name.lead", { lead }) : `${t("clusters.name")} ${cluster.id}`, lead);
}

/**
 * The names of listed clusters, by id, told apart: masked central members often read the same ("王**"), so a
 * name that repeats names the second central member too, and one that still repeats adds the cluster's id.
 * Only what the caller sees is used (masked names, ids).
 */
export function distinctClusterNames(clusters) {
  const names = new Map(clusters.map((cluster) => [cluster.id, clusterName(cluster)]));
  const repeated = () => {
    const counts = new Map();
    for (const name of names.values()) counts.set(name, (counts.get(name) ?? 0) + 1);
    return clusters.filter((cluster) => counts.get(names.get(cluster.id)) > 1);
  };
  for (const cluster of repeated()) names.set(cluster.id, clusterName(cluster, 2));
  for (const cluster of repeated()) names.set(cluster.id, `${names.get(cluster.id)} (${cluster.id})`);
  return names;
}

/** One trait as evidence: "75% of members work for ...", "guarantees 1,000,000, 40% of the circle's amount". */
export function traitLine(trait) {
  const text = trait.kind === "city" ? cityName(trait.text) : trait.text;
  return t(`evidence.${trait.kind}`, { text, share: percent(trait.share), amount: money(trait.amount) });
}

/** The evidence of a name: each trait the API found, strongest first, and how many members were examined. */
export function namingEvidence(naming, size = null) {
  if (!naming?.traits?.length) return "";
  const lines = naming.traits.map(traitLine).join(" · ");
  return size && naming.examined < size ? `${lines} ${t("evidence.examined", { n: naming.examined })}` : lines;
}
