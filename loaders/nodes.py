"""Loading a source of other nodes (accounts, products, managers ...), with the ties its links make."""

from __future__ import annotations

from pathlib import Path

from graph.batch import NodeData, TieData
from graph.model import NodeLabel
from graph.ties import spec
from loaders.context import LoadContext, Pending, node_row, row_key, tie_row
from loaders.identifiers import to_half_width
from loaders.mapping import Link, Source
from loaders.quarantine import QuarantineReason
from loaders.raw import RawRecord
from loaders.report import SourceReport
from loaders.transform import RowProblem


def load_nodes(context: LoadContext, source: Source, files: list[Path]) -> None:
    """Write a node per row, and a tie per link; a link to a missing node is an orphan (or makes it)."""
    context.load_by_rows(source, files, "nodes", NodeRows)


class NodeRows:
    """One node source's rows, taken one by one: what the rows before have made, and the row's outcome."""

    def __init__(self, context: LoadContext, source: Source, report: SourceReport) -> None:
        assert source.node is not None
        self.context, self.source, self.report = context, source, report
        self.transform = context.row_transform(source)
        self.label = source.node
        self.known = context.known(self.label)
        self.seen: set[str] = set()
        self.written: set[str] = set()

    def take(self, path: Path, raw: RawRecord, batch: Pending) -> None:
        """Add the row's node and link ties to ``batch``, or quarantine it."""
        context, source, report = self.context, self.source, self.report
        if raw.problem is not None:
            context.refuse(report, path, raw, raw.problem, raw.message)
            return
        try:
            key = row_key(source, raw.values)
            typed = self.transform(raw.values)
            node_id = source.id_prefix + key
            if key in self.seen:
                raise RowProblem(QuarantineReason.DUPLICATE_KEY, f"key {', '.join(source.key)} repeated")
            links = [_link(context, self.label, node_id, link, raw.values) for link in source.links]
        except RowProblem as problem:
            context.refuse(report, path, raw, problem.reason, problem.message)
            return
        self.seen.add(key)
        self.count_written(node_id)
        batch.nodes.append(node_row(self.label, node_id, typed.properties))
        self.known.add(node_id)
        for made in links:
            if made is None:
                continue
            created, tie = made
            if created is not None:
                batch.nodes.append(created)
                context.known(created["label"]).add(created["id"])
            batch.ties.append(tie)
        batch.rows += 1

    def count_written(self, node_id: str) -> None:
        if node_id in self.written:
            self.report.merged += 1
        else:
            self.report.loaded += 1
            self.written.add(node_id)


def _link(
    context: LoadContext, label: NodeLabel, node_id: str, link: Link, values: dict[str, str]
) -> tuple[NodeData | None, TieData] | None:
    tie_spec = spec(link.type)
    node_is_source = tie_spec.source is label.primary
    other_label = tie_spec.target if node_is_source else tie_spec.source
    raw_key = link.value if link.value is not None else values.get(link.from_ or "", "")
    key = to_half_width(raw_key).strip()
    if not key:
        if link.required:
            raise RowProblem(QuarantineReason.MISSING_VALUE, f"{link.type} link column {link.from_} empty")
        return None
    created: NodeData | None = None
    ref = f"{link.system or ''}:{key}" if other_label is NodeLabel.CUSTOMER else link.prefix + key
    if other_label is NodeLabel.CUSTOMER:
        other_id = context.crosswalk().get(ref)
    else:
        other_id = ref
        if other_id not in context.known(other_label):
            if link.create:
                created = node_row(other_label, other_id, {"name": key})
            else:
                other_id = None
    if other_id is None:
        if link.required:
            raise context.orphan(other_label, ref, f"{link.type} link: no {other_label} for column {link.from_}")
        return None
    source, target = (node_id, other_id) if node_is_source else (other_id, node_id)
    return created, tie_row(link.type, source, target)
