// Deterministic layouts: the same network always lands in the same place, and no node or label covers another.
//
// Concentric by hop: the centre in the middle, its related customers on ring 1, theirs on ring 2, and so on.
// Each node is treated as a disc that encloses its shape and its label; a ring's radius is the smallest that
// keeps neighbouring discs apart, and rings are spaced by their largest discs. Children follow the order of
// their parents on the ring inside, so that a branch stays together.

const GAP = 6; // model pixels kept free between two discs

const byId = (a, b) => (a.id() < b.id() ? -1 : a.id() > b.id() ? 1 : 0);

/**
 * The smallest disc that holds ``node``'s shape and label: its radius, and the offset of its middle from the
 * node's position (the label hangs below the node). Rings place these discs; the node follows its disc.
 */
function disc(node) {
  const { x, y } = node.position();
  // Not from the cache: it can still hold the box from before the node last moved.
  const box = node.boundingBox({ includeLabels: true, includeOverlays: false, useCache: false });
  return { radius: Math.hypot(box.w, box.h) / 2 + GAP / 2, dx: (box.x1 + box.x2) / 2 - x, dy: (box.y1 + box.y2) / 2 - y };
}

/** The radius of a disc around ``node``'s own position that holds its shape and label (for the centre). */
function reachAround(node) {
  const { radius, dx, dy } = disc(node);
  return radius + Math.hypot(dx, dy);
}

/** Nodes of ``nodes`` by hop from ``center`` (breadth first, neighbours in id order); each with the node it was
 * reached from. */
function hops(nodes, center) {
  const rings = [[center]];
  const parent = new Map([[center.id(), null]]);
  for (let frontier = [center]; frontier.length; ) {
    const next = [];
    for (const node of frontier) {
      for (const neighbour of node.neighborhood("node").intersection(nodes).sort(byId)) {
        if (parent.has(neighbour.id())) continue;
        parent.set(neighbour.id(), node);
        next.push(neighbour);
      }
    }
    if (next.length) rings.push(next);
    frontier = next;
  }
  // Nodes not connected to the centre (none in practice) go on an outer ring of their own.
  const unreached = nodes.filter((node) => !parent.has(node.id())).sort(byId);
  if (unreached.length) rings.push([...unreached]);
  return { rings, parent };
}

/** The tie type that joins ``node`` to ``parent`` (the first in name order), to group siblings by tie. */
function tieTo(node, parent) {
  if (!parent) return "";
  const types = node.edgesWith(parent).map((edge) => edge.data("type") ?? "");
  return types.sort()[0] ?? "";
}

/**
 * Layers by hop from ``center`` (for :func:`layeredPositions`), whatever the ties: each node below the node it was
 * first reached from. The top-down layout picked by hand for a network that is not a hierarchy.
 */
export function hopLayers(nodes, center) {
  const { rings, parent } = hops(nodes, center);
  const parents = new Map(nodes.map((node) => [node.id(), parent.get(node.id()) ? [parent.get(node.id()).id()] : []]));
  return { parents, order: rings.flat().map((node) => node.id()) };
}

/**
 * Place ``nodes`` (in order) on a circle no smaller than ``minRadius``: angles proportional to the space two
 * neighbours need, radius such that the chord between neighbours holds both discs.
 */
function ring(nodes, reaches, minRadius) {
  const n = nodes.length;
  if (n === 1) return { radius: minRadius, angles: [0] };
  const needs = nodes.map((_, i) => reaches[i] + reaches[(i + 1) % n]);
  const total = needs.reduce((sum, need) => sum + need, 0);
  const steps = needs.map((need) => (2 * Math.PI * need) / total);
  let radius = minRadius;
  steps.forEach((step, i) => {
    radius = Math.max(radius, needs[i] / (2 * Math.sin(Math.min(step, Math.PI) / 2)));
  });
  const angles = [0];
  for (let i = 1; i < n; i++) angles.push(angles[i - 1] + steps[i - 1]);
  return { radius, angles };
}

/** The rotation that brings children closest to their parents' angles (their circular mean difference). */
function alignTo(angles, parentAngles) {
  let sin = 0;
  let cos = 0;
  angles.forEach((angle, i) => {
    if (parentAngles[i] === null) return;
    sin += Math.sin(parentAngles[i] - angle);
    cos += Math.cos(parentAngles[i] - angle);
  });
  return sin || cos ? Math.atan2(sin, cos) : -Math.PI / 2;
}

/** Positions of ``nodes`` (a collection holding ``center``) in rings around ``center``, keyed by node id. */
export function concentricPositions(nodes, center) {
  const { rings, parent } = hops(nodes, center);
  const positions = new Map([[center.id(), { x: 0, y: 0 }]]);
  const angleOf = new Map([[center.id(), null]]);
  const indexOf = new Map([[center.id(), 0]]);
  let radius = 0;
  let outerReach = reachAround(center);
  for (const members of rings.slice(1)) {
    const key = (node) => [indexOf.get(parent.get(node.id())?.id()) ?? Infinity, tieTo(node, parent.get(node.id())), node.id()];
    const ordered = [...members].sort((a, b) => {
      const [ka, kb] = [key(a), key(b)];
      for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
      return 0;
    });
    const discs = ordered.map(disc);
    const reaches = discs.map((d) => d.radius);
    const widest = Math.max(...reaches);
    const placed = ring(ordered, reaches, radius + outerReach + widest);
    const parentAngles = ordered.map((node) => angleOf.get(parent.get(node.id())?.id()) ?? null);
    const turn = alignTo(placed.angles, parentAngles);
    ordered.forEach((node, i) => {
      const angle = placed.angles[i] + turn;
      const { dx, dy } = discs[i];
      positions.set(node.id(), { x: placed.radius * Math.cos(angle) - dx, y: placed.radius * Math.sin(angle) - dy });
      angleOf.set(node.id(), angle);
      indexOf.set(node.id(), i);
    });
    radius = placed.radius;
    outerReach = widest;
  }
  return positions;
}

/** Positions of ``nodes`` (in order) on one circle, discs apart: a guarantee cycle, or a start for clusters. */
export function circlePositions(nodes) {
  const discs = nodes.map(disc);
  const reaches = discs.map((d) => d.radius);
  const placed = ring(nodes, reaches, Math.max(...reaches, 0));
  const positions = new Map();
  nodes.forEach((node, i) => {
    const angle = placed.angles[i] - Math.PI / 2;
    const { dx, dy } = discs[i];
    positions.set(node.id(), { x: placed.radius * Math.cos(angle) - dx, y: placed.radius * Math.sin(angle) - dy });
  });
  return positions;
}

// Ties that rank one party above the other, drawn top-down: the owner above what it holds, the parent company above
// its subsidiary, the legal representative and director above their company, the guarantor above the borrower.
const DOWNWARD = { SHAREHOLDER_OF: 1, LEGAL_REP_OF: 1, DIRECTOR_OF: 1, GUARANTEES: 1, SUBSIDIARY_OF: -1 };
const LAYER_GAP = 50; // model pixels between two layers' boxes

/**
 * For ``nodes`` joined only by ranking ties (and "N more" markers) without a cycle: each node's parents (the nodes
 * drawn above it), else null. A guarantee circle or a family tie makes the shape something else.
 */
export function hierarchy(nodes) {
  const edges = nodes.edgesWith(nodes);
  const ranked = edges.filter((edge) => !edge.data("more"));
  if (ranked.empty() || ranked.some((edge) => !DOWNWARD[edge.data("type")])) return null;
  const parents = new Map(nodes.map((node) => [node.id(), []]));
  for (const edge of edges) {
    const down = edge.data("more") ? 1 : DOWNWARD[edge.data("type")];
    const [upper, lower] = down > 0 ? [edge.source(), edge.target()] : [edge.target(), edge.source()];
    parents.get(lower.id()).push(upper.id());
  }
  // Kahn's order: a node whose parents are all placed comes next; nodes left over sit on a cycle.
  const waiting = new Map([...parents].map(([id, above]) => [id, new Set(above).size]));
  const children = new Map(nodes.map((node) => [node.id(), new Set()]));
  for (const [id, above] of parents) for (const upper of above) children.get(upper).add(id);
  const order = [...waiting].filter(([, count]) => count === 0).map(([id]) => id).sort();
  for (let i = 0; i < order.length; i++) {
    for (const child of [...children.get(order[i])].sort()) {
      waiting.set(child, waiting.get(child) - 1);
      if (waiting.get(child) === 0) order.push(child);
    }
  }
  return order.length === nodes.length ? { parents, order } : null;
}

/**
 * Positions of ``nodes`` in layers, top-down (``shape`` from :func:`hierarchy`): a node one layer below its lowest
 * parent, each layer in the order of its parents' places (then by id), boxes side by side with labels included.
 */
export function layeredPositions(nodes, { parents, order }) {
  const layerOf = new Map();
  for (const id of order) layerOf.set(id, Math.max(-1, ...parents.get(id).map((upper) => layerOf.get(upper))) + 1);
  const layers = [];
  for (const id of order) (layers[layerOf.get(id)] ??= []).push(id);
  const byId = new Map(nodes.map((node) => [node.id(), node]));
  const place = new Map(); // id -> index within its layer
  const positions = new Map();
  let top = 0;
  for (const layer of layers) {
    const key = (id) => {
      const above = parents.get(id).map((upper) => place.get(upper));
      return above.length ? above.reduce((sum, index) => sum + index, 0) / above.length : -1;
    };
    layer.sort((a, b) => key(a) - key(b) || (a < b ? -1 : a > b ? 1 : 0));
    const boxes = layer.map((id) => byId.get(id).boundingBox({ includeLabels: true, includeOverlays: false, useCache: false }));
    const width = boxes.reduce((sum, box) => sum + box.w + GAP, -GAP);
    const height = Math.max(...boxes.map((box) => box.h));
    let left = -width / 2;
    layer.forEach((id, index) => {
      const node = byId.get(id);
      const box = boxes[index];
      const { x, y } = node.position();
      // The box's top-left corner goes to (left, top); the node keeps its place within its box.
      positions.set(id, { x: left + (x - box.x1), y: top + (y - box.y1) });
      place.set(id, index);
      left += box.w + GAP;
    });
    top += height + LAYER_GAP;
  }
  return positions;
}
