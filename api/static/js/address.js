// The page's state in the address after "#" (view, centre, depth, tie types, layout), so that a view can be
// bookmarked, reloaded and shared. Only ids travel: who opens the link sees what his own token allows, nothing more.

import { LAYOUTS } from "./graph.js";

const KEYS = ["view", "center", "depth", "ties", "layout"];

/** The state the address holds: ``{view, center, depth, ties, layout}``, each null when absent. */
export function readAddress() {
  const params = new URLSearchParams(location.hash.slice(1));
  const depth = Number(params.get("depth"));
  return {
    view: params.get("view"),
    center: params.get("center"),
    depth: [1, 2, 3].includes(depth) ? depth : null,
    ties: params.has("ties") ? params.get("ties").split(",").filter(Boolean) : null,
    layout: LAYOUTS.includes(params.get("layout")) && params.get("layout") !== "auto" ? params.get("layout") : null,
  };
}

/** Record ``state`` (the keys given; null removes one) without adding a history entry per click. */
export function writeAddress(state) {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const key of KEYS) {
    if (!(key in state)) continue;
    if (state[key] === null || state[key] === undefined) params.delete(key);
    else params.set(key, String(state[key]));
  }
  history.replaceState(null, "", `#${params}`);
}
