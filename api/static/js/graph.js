// Drawing customer networks with cytoscape.js: persons round, companies square, tier as label and border,
// churn risk as fill colour, ties coloured by type, masked stubs grey and dashed, "N more" for dense nodes.

import cytoscape from "/vendor/cytoscape.esm.min.mjs";
import { h, money, riskColour } from "./dom.js";
import { onLanguageChange, t, tieName, tierName } from "./i18n.js";
import { circlePositions, concentricPositions, hierarchy, hopLayers, layeredPositions } from "./layout.js";

/** Layouts a user may pick; "auto" chooses by the network's shape. */
export const LAYOUTS = ["auto", "rings", "layers", "force"];

const FONT_PX = 14; // node labels; the centre's a little larger
const MIN_LABEL_PX = 11; // a label smaller than this on screen is not drawn: fewer labels, never tiny ones
const LEGIBLE_ZOOM = MIN_LABEL_PX / FONT_PX;
const MAX_FIT_ZOOM = 1.2; // a graph of three nodes is not blown up to fill the view
const PADDING = 30;
const RING_MARGIN = 40; // room for a label beyond a ring's nodes

export const TIE_COLOURS = {
  SPOUSE_OF: "#d81b60",
  PARENT_OF: "#8e24aa",
  SIBLING_OF: "#5e35b1",
  RELATIVE_OF: "#ab47bc",
  SHAREHOLDER_OF: "#1e88e5",
  LEGAL_REP_OF: "#3949ab",
  DIRECTOR_OF: "#00897b",
  EMPLOYED_BY: "#43a047",
  SUBSIDIARY_OF: "#0277bd",
  SUPPLIES: "#6d4c41",
  GUARANTEES: "#e53935",
  REFERRED: "#fb8c00",
  BANKED_AT: "#5c6bc0",
  MEMBER: "#90a4ae",
};

/** Ties from a customer to a branch: drawn only when asked, to branch nodes (not customers). */
export const BANKED_AT = "BANKED_AT";

// Ties that read the same both ways: drawn without an arrow.
const SYMMETRIC = new Set(["SPOUSE_OF", "SIBLING_OF", "RELATIVE_OF", "MEMBER"]);

/** Whether a tie of ``type`` points one way (drawn with an arrow). */
export const pointsOneWay = (type) => !SYMMETRIC.has(type);

/** A pointed tie's label: its type, then what the parties signed (amount, share, since when) where known. */
export function tieLabel(edge) {
  const { type, amount, ratio, since } = edge.data();
  const details = [
    amount !== null && amount !== undefined ? t("tie.amount", { amount: money(amount) }) : null,
    ratio !== null && ratio !== undefined ? t("tie.ratio", { ratio: `${(ratio * 100).toFixed(1).replace(/\.0$/, "")}%` }) : null,
    since ? t("tie.since", { since: since.slice(0, 10) }) : null,
  ].filter(Boolean);
  return [tieName(type), ...details].join("\n");
}

const TIER_BORDERS = {
  private_banking: ["#212121", 6],
  diamond: ["#00838f", 5],
  platinum: ["#546e7a", 4],
  gold: ["#c9a227", 4],
  silver: ["#9e9e9e", 3],
  standard: ["#cfd8dc", 1],
};

// A name per node; the tier only under the centre's (the border keys it everywhere): short labels fit the rings.
// A node whose neighbours are hidden says how many.
function nodeLabel(data) {
  if (data.more) return t("graph.more", { n: data.more });
  const tier = data.center && data.tier ? `\n${tierName(data.tier)}` : "";
  const hidden = data.collapsed ? ` ${t("graph.collapsed", { n: data.collapsed })}` : "";
  return `${data.name ?? ""}${hidden}${tier}`;
}

const STYLE = [
  {
    selector: "node",
    style: {
      label: (node) => nodeLabel(node.data()),
      "text-wrap": "wrap",
      "text-valign": "bottom",
      "text-margin-y": 4,
      "font-size": FONT_PX,
      "min-zoomed-font-size": MIN_LABEL_PX,
      "text-background-color": "#fff",
      "text-background-opacity": 0.85,
      "text-background-padding": 1,
      "font-family": getComputedStyle(document.documentElement).fontFamily,
      width: 30,
      height: 30,
      "background-color": (node) => riskColour(node.data("churn")),
      "border-color": (node) => (TIER_BORDERS[node.data("tier")] ?? ["#cfd8dc", 1])[0],
      "border-width": (node) => (TIER_BORDERS[node.data("tier")] ?? ["#cfd8dc", 1])[1],
    },
  },
  // Over the centre, a label goes above its node: the ties of a ring come from the centre's side, below it.
  { selector: "node.label-above", style: { "text-valign": "top", "text-margin-y": -4 } },
  { selector: "node[kind = 'Company']", style: { shape: "round-rectangle", width: 36, height: 28 } },
  { selector: "node[?center]", style: { width: 42, height: 42, "font-weight": "bold", "font-size": FONT_PX + 2 } },
  {
    selector: "node[?stub]",
    style: { "background-color": "#cfd8dc", "border-style": "dashed", "border-color": "#78909c", "border-width": 2, color: "#607d8b" },
  },
  {
    selector: "node[?more]",
    style: { shape: "round-tag", "background-color": "#eceff1", "border-width": 1, "border-style": "dotted", "text-valign": "center", "text-margin-y": 0, width: 70, height: 22 },
  },
  {
    selector: "node[?branch]",
    style: { shape: "diamond", "background-color": "#e8eaf6", "border-color": "#3949ab", "border-width": 2, color: "#283593" },
  },
  { selector: "node[?hub]", style: { shape: "star", "background-color": "#fb8c00", "border-width": 0 } },
  {
    selector: "edge",
    style: {
      width: 2,
      "curve-style": "bezier",
      "line-color": (edge) => TIE_COLOURS[edge.data("type")] ?? "#90a4ae",
      "font-size": FONT_PX - 1,
      "min-zoomed-font-size": MIN_LABEL_PX,
      color: "#455a64",
      "text-background-color": "#fff",
      "text-background-opacity": 0.9,
      "text-rotation": "autorotate",
    },
  },
  // A tie's name shows while the pointer is on it (the legend keys the colours): no labels piled on lines.
  { selector: "edge.pointed", style: { label: tieLabel, "text-wrap": "wrap", "text-rotation": "none", width: 4, "z-index": 20 } },
  { selector: "edge[?directed]", style: { "target-arrow-shape": "triangle", "target-arrow-color": (edge) => TIE_COLOURS[edge.data("type")] ?? "#90a4ae" } },
  { selector: "edge[?toStub]", style: { "line-style": "dashed" } },
  { selector: "edge[?more]", style: { "line-style": "dotted", "line-color": "#b0bec5", label: "" } },
  { selector: "node[collapsed > 0]", style: { "border-style": "double", "border-width": 6 } },
  { selector: ".away", style: { display: "none" } },
  { selector: ".faded", style: { opacity: 0.18 } },
  { selector: "node.quiet", style: { "text-opacity": 0, "text-background-opacity": 0 } },
  { selector: "node.highlight", style: { "overlay-color": "#ffd54f", "overlay-opacity": 0.45, "overlay-padding": 8 } },
  { selector: "edge.highlight", style: { width: 6, "z-index": 10 } },
  { selector: "node:selected", style: { "overlay-color": "#1d5fa7", "overlay-opacity": 0.25, "overlay-padding": 6 } },
];

/** The node data of a related-customer entry of the API (full customer or stub). */
export function nodeOf(entry) {
  if (entry.customer) {
    const c = entry.customer;
    return { id: c.id, name: c.name, kind: c.kind, tier: c.tier, churn: c.churn_risk, customer: c };
  }
  return { id: entry.stub.opaque_id, name: entry.stub.name, stub: true };
}

/**
 * Rings around ``center`` (layout.js), each label on the side away from the centre, where no tie of its ring arrives:
 * above a node over the centre (a branch reached from below no longer has its ties cross its name), below one under
 * it. Flipping a label keeps its node's disc (same size, same place), so the second pass only moves the nodes
 * within their discs: nothing that did not overlap comes to overlap.
 */
function ringPositions(nodes, center) {
  const first = concentricPositions(nodes, center);
  const above = nodes.filter((node) => !node.same(center) && discMiddleY(node, first.get(node.id())) < 0);
  if (above.empty()) return first;
  above.addClass("label-above");
  return concentricPositions(nodes, center);
}

/** The middle of ``node``'s shape and label, were the node at ``position``. */
function discMiddleY(node, position) {
  const box = node.boundingBox({ includeLabels: true, includeOverlays: false, useCache: false });
  return position.y + (box.y1 + box.y2) / 2 - node.position().y;
}

export function edgeId(a, b, type) {
  return [a, b].sort().join("~") + `~${type}`;
}

export class NetworkGraph {
  constructor(container, { onSelect, onContact } = {}) {
    this.cy = cytoscape({ container, style: STYLE, wheelSensitivity: 0.3, minZoom: 0.05, maxZoom: 3 });
    this.layouts = 0; // layouts run so far: tests wait on it
    this.chosenLayout = "auto"; // one of LAYOUTS
    this.collapsed = new Map(); // node id -> ids of the nodes its collapse hid
    this.cy.on("tap", "node", (event) => onSelect?.(event.target.data()));
    this.cy.on("cxttap", "node", (event) => onContact?.(event.target.data())); // right-click: log a contact
    container.addEventListener("contextmenu", (event) => event.preventDefault());
    this.cy.on("mouseover", "edge", (event) => event.target.addClass("pointed"));
    this.cy.on("mouseout", "edge", (event) => event.target.removeClass("pointed"));
    this.cy.on("zoom", () => this.quietSmallLabels());
    // Cytoscape keeps where its container sits on the page and looks again only on a resize or a scroll: when what
    // is above it grows (search results, a toolbar wrapping), the pointer hovered and clicked what is drawn that far
    // away. A resize makes it look again: whenever the page's size changes and whenever the pointer comes in.
    const moved = () => this.cy.resize();
    new ResizeObserver(moved).observe(document.body);
    container.addEventListener("pointerenter", moved);
    // Cytoscape follows its container's size (the window, a phone turned, the panel beside it moving below) but
    // keeps its zoom and pan: the drawn graph is fitted to the new size instead of staying where the old one put it
    // (off-centre, or out of sight on a phone). Cytoscape also says "resize" when only the container's attributes
    // changed (its cursor, on hover): the view stays then.
    let size = "";
    this.cy.on("resize", () => {
      const now = `${this.cy.width()}x${this.cy.height()}`;
      if (now !== size && this.cy.nodes().nonempty()) this.view();
      size = now;
    });
  }

  clear() {
    this.collapsed.clear();
    this.cy.elements().remove();
  }

  /** The nodes drawn and not hidden by a collapse. */
  shown() {
    return this.cy.nodes().not(".away");
  }

  isCollapsed(id) {
    return this.collapsed.has(id);
  }

  /**
   * Hide what hangs off ``id``: the shown nodes that lose every way to the centre once ``id`` is set aside (all
   * of them when ``id`` is the centre), "N more" markers included. Only classes change, in one batch, and the
   * shown nodes are laid out once: a few hundred nodes stay instant.
   */
  collapse(id) {
    const node = this.cy.getElementById(id);
    if (node.empty() || this.collapsed.has(id)) return 0;
    const shown = this.shown().not(node);
    const reached = new Set();
    const center = shown.filter("[?center]");
    for (let frontier = [...center]; frontier.length; ) {
      const next = [];
      for (const current of frontier) {
        if (reached.has(current.id())) continue;
        reached.add(current.id());
        next.push(...current.neighborhood("node").intersection(shown).filter((other) => !reached.has(other.id())));
      }
      frontier = next;
    }
    const hidden = shown.filter((other) => !reached.has(other.id())).map((other) => other.id());
    this.collapsed.set(id, hidden);
    this.applyCollapses();
    return hidden.length;
  }

  /** Show again what the collapse of ``id`` hid (what another collapse hides stays hidden). */
  uncollapse(id) {
    if (!this.collapsed.delete(id)) return;
    this.applyCollapses();
  }

  /** Take ``ids`` out of every collapse: an expand shows what it fetched even where a collapse hid it. */
  reveal(ids) {
    const wanted = new Set(ids);
    for (const [id, hidden] of this.collapsed) this.collapsed.set(id, hidden.filter((other) => !wanted.has(other)));
  }

  applyCollapses() {
    const hidden = new Set([...this.collapsed.values()].flat());
    this.cy.batch(() => {
      for (const node of this.cy.nodes()) {
        node.toggleClass("away", hidden.has(node.id()));
        const count = this.collapsed.get(node.id())?.length ?? 0;
        if ((node.data("collapsed") ?? 0) !== count) node.data("collapsed", count);
      }
    });
    this.layout();
  }

  /** Add or update a node; fields already known are kept when the new data lacks them. */
  addNode(data) {
    const existing = this.cy.getElementById(data.id);
    if (existing.nonempty()) {
      const merged = { ...existing.data() };
      for (const [key, value] of Object.entries(data)) if (value !== null && value !== undefined) merged[key] = value;
      existing.data(merged);
      return existing;
    }
    return this.cy.add({ group: "nodes", data });
  }

  /** Add a tie once; ``extra.id`` keeps apart two ties of one type that point opposite ways (a mutual guarantee). */
  addEdge(source, target, type, extra = {}) {
    const id = extra.id ?? edgeId(source, target, type ?? "MEMBER");
    if (this.cy.getElementById(id).nonempty()) return;
    if (this.cy.getElementById(source).empty() || this.cy.getElementById(target).empty()) return;
    const toStub = Boolean(this.cy.getElementById(source).data("stub") || this.cy.getElementById(target).data("stub"));
    this.cy.add({ group: "edges", data: { id, source, target, type: type ?? "MEMBER", toStub, ...extra } });
  }

  /** Merge the API's related customers of ``fromId`` (one hop each), the branches they bank at (when asked) and
   * a "N more" marker (``omitted`` null: leave the marker as it is). */
  mergeNeighbours(fromId, related, omitted = 0, branches = []) {
    for (const entry of related) {
      const data = nodeOf(entry);
      this.addNode(data);
      const tie = entry.tie;
      // Drawn the way the tie points (guarantor to borrower, holder to company), with its details for the hover.
      const [source, target] = tie && !tie.outward ? [data.id, fromId] : [fromId, data.id];
      const details = tie ? { amount: tie.amount, ratio: tie.ratio, since: tie.since, directed: pointsOneWay(entry.tie_type) } : {};
      this.addEdge(source, target, entry.tie_type, details);
    }
    for (const tie of branches) {
      const id = `branch:${tie.branch_id}`;
      this.addNode({ id, name: tie.branch_name ?? tie.branch_id, kind: "Branch", branch: true });
      this.addEdge(tie.customer_id, id, BANKED_AT, { directed: true });
    }
    if (omitted === null) return;
    const moreId = `more:${fromId}`;
    this.cy.getElementById(moreId).remove();
    if (omitted > 0) {
      this.cy.add({ group: "nodes", data: { id: moreId, more: omitted, of: fromId } });
      this.cy.add({ group: "edges", data: { id: `${moreId}~edge`, source: fromId, target: moreId, more: true } });
    }
  }

  /**
   * Lay the graph out, the same way every time. By its shape ("auto"): top-down layers when only ranking ties
   * join it without a cycle (ownership, control, guarantee chains: see layout.js), else rings by hop around the
   * centre when there is one, else one circle in the order drawn (``refine`` lets a force layout untangle it from
   * there, e.g. for clusters). A layout picked by hand (``chosenLayout``) is drawn whatever the shape: top-down
   * by hop from the centre when the network is no hierarchy, force from the rings. ``shape`` says which was drawn.
   */
  layout({ refine = false } = {}) {
    const nodes = this.shown();
    const center = nodes.filter("[?center]");
    if (nodes.empty()) return;
    // Room is made for every label, hidden at this zoom or not: the same nodes land in the same place at any zoom.
    this.cy.nodes(".quiet").removeClass("quiet");
    const chosen = this.chosenLayout;
    refine = chosen === "force" || (chosen === "auto" && refine);
    let ranks = null;
    if (chosen === "layers") ranks = hierarchy(nodes) ?? (center.nonempty() ? hopLayers(nodes, center.first()) : null);
    else if (chosen === "auto" && !refine) ranks = hierarchy(nodes);
    this.shape = ranks ? "layers" : refine ? "force" : center.nonempty() ? "rings" : "circle";
    nodes.removeClass("label-above");
    const positions = ranks
      ? layeredPositions(nodes, ranks)
      : center.nonempty()
        ? ringPositions(nodes, center.first())
        : circlePositions([...nodes]);
    nodes.layout({ name: "preset", positions: (node) => positions.get(node.id()), fit: false, animate: false }).run();
    this.layouts += 1;
    this.quietSmallLabels();
    // The ties go in with the nodes: given nodes alone, cose sees each as a component of its own and packs them in
    // a grid.
    if (refine) {
      nodes.union(nodes.edgesWith(nodes)).layout({ name: "cose", animate: false, randomize: false, nodeDimensionsIncludeLabels: true, nodeRepulsion: () => 9000, idealEdgeLength: () => 90, padding: PADDING }).run();
      this.compact(nodes);
    }
    this.view();
  }

  /**
   * Draw a force layout's nodes nearer each other (their sizes and labels unchanged) until the whole graph fits the
   * view at a zoom where its labels are still drawn, but never so near that two labels touch: the force layout
   * spaces nodes for its own sake, so fitting a 12-member cluster as it drew it hid every name.
   */
  compact(nodes) {
    const width = this.cy.width() - 2 * PADDING;
    const height = this.cy.height() - 2 * PADDING;
    const fits = () => {
      const box = nodes.boundingBox();
      return Math.min(width / box.w, height / box.h) >= 1.02 * LEGIBLE_ZOOM; // a little over: ties may bow out
    };
    if (fits()) return;
    const drawn = new Map(nodes.map((node) => [node.id(), { ...node.position() }]));
    const middle = { x: 0, y: 0 };
    for (const { x, y } of drawn.values()) Object.assign(middle, { x: middle.x + x / drawn.size, y: middle.y + y / drawn.size });
    const scaled = (scale) => {
      nodes.positions((node) => {
        const { x, y } = drawn.get(node.id());
        return { x: middle.x + scale * (x - middle.x), y: middle.y + scale * (y - middle.y) };
      });
    };
    // Bisection between ``low`` and ``high`` for the scale where ``holds`` turns: it holds on one side only.
    const turn = (low, high, holds, holdsAbove) => {
      for (let step = 0; step < 12; step += 1) {
        const scale = (low + high) / 2;
        scaled(scale);
        if (holds() === holdsAbove) high = scale;
        else low = scale;
      }
      return holdsAbove ? high : low;
    };
    // The largest scale that fits (nearer only makes fitting easier); then, if labels touch there, the smallest
    // scale above it at which none do (farther only parts them; the force layout itself may have left two touching).
    const fitting = turn(0.05, 1, fits, false);
    scaled(fitting);
    const apart = () => !labelsTouch(nodes);
    if (!apart()) scaled(turn(fitting, 3, apart, true));
  }

  /**
   * The first view of a drawn graph: all of it, unless its labels would then be too small to read; then the
   * centre with as many rings around it as stay legible (the fit button still shows everything).
   */
  view() {
    const center = this.cy.nodes("[?center]");
    const width = this.cy.width() - 2 * PADDING;
    const height = this.cy.height() - 2 * PADDING;
    const box = this.cy.elements(":visible").boundingBox();
    const zoomToFit = Math.min(width / box.w, height / box.h, MAX_FIT_ZOOM);
    if (center.empty() || zoomToFit >= LEGIBLE_ZOOM || this.shape !== "rings") {
      this.fit();
      return;
    }
    // Rings are whole: every node of a ring is as far from the centre. Keep the widest rings still legible.
    const origin = center.position();
    const reaches = this.shown().map((node) => Math.hypot(node.position().x - origin.x, node.position().y - origin.y) + RING_MARGIN);
    const legible = reaches.filter((span) => Math.min(width, height) / (2 * span) >= LEGIBLE_ZOOM);
    const span = Math.max(...legible, RING_MARGIN);
    const zoom = legible.length ? Math.min(width / (2 * span), height / (2 * span), MAX_FIT_ZOOM) : LEGIBLE_ZOOM;
    this.cy.viewport({ zoom, pan: { x: this.cy.width() / 2 - origin.x * zoom, y: this.cy.height() / 2 - origin.y * zoom } });
  }

  /**
   * Hide each label that would be drawn under MIN_LABEL_PX at this zoom. Cytoscape's own minimum compares the
   * size at the zoom rounded up to a power of two, so on its own it still draws labels down to about half that.
   */
  quietSmallLabels() {
    const zoom = this.cy.zoom();
    this.cy.batch(() => {
      for (const node of this.cy.nodes()) node.toggleClass("quiet", parseFloat(node.style("font-size")) * zoom < MIN_LABEL_PX);
    });
  }

  fit() {
    this.cy.fit(this.cy.elements(":visible"), PADDING);
    if (this.cy.zoom() > MAX_FIT_ZOOM) this.cy.viewport({ zoom: MAX_FIT_ZOOM, pan: this.cy.pan() }).center();
  }

  /** Zoom by ``factor`` around the middle of the view. */
  zoomBy(factor) {
    const zoom = Math.min(this.cy.maxZoom(), Math.max(this.cy.minZoom(), this.cy.zoom() * factor));
    this.cy.zoom({ level: zoom, renderedPosition: { x: this.cy.width() / 2, y: this.cy.height() / 2 } });
  }

  /** Add a node of an evidence path (a NodeRefPublic) next to ``near`` when it is not drawn yet. */
  addRef(ref, near = null) {
    if (this.cy.getElementById(ref.id).nonempty()) return this.cy.getElementById(ref.id);
    const anchor = near ? this.cy.getElementById(near) : this.cy.collection();
    const base = anchor.nonempty() ? anchor.position() : { x: 0, y: 0 };
    const angle = [...ref.id].reduce((sum, char) => sum + char.charCodeAt(0), 0) % 360 * (Math.PI / 180); // stable
    const node = this.addNode({ id: ref.id, name: ref.name, kind: ref.kind ?? undefined, stub: ref.stub || undefined });
    node.position({ x: base.x + 80 * Math.cos(angle), y: base.y + 80 * Math.sin(angle) });
    return node;
  }

  /** Draw the paths (lists of NodeRefPublic with the tie types between them); return their node and edge ids. */
  addPaths(paths) {
    const nodes = new Set();
    const edges = new Set();
    for (const path of paths) {
      path.nodes.forEach((ref, index) => {
        this.addRef(ref, index ? path.nodes[index - 1].id : null);
        nodes.add(ref.id);
        if (index) {
          const type = path.ties[index - 1];
          this.addEdge(path.nodes[index - 1].id, ref.id, type);
          edges.add(edgeId(path.nodes[index - 1].id, ref.id, type));
        }
      });
    }
    return { nodes: [...nodes], edges: [...edges] };
  }

  /** Emphasise these nodes and the edges among them (or the given edges); fade the rest. */
  highlight(nodeIds, edgeIds = null) {
    this.clearHighlight();
    const nodes = this.cy.collection(nodeIds.map((id) => this.cy.getElementById(id)).filter((n) => n.nonempty()));
    const edges = edgeIds
      ? this.cy.collection(edgeIds.map((id) => this.cy.getElementById(id)).filter((e) => e.nonempty()))
      : nodes.edgesWith(nodes);
    const lit = nodes.union(edges).union(edges.connectedNodes());
    this.cy.elements().not(lit).addClass("faded");
    lit.addClass("highlight");
    return lit;
  }

  clearHighlight() {
    this.cy.elements().removeClass("faded highlight");
  }

  /** Re-evaluate labels (after a language switch). */
  refresh() {
    this.cy.style().update();
  }

  /** Ids of nodes reached from ``id`` through edges of these types. */
  edgesOf(id, types) {
    return this.cy
      .getElementById(id)
      .connectedEdges()
      .filter((edge) => types.includes(edge.data("type")));
  }
}

/** Whether any two nodes' boxes (body and label) overlap. */
function labelsTouch(nodes) {
  const boxes = nodes.map((node) => node.boundingBox({ includeLabels: true, includeOverlays: false }));
  return boxes.some((a, i) => boxes.slice(i + 1).some((b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2));
}

/** Give a drawn graph its zoom buttons and legend (kept in the page's language); both sit in its wrapper. */
export function decorate(graph, { ties = true } = {}) {
  const wrap = graph.cy.container().parentElement;
  const draw = () => {
    zoomControls(wrap.querySelector(".zoom-controls"), graph);
    legend(wrap.querySelector(".legend"), { ties });
  };
  draw();
  onLanguageChange(draw);
}

/** Zoom-in, zoom-out and fit buttons over a graph's corner. */
function zoomControls(element, graph) {
  const button = (zoom, text, action) => h("button", { type: "button", dataset: { zoom }, title: t(`graph.${zoom}`), "aria-label": t(`graph.${zoom}`), onclick: action }, text);
  element.replaceChildren(
    button("in", "+", () => graph.zoomBy(1.25)),
    button("out", "−", () => graph.zoomBy(0.8)),
    button("fit", "⤢", () => graph.fit()),
  );
}

/** The key to every graph: shapes, tiers (border), churn risk (fill) and, when ``ties`` is set, tie colours. */
function legend(element, { ties = true } = {}) {
  const swatch = (style, text) => h("span", {}, h("i", { style }), text);
  const tiers = Object.entries(TIER_BORDERS).map(([tier, [colour, width]]) =>
    swatch(`background:#fff;border:${Math.min(width, 4)}px solid ${colour};border-radius:50%;width:1em;height:1em`, tierName(tier)),
  );
  const risk = h(
    "span",
    {},
    t("legend.risk"),
    " ",
    h("span", { class: "risk-scale" }, t("legend.low"), h("i", { style: `background:linear-gradient(90deg,${riskColour(0)},${riskColour(0.5)},${riskColour(1)});width:5em` }), t("legend.high")),
  );
  element.replaceChildren(
    ...[
    h(
      "div",
      {},
      h("span", {}, t("legend.person")),
      h("span", {}, t("legend.company")),
      ties ? h("span", {}, t("legend.branch")) : null,
      h("span", {}, t("legend.stub")),
      risk,
    ),
    h("div", {}, h("span", {}, t("legend.tiers")), tiers),
    ties ? h("div", {}, Object.entries(TIE_COLOURS).filter(([type]) => type !== "MEMBER").map(([type, colour]) => swatch(`background:${colour}`, tieName(type)))) : null,
    ].filter(Boolean),
  );
}
