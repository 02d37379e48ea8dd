"""Loading customer sources: all of them together, because entity resolution looks across systems."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.model import NodeLabel, NodeRecord, TieType
from graph.store import GraphStore
from loaders.bulk import LoadPath
from loaders.bulk.blocking import scored_pairs_by_columns
from loaders.bulk.customer_batches import RecordBatch, record_batches
from loaders.bulk.customers import RowRecord, customer_records_by_columns
from loaders.bulk.records import CustomerRecords, RecordRun
from loaders.bulk.resolve import resolve_grouped
from loaders.bulk.tables import IsNew, Tables, column_table
from loaders.context import LoadContext, Pending, node_row, row_key, tie_row
from loaders.mapping import ResolveMode, Source
from loaders.matching import PairScorer, scored_pairs
from loaders.quarantine import QuarantineReason
from loaders.read import RawRecord
from loaders.report import SourceReport
from loaders.resolve import CustomerRecord, national_customer_id, resolve
from loaders.review import ReviewList
from loaders.survivorship import KEPT_FIELDS, NO_ALIASES, combined_customers, record_values, source_ranks
from loaders.transform import RowProblem, RowTransform

LOOK_UP_AT_MOST = 1000
"""Earlier records fetched one by one up to this many; past it one pass over every SourceRecord is cheaper."""


@dataclass
class CustomerBatch:
    """One atomic write of customer records, all from one source, with that source's accounting.

    Each record makes its SourceRecord node and FROM_SOURCE tie; the records in ``customers`` also make
    their customer's node (written in the batch of its first record). The batch is kept as its records,
    not as rows: :meth:`tables` builds the store's tables from them column by column, :attr:`pending`
    the rows (for the row path, and for tables the store must not take as such)."""

    source: str
    records: list[CustomerRecord] = field(default_factory=list)
    customer_ids: list[str] = field(default_factory=list)
    """The customer of each record."""
    customers: dict[int, dict[str, Any] | None] = field(default_factory=dict)
    """The records (by position) that make their customer's node: its properties combined from several
    records, or None when the record alone makes it (its own properties, no aliases)."""
    loaded: int = 0
    merged: int = 0

    @property
    def rows(self) -> int:
        return len(self.records)

    @property
    def pending(self) -> Pending:
        """The batch as rows: each customer node before the lineage of the record that makes it."""
        pending = Pending(rows=len(self.records))
        for index, (record, customer_id) in enumerate(zip(self.records, self.customer_ids, strict=True)):
            if index in self.customers:
                combined = self.customers[index]
                properties = combined if combined is not None else {**record.properties, **NO_ALIASES}
                pending.nodes.append(node_row(record.kind, customer_id, properties))
            lineage = {"system": record.system, "source": record.source, "line": record.line}
            lineage |= record_values(record.properties)
            pending.nodes.append(node_row(NodeLabel.SOURCE_RECORD, record.ref, lineage))
            pending.ties.append(tie_row(TieType.FROM_SOURCE, customer_id, record.ref))
        return pending

    def tables(self, is_new: IsNew) -> Tables | None:
        """Tables that write what the rows of :attr:`pending` write, built column by column from the records
        (no row dict per node); None when the rows must go as rows (see :mod:`loaders.bulk.tables`)."""
        makers = list(self.customers)
        if any(self.records[index].kind is NodeLabel.CUSTOMER for index in makers):
            return None  # a customer of no kind keeps the kind held: rows know how
        properties = [
            combined if (combined := self.customers[index]) is not None else self.records[index].properties
            for index in makers
        ]
        names = dict.fromkeys(name for shape in dict.fromkeys(tuple(row) for row in properties) for name in shape)
        names.update(NO_ALIASES)
        ids = [self.customer_ids[index] for index in makers]
        for index, row, customer_id in zip(makers, properties, ids, strict=True):
            named = len(row) if self.customers[index] is not None else len(row) + len(NO_ALIASES)
            if named != len(names) and not is_new(NodeLabel.CUSTOMER, customer_id):
                return None  # it would remove what the row leaves alone
        customers = column_table(
            {"id": ids, "kind": [self.records[index].kind.value for index in makers]},
            {name: [row.get(name) for row in properties] for name in names},
        )
        records = self.records
        lineage = column_table(
            {
                "id": [record.ref for record in records],
                "kind": [NodeLabel.SOURCE_RECORD.value] * len(records),
                "system": [record.system for record in records],
                "source": [record.source for record in records],
            },
            {"line": [record.line for record in records]}
            | {name: [record.properties.get(name) for record in records] for name in KEPT_FIELDS},
        )
        ties = column_table({"source": self.customer_ids, "target": [record.ref for record in records]}, {})
        if customers is None or lineage is None or ties is None:
            return None
        nodes = {NodeLabel.CUSTOMER: customers, NodeLabel.SOURCE_RECORD: lineage}
        return {label: table for label, table in nodes.items() if table.num_rows}, {TieType.FROM_SOURCE: ties}


def customer_batches(
    records: list[CustomerRecord],
    customer_ids: list[str],
    batch_size: int,
    ranks: Mapping[str, int] | None = None,
    earlier: Mapping[str, list[CustomerRecord]] | None = None,
) -> list[CustomerBatch]:
    """The writes of resolved customer records, in the order they must be made. Pure.

    A customer made of several records gets their properties combined by the survivorship rule
    (``loaders.survivorship``; ``ranks`` from the mapping's ``source_priority``), keeping the other
    values of name, birth date, address and phone as aliases, and is written once, in the batch of
    its first record; every record adds its SourceRecord node (with the values it carried) and a
    FROM_SOURCE tie. ``earlier`` holds, per customer, its records from earlier loads that this load
    does not hold (their SourceRecord values): they take part in the survivorship as records read
    before this load's, and are not written again. Batches follow the records' order and hold one
    source each, so a customer node is always written in the same or an earlier batch than any
    lineage tie pointing at it. (Keeping one open batch per source and flushing them as each filled
    up let a second source's full batch be written before the first source's last partial one,
    which held the customer: ``MissingEndpoint`` on large loads.)
    """
    members: dict[str, list[CustomerRecord]] = defaultdict(list)
    for record, customer_id in zip(records, customer_ids, strict=True):
        if customer_id not in members and earlier and customer_id in earlier:
            members[customer_id].extend(earlier[customer_id])
        members[customer_id].append(record)
    # A customer of one record is that record's properties: nothing to combine (see CustomerBatch.customers).
    several = {customer_id: group for customer_id, group in members.items() if len(group) > 1}
    combined = combined_customers(several, ranks or {})

    batches: list[CustomerBatch] = []
    written: set[str] = set()
    for record, customer_id in zip(records, customer_ids, strict=True):
        if not batches or batches[-1].source != record.source or batches[-1].rows >= batch_size:
            batches.append(CustomerBatch(record.source))
        batch = batches[-1]
        if customer_id in written:
            batch.merged += 1
        else:
            batch.loaded += 1
            written.add(customer_id)
            batch.customers[len(batch.records)] = combined.get(customer_id)
        batch.records.append(record)
        batch.customer_ids.append(customer_id)
    return batches


def load_customers(
    context: LoadContext,
    sources: list[Source],
    files: dict[str, list[Path]],
    review: ReviewList,
    path: LoadPath = LoadPath.COLUMNS,
    score_pairs: PairScorer | None = None,
) -> None:
    """Read every customer source (column-wise where ``path`` asks and the source allows it), resolve the
    records into customers (``score_pairs`` scoring the compared ones; None: in this process, by columns on
    the column-wise path), and write them with their lineage."""
    if score_pairs is None:
        score_pairs = scored_pairs_by_columns if path is LoadPath.COLUMNS else scored_pairs
    context.retired = review.retired_customers()
    existing = dict(context.crosswalk())
    read: list[RecordRun | list[CustomerRecord]] = []
    reports: list[SourceReport] = []
    seen_refs: set[str] = set()
    for source in sources:
        started = time.perf_counter()
        by_row = _row_records(context, source, seen_refs)
        why_not = None
        if path is LoadPath.COLUMNS:
            found = customer_records_by_columns(context, source, files[source.name], seen_refs, by_row)
            if not isinstance(found, str):
                read.append(found)
                reports.append(context.reports[-1])
                reports[-1].seconds = round(time.perf_counter() - started, 3)
                continue
            why_not = found
        report, raws = context.read(source, files[source.name], "customers")
        report.path_note = why_not or ""
        reports.append(report)
        transform = context.row_transform(source)
        made: list[CustomerRecord] = []
        for raw_source in raws:
            for raw in raw_source.records:
                record = by_row(transform, report, raw_source.path, raw)
                if record is not None:
                    made.append(record)
        read.append(made)
        report.seconds = round(time.perf_counter() - started, 3)
    held = _held_as_columns(sources, read) if path is LoadPath.COLUMNS else None
    records: Sequence[CustomerRecord] = (
        held
        if held is not None
        else [record for part in read for record in (part.records() if isinstance(part, RecordRun) else part)]
    )
    refs = (
        records.each("refs").to_pylist() if isinstance(records, CustomerRecords) else [record.ref for record in records]
    )
    stored = stored_records(context.store, records, existing, context.hash_key, refs)
    options: dict[str, Any] = {
        "merge_above": context.mapping.resolution.merge_above,
        "review_above": context.mapping.resolution.review_above,
        "hash_key": context.hash_key,
        "existing": existing,
        "forced_merges": review.forced_merges(),
        "separated": review.separated_keys(),
        "source_priority": context.mapping.resolution.source_priority,
        "stored": stored,
        "score_pairs": score_pairs,
    }
    resolved = resolve_grouped(records, **options) if path is LoadPath.COLUMNS else resolve(list(records), **options)
    context.review_candidates = resolved.review
    context.merged_by_score = resolved.merges_by_score

    by_report = {report.name: report for report in reports}
    known = context.known(NodeLabel.CUSTOMER)
    # Read before the writes below: afterwards the store would hand back every lineage node just written.
    known_records = context.known(NodeLabel.SOURCE_RECORD)
    done: dict[str, int] = dict.fromkeys(by_report, 0)
    ranks = source_ranks(context.mapping.resolution.source_priority)
    earlier: dict[str, list[CustomerRecord]] = defaultdict(list)
    for record, customer_id in zip(stored, resolved.stored_customer_ids, strict=True):
        earlier[customer_id].append(record)
    # On the column-wise path the batches go as tables (both stores take them: no row dict per node).
    by_columns = path is LoadPath.COLUMNS
    batch_size = context.table_batch_size if by_columns else context.batch_size
    batches: list[CustomerBatch] | list[RecordBatch] = (
        record_batches(held, resolved.customer_ids, batch_size, ranks, earlier)
        if held is not None
        else customer_batches(list(records), resolved.customer_ids, batch_size, ranks, earlier)
    )
    for batch in batches:
        report = by_report[batch.source]
        report.loaded += batch.loaded
        report.merged += batch.merged
        done[batch.source] += batch.rows
        tables = batch.tables(context.is_new) if by_columns else None
        if tables is not None:
            context.write_tables(report, tables, done[batch.source], report.rows_read)
        else:
            rows = batch if isinstance(batch, CustomerBatch) else CustomerBatch(batch.source, *batch.as_objects())
            context.flush(report, rows.pending, done[batch.source], report.rows_read)
    context.add_lineage(refs, resolved.customer_ids)
    known.update(resolved.customer_ids)
    if context.progress is not None:
        for report in reports:
            context.progress(report.name, report.rows_read, report.rows_read)
    # Lineage nodes of this load are known too (for ties reading them, none today).
    known_records.update(refs)


def _held_as_columns(sources: list[Source], read: list[RecordRun | list[CustomerRecord]]) -> CustomerRecords | None:
    """Every source's records as columns (the records the row path made turned into columns); None when some
    cannot be held so exactly."""
    runs: list[RecordRun] = []
    for source, part in zip(sources, read, strict=True):
        if isinstance(part, list):
            made = RecordRun.of_records(source.name, source.system, source.resolve, source.id_prefix, part)
            if made is None:
                return None
            part = made
        runs.append(part)
    return CustomerRecords(runs)


def stored_records(
    store: GraphStore,
    records: Sequence[CustomerRecord],
    existing: Mapping[str, str],
    hash_key: bytes,
    refs: Iterable[str] | None = None,
) -> list[CustomerRecord]:
    """Records of earlier loads that belong to the customer of an ID number in ``records`` but are not
    in this load (a load of one system's export after another's), rebuilt from their SourceRecord nodes:
    the values they carried, the ID number they share. ``existing`` is the store's lineage, ref -> customer;
    ``refs`` the records' refs when known.
    """
    here = set(refs) if refs is not None else {record.ref for record in records}
    elsewhere = {ref: customer for ref, customer in existing.items() if ref not in here}
    if not elsewhere:
        return []  # a first load, or a reload of every source: nothing to look up
    by_customer: dict[str, tuple[CustomerRecord, str]] = {}
    for record in records:
        if record.mode is ResolveMode.AUTO and record.national_id:
            customer = national_customer_id(record, record.national_id, hash_key)
            by_customer.setdefault(customer, (record, record.national_id))
    outside = {ref: by_customer[customer] for ref, customer in elsewhere.items() if customer in by_customer}
    if not outside:
        return []
    if len(outside) > LOOK_UP_AT_MOST:
        nodes: Iterable[NodeRecord | None] = (
            node for node in store.nodes(NodeLabel.SOURCE_RECORD) if node.id in outside
        )
    else:
        nodes = (store.get_node(NodeLabel.SOURCE_RECORD, ref) for ref in sorted(outside))
    stored: list[CustomerRecord] = []
    for node in nodes:
        if node is None:
            continue
        sharing, number = outside[node.id]
        properties = node.properties
        stored.append(
            CustomerRecord(
                source=str(properties.get("source", "")),
                system=str(properties.get("system", "")),
                key=node.id.removeprefix(f"{properties.get('system', '')}:"),
                line=int(properties.get("line", 0)),
                kind=sharing.kind,
                properties={field: properties.get(field) for field in KEPT_FIELDS},
                identifiers={sharing.national_id_type: number},
                id_prefix=sharing.id_prefix,
            )
        )
    return sorted(stored, key=lambda record: record.ref)


def _row_records(context: LoadContext, source: Source, seen_refs: set[str]) -> RowRecord:
    """The row path's record of one row of ``source`` (see :func:`_customer_record`)."""

    def by_row(transform: RowTransform, report: SourceReport, file: Path, raw: RawRecord) -> CustomerRecord | None:
        return _customer_record(context, source, transform, report, file, raw, seen_refs)

    return by_row


def _customer_record(
    context: LoadContext,
    source: Source,
    transform: RowTransform,
    report: SourceReport,
    path: Path,
    raw: RawRecord,
    seen_refs: set[str],
) -> CustomerRecord | None:
    if raw.problem is not None:
        context.refuse(report, path, raw, raw.problem, raw.message)
        return None
    try:
        key = row_key(source, raw.values)
        kind = _kind(source, raw.values)
        typed = transform(raw.values)
    except RowProblem as problem:
        context.refuse(report, path, raw, problem.reason, problem.message)
        return None
    ref = f"{source.system}:{key}"
    if ref in seen_refs:
        context.refuse(report, path, raw, QuarantineReason.DUPLICATE_KEY, f"key {source.system} repeated")
        return None
    seen_refs.add(ref)
    return CustomerRecord(
        source=source.name,
        system=source.system,
        key=key,
        line=raw.line,
        kind=kind,
        properties=typed.properties,
        identifiers=typed.identifiers,
        mode=source.resolve,
        id_prefix=source.id_prefix,
    )


def _kind(source: Source, values: dict[str, str]) -> NodeLabel:
    assert source.node is not None
    if source.node is not NodeLabel.CUSTOMER:
        return source.node
    code = values.get(source.kind_from or "", "").strip()
    kind = (source.kind_map or {"Person": "Person", "Company": "Company"}).get(code)
    if kind is None:
        raise RowProblem(QuarantineReason.UNKNOWN_CODE, f"kind column {source.kind_from}: code not in kind_map")
    return NodeLabel(kind)
