// Drawing customer networks with cytoscape.js: persons round, companies square, tier as label and border,
// churn risk as fill colour, ties coloured by type, masked stubs grey and dashed, "N more" for dense nodes.

import cytoscape from "/vendor/cytoscape.esm.min.mjs";
import { riskColour } from "./dom.js";
import { t, tieName, tierName } from "./i18n.js";

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
  MEMBER: "#90a4ae",
};

const TIER_BORDERS = {
  private_banking: ["#212121", 6],
  diamond: ["#00838f", 5],
  platinum: ["#546e7a", 4],
  gold: ["#c9a227", 4],
  silver: ["#9e9e9e", 3],
  standard: ["#cfd8dc", 1],
};

function nodeLabel(data) {
  if (data.more) return t("graph.more", { n: data.more });
  const tier = data.tier ? `\n${tierName(data.tier)}` : "";
  return `${data.name ?? ""}${tier}`;
}

const STYLE = [
  {
    selector: "node",
    style: {
      label: (node) => nodeLabel(node.data()),
      "text-wrap": "wrap",
      "text-valign": "bottom",
      "text-margin-y": 4,
      "font-size": 11,
      "font-family": getComputedStyle(document.documentElement).fontFamily,
      width: 30,
      height: 30,
      "background-color": (node) => riskColour(node.data("churn")),
      "border-color": (node) => (TIER_BORDERS[node.data("tier")] ?? ["#cfd8dc", 1])[0],
      "border-width": (node) => (TIER_BORDERS[node.data("tier")] ?? ["#cfd8dc", 1])[1],
    },
  },
  { selector: "node[kind = 'Company']", style: { shape: "round-rectangle", width: 36, height: 28 } },
  { selector: "node[?center]", style: { width: 42, height: 42, "font-weight": "bold" } },
  {
    selector: "node[?stub]",
    style: { "background-color": "#cfd8dc", "border-style": "dashed", "border-color": "#78909c", "border-width": 2, color: "#607d8b" },
  },
  {
    selector: "node[?more]",
    style: { shape: "round-tag", "background-color": "#eceff1", "border-width": 1, "border-style": "dotted", "text-valign": "center", "text-margin-y": 0, width: 70, height: 22 },
  },
  { selector: "node[?hub]", style: { shape: "star", "background-color": "#fb8c00", "border-width": 0 } },
  {
    selector: "edge",
    style: {
      width: 2,
      "curve-style": "bezier",
      "line-color": (edge) => TIE_COLOURS[edge.data("type")] ?? "#90a4ae",
      label: (edge) => tieName(edge.data("type")),
      "font-size": 9,
      color: "#455a64",
      "text-background-color": "#fff",
      "text-background-opacity": 0.8,
      "text-rotation": "autorotate",
    },
  },
  { selector: "edge[?directed]", style: { "target-arrow-shape": "triangle", "target-arrow-color": (edge) => TIE_COLOURS[edge.data("type")] ?? "#90a4ae" } },
  { selector: "edge[?toStub]", style: { "line-style": "dashed" } },
  { selector: "edge[?more]", style: { "line-style": "dotted", "line-color": "#b0bec5", label: "" } },
  { selector: ".faded", style: { opacity: 0.18 } },
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

export function edgeId(a, b, type) {
  return [a, b].sort().join("~") + `~${type}`;
}

export class NetworkGraph {
  constructor(container, { onSelect } = {}) {
    this.cy = cytoscape({ container, style: STYLE, wheelSensitivity: 0.3, minZoom: 0.2, maxZoom: 3 });
    this.cy.on("tap", "node", (event) => onSelect?.(event.target.data()));
  }

  clear() {
    this.cy.elements().remove();
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

  addEdge(source, target, type, extra = {}) {
    const id = edgeId(source, target, type ?? "MEMBER");
    if (this.cy.getElementById(id).nonempty()) return;
    const toStub = Boolean(this.cy.getElementById(source).data("stub") || this.cy.getElementById(target).data("stub"));
    this.cy.add({ group: "edges", data: { id, source, target, type: type ?? "MEMBER", toStub, ...extra } });
  }

  /** Merge the API's related customers of ``fromId`` (one hop each) and a "N more" marker. */
  mergeNeighbours(fromId, related, omitted = 0) {
    for (const entry of related) {
      const data = nodeOf(entry);
      this.addNode(data);
      this.addEdge(fromId, data.id, entry.tie_type);
    }
    const moreId = `more:${fromId}`;
    this.cy.getElementById(moreId).remove();
    if (omitted > 0) {
      this.cy.add({ group: "nodes", data: { id: moreId, more: omitted, of: fromId } });
      this.cy.add({ group: "edges", data: { id: `${moreId}~edge`, source: fromId, target: moreId, more: true } });
    }
  }

  layout() {
    this.cy.layout({ name: "cose", animate: false, randomize: false, nodeRepulsion: () => 9000, idealEdgeLength: () => 90, padding: 30 }).run();
    this.cy.fit(undefined, 30);
  }

  fit() {
    this.cy.fit(undefined, 30);
  }

  /** Add a node of an evidence path (a NodeRefPublic) next to ``near`` when it is not drawn yet. */
  addRef(ref, near = null) {
    if (this.cy.getElementById(ref.id).nonempty()) return this.cy.getElementById(ref.id);
    const anchor = near ? this.cy.getElementById(near) : this.cy.collection();
    const base = anchor.nonempty() ? anchor.position() : { x: 0, y: 0 };
    const angle = Math.random() * 2 * Math.PI;
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

export function legend(element) {
  element.replaceChildren();
  const item = (colour, text) => {
    const span = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = colour;
    span.append(swatch, text);
    return span;
  };
  for (const text of [t("legend.person"), t("legend.company"), t("legend.stub"), t("legend.risk")]) {
    const span = document.createElement("span");
    span.textContent = text;
    element.append(span);
  }
  for (const [type, colour] of Object.entries(TIE_COLOURS)) if (type !== "MEMBER") element.append(item(colour, tieName(type)));
}
