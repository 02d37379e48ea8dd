"""Loading a mapping: source files -> checked rows -> the store, with quarantine, review list and report.

Order: every file is found and its header checked first (a missing file or an authentication column
stops the load before anything is written); then customer sources (all of them together, because
entity resolution looks across systems), then other node sources, then tie sources, each in mapping
order. Rows go to the store in batches of ``settings.batch_size`` source rows; each batch is one atomic
``store.write`` holding a row's node together with its ties, so a node never lands without them.

Rows are never silently dropped: each is loaded, merged (its node or tie was already made by an
earlier row of this load) or quarantined, and the report asserts that these add up to the rows read.
Reloading the same files writes the same rows, so nothing changes; a newer export updates changed
properties (an emptied cell removes the stored value) and adds new rows. Rows missing from a newer
export are not deleted: an export is not known to be complete.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from graph.errors import AuthenticationData, ConfigurationError
from graph.model import NodeLabel, NodeRow, TieRow, TieType
from graph.settings import Settings
from graph.store import GraphStore
from graph.ties import spec
from loaders.identifiers import to_half_width
from loaders.mapping import Link, Mapping, Source, SourceFormat
from loaders.quarantine import QuarantinedRow, QuarantineFile, QuarantineReason
from loaders.read import RawRecord, RawSource, read_columns, read_source, source_files
from loaders.report import LoadReport, SourceReport
from loaders.resolve import CustomerRecord, resolve
from loaders.review import ReviewList
from loaders.transform import RowProblem, transform_row

Progress = Callable[[str, int, int], None]
"""Called with (source name, rows done, rows total) when a source starts and after each batch."""

AUTHENTICATION_COLUMN = re.compile(
    r"password|passwd|pwd|密码|magstripe|mag_stripe|cvv2?|cvc2?|cvn2?"
    r"|(^|[_ -]|card)pin([_ -]?(code|block|no))?$"
    r"|(^|[_ -])track([_ -]?[123])?([_ -]?data)?$",
    re.IGNORECASE,
)


def load_mapping(
    store: GraphStore,
    mapping_path: Path,
    report_dir: Path,
    progress: Progress | None = None,
    *,
    settings: Settings | None = None,
    data_dir: Path | None = None,
    review_path: Path | None = None,
    today: date | None = None,
) -> LoadReport:
    """Load every source of a mapping file into ``store``; write ``quarantine.csv`` and ``report.json``.

    ``data_dir`` overrides the folder the mapping's paths are relative to; ``review_path`` (default
    ``report_dir / "review.json"``) is where uncertain customer pairs are kept for ``crm-graph review``.
    Raises ``SourceError`` (nothing written) when a file cannot be read or holds authentication data.
    """
    started = time.perf_counter()
    settings = settings or Settings()
    mapping = Mapping.from_file(Path(mapping_path), data_dir=data_dir)
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    review_path = review_path or report_dir / "review.json"
    files = {source.name: source_files(source, mapping.base_dir) for source in mapping.sources}
    check_sources(mapping, files)

    loader = _Loader(store, mapping, settings, progress, today)
    review = ReviewList.read(review_path)
    with QuarantineFile(report_dir / "quarantine.csv") as quarantine:
        loader.quarantine = quarantine
        customer_sources = [source for source in mapping.sources if source.feeds_customers]
        other_nodes = [source for source in mapping.sources if source.node is not None and not source.feeds_customers]
        tie_sources = [source for source in mapping.sources if source.tie is not None]
        loader.load_customers(customer_sources, files, review)
        for source in other_nodes:
            loader.load_nodes(source, files[source.name])
        for source in tie_sources:
            loader.load_ties(source, files[source.name])
    review.update(loader.review_candidates)
    review.write(review_path)
    for source_report in loader.reports:
        source_report.check_accounting()
    report = LoadReport(
        mapping=mapping.name,
        mapping_path=str(mapping_path),
        seconds=round(time.perf_counter() - started, 3),
        sources=loader.reports,
        counts=store.counts(),
        quarantine_path=str(report_dir / "quarantine.csv"),
        review_path=str(review_path),
        review_pending=len(review.pending()),
        merged_by_score=loader.merged_by_score,
    )
    report.write(report_dir)
    return report


def refused_columns(columns: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """The columns that look like authentication data (passwords, PINs, CVV/CVN, card track data)."""
    extra_names = {name.strip().lower() for name in extra}
    return [
        column
        for column in columns
        if AUTHENTICATION_COLUMN.search(column.strip()) or column.strip().lower() in extra_names
    ]


def check_sources(mapping: Mapping, files: dict[str, list[Path]]) -> None:
    """Refuse authentication columns and columns the mapping names but the file lacks, before any write."""
    for source in mapping.sources:
        for path in files[source.name]:
            columns = read_columns(source, path)
            refused = refused_columns(columns, source.refuse_columns)
            if refused:
                raise AuthenticationData(
                    f"source {source.name}: file {path} has authentication data in column(s) "
                    f"{', '.join(refused)}; such data must not leave the card system. Nothing was loaded."
                )
            if source.format is SourceFormat.JSONL:
                continue
            missing = sorted(set(_columns_used(source)) - set(columns))
            if missing:
                raise ConfigurationError(
                    f"source {source.name}: file {path} lacks column(s) {', '.join(missing)} named in the mapping"
                )


def _columns_used(source: Source) -> list[str]:
    used = list(source.key) + [column.from_ for column in source.columns.values()]
    used += [link.from_ for link in source.links if link.from_]
    if source.kind_from:
        used.append(source.kind_from)
    if source.tie is not None and source.tie.type_from:
        used.append(source.tie.type_from)
    used += [end.from_ for end in (source.source, source.target) if end is not None]
    return used


@dataclass
class _Pending:
    """Rows waiting for the next atomic write."""

    nodes: list[NodeRow] = field(default_factory=list)
    ties: list[TieRow] = field(default_factory=list)
    rows: int = 0


@dataclass
class _CustomerRow:
    record: CustomerRecord
    raw: RawRecord
    file: Path


@dataclass
class CustomerBatch:
    """One atomic write of customer rows, all from one source, with that source's accounting."""

    source: str
    pending: _Pending
    loaded: int = 0
    merged: int = 0

    @property
    def rows(self) -> int:
        return self.pending.rows


def customer_batches(records: list[CustomerRecord], customer_ids: list[str], batch_size: int) -> list[CustomerBatch]:
    """The writes of resolved customer records, in the order they must be made. Pure.

    A customer made of several records gets their properties combined (later records filling in or
    overriding earlier ones) and is written once, in the batch of its first record; every record adds
    its SourceRecord node and a FROM_SOURCE tie. Batches follow the records' order and hold one source
    each, so a customer node is always written in the same or an earlier batch than any lineage tie
    pointing at it. (Keeping one open batch per source and flushing them as each filled up let a
    second source's full batch be written before the first source's last partial one, which held
    the customer: ``MissingEndpoint`` on large loads.)
    """
    combined: dict[str, dict[str, Any]] = {}
    kinds: dict[str, NodeLabel] = {}
    for record, customer_id in zip(records, customer_ids, strict=True):
        properties = combined.setdefault(customer_id, {})
        for name, value in record.properties.items():
            if value is not None or name not in properties:
                properties[name] = value
        kinds.setdefault(customer_id, record.kind)

    batches: list[CustomerBatch] = []
    written: set[str] = set()
    for record, customer_id in zip(records, customer_ids, strict=True):
        if not batches or batches[-1].source != record.source or batches[-1].rows >= batch_size:
            batches.append(CustomerBatch(record.source, _Pending()))
        batch = batches[-1]
        if customer_id in written:
            batch.merged += 1
        else:
            batch.loaded += 1
            written.add(customer_id)
            batch.pending.nodes.append(
                NodeRow(label=kinds[customer_id], id=customer_id, properties=combined[customer_id])
            )
        batch.pending.nodes.append(
            NodeRow(
                label=NodeLabel.SOURCE_RECORD,
                id=record.ref,
                properties={"system": record.system, "source": record.source, "line": record.line},
            )
        )
        batch.pending.ties.append(TieRow(type=TieType.FROM_SOURCE, source=customer_id, target=record.ref))
        batch.pending.rows += 1
    return batches


class _Loader:
    def __init__(
        self, store: GraphStore, mapping: Mapping, settings: Settings, progress: Progress | None, today: date | None
    ) -> None:
        self.store = store
        self.mapping = mapping
        self.batch_size = settings.batch_size
        self.hash_key = settings.pii_hash_key.get_secret_value().encode()
        self.progress = progress
        self.today = today or date.today()
        self.quarantine: QuarantineFile | None = None
        self.reports: list[SourceReport] = []
        self.review_candidates: list[Any] = []
        self.merged_by_score = 0
        self._known: dict[NodeLabel, set[str]] = {}
        self._crosswalk: dict[str, str] = {}
        self._retired: set[str] = set()
        self._ties_seen: set[tuple[TieType, str, str]] = set()

    # -- shared --------------------------------------------------------------------------------

    def known(self, label: NodeLabel) -> set[str]:
        """Ids of existing nodes under a primary label: the store's, read once, plus this load's."""
        primary = label.primary
        if primary not in self._known:
            self._known[primary] = {record.id for record in self.store.nodes(primary)}
        return self._known[primary]

    def refuse(self, report: SourceReport, file: Path, raw: RawRecord, reason: QuarantineReason, message: str) -> None:
        assert self.quarantine is not None
        self.quarantine.add(QuarantinedRow(report.name, file.name, raw.line, raw.text, reason, message))
        report.count_reason(reason.value)

    def flush(self, report: SourceReport, pending: _Pending, done: int, total: int) -> None:
        if pending.nodes or pending.ties:
            result = self.store.write(pending.nodes, pending.ties)
            report.nodes_written += result.nodes
            report.ties_written += result.ties
        pending.nodes, pending.ties, pending.rows = [], [], 0
        if self.progress is not None:
            self.progress(report.name, done, total)

    def read(self, source: Source, files: list[Path], role: str) -> tuple[SourceReport, list[RawSource]]:
        report = SourceReport(name=source.name, system=source.system, role=role, files=[str(p) for p in files])
        raws = [read_source(source, path) for path in files]
        report.rows_read = sum(len(raw.records) for raw in raws)
        self.reports.append(report)
        if self.progress is not None:
            self.progress(source.name, 0, report.rows_read)
        return report, raws

    def row_key(self, source: Source, values: dict[str, str]) -> str:
        parts = [to_half_width(values.get(column, "")).strip() for column in source.key]
        if any(not part for part in parts):
            raise RowProblem(QuarantineReason.MISSING_VALUE, f"key column(s) {', '.join(source.key)} empty")
        return "|".join(parts)

    def crosswalk(self) -> dict[str, str]:
        """Record ref (``system:key``) -> customer id, from the store's lineage; this load's are added later."""
        if not self._crosswalk:
            for tie in self.store.ties([TieType.FROM_SOURCE]):
                if tie.source not in self._retired:
                    self._crosswalk.setdefault(tie.target, tie.source)
        return self._crosswalk

    # -- customers ------------------------------------------------------------------------------

    def load_customers(self, sources: list[Source], files: dict[str, list[Path]], review: ReviewList) -> None:
        self._retired = review.retired_customers()
        existing = dict(self.crosswalk())
        rows: list[_CustomerRow] = []
        reports: list[SourceReport] = []
        seen_refs: set[str] = set()
        for source in sources:
            report, raws = self.read(source, files[source.name], "customers")
            reports.append(report)
            for raw_source in raws:
                for raw in raw_source.records:
                    record = self._customer_record(source, report, raw_source.path, raw, seen_refs)
                    if record is not None:
                        rows.append(_CustomerRow(record, raw, raw_source.path))
        resolved = resolve(
            [row.record for row in rows],
            merge_above=self.mapping.resolution.merge_above,
            review_above=self.mapping.resolution.review_above,
            hash_key=self.hash_key,
            existing=existing,
            forced_merges=review.forced_merges(),
            separated=review.separated_keys(),
        )
        self.review_candidates = resolved.review
        self.merged_by_score = resolved.merges_by_score

        by_report = {report.name: report for report in reports}
        known = self.known(NodeLabel.CUSTOMER)
        done: dict[str, int] = dict.fromkeys(by_report, 0)
        records = [row.record for row in rows]
        for batch in customer_batches(records, resolved.customer_ids, self.batch_size):
            report = by_report[batch.source]
            report.loaded += batch.loaded
            report.merged += batch.merged
            done[batch.source] += batch.rows
            self.flush(report, batch.pending, done[batch.source], report.rows_read)
        for record, customer_id in zip(records, resolved.customer_ids, strict=True):
            self._crosswalk[record.ref] = customer_id
            known.add(customer_id)
        if self.progress is not None:
            for report in reports:
                self.progress(report.name, report.rows_read, report.rows_read)
        # Lineage nodes of this load are known too (for ties reading them, none today).
        self.known(NodeLabel.SOURCE_RECORD).update(row.record.ref for row in rows)

    def _customer_record(
        self, source: Source, report: SourceReport, path: Path, raw: RawRecord, seen_refs: set[str]
    ) -> CustomerRecord | None:
        if raw.problem is not None:
            self.refuse(report, path, raw, raw.problem, raw.message)
            return None
        try:
            key = self.row_key(source, raw.values)
            kind = self._kind(source, raw.values)
            typed = transform_row(source.columns, raw.values, self.hash_key, today=self.today)
        except RowProblem as problem:
            self.refuse(report, path, raw, problem.reason, problem.message)
            return None
        ref = f"{source.system}:{key}"
        if ref in seen_refs:
            self.refuse(report, path, raw, QuarantineReason.DUPLICATE_KEY, f"key {source.system} repeated")
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

    def _kind(self, source: Source, values: dict[str, str]) -> NodeLabel:
        assert source.node is not None
        if source.node is not NodeLabel.CUSTOMER:
            return source.node
        code = values.get(source.kind_from or "", "").strip()
        kind = (source.kind_map or {"Person": "Person", "Company": "Company"}).get(code)
        if kind is None:
            raise RowProblem(QuarantineReason.UNKNOWN_CODE, f"kind column {source.kind_from}: code not in kind_map")
        return NodeLabel(kind)

    # -- other nodes ----------------------------------------------------------------------------

    def load_nodes(self, source: Source, files: list[Path]) -> None:
        assert source.node is not None
        started = time.perf_counter()
        report, raws = self.read(source, files, "nodes")
        known = self.known(source.node)
        seen: set[str] = set()
        written: set[str] = set()
        batch = _Pending()
        done = 0
        for raw_source in raws:
            for raw in raw_source.records:
                done += 1
                if raw.problem is not None:
                    self.refuse(report, raw_source.path, raw, raw.problem, raw.message)
                    continue
                try:
                    key = self.row_key(source, raw.values)
                    typed = transform_row(source.columns, raw.values, self.hash_key, today=self.today)
                    node_id = source.id_prefix + key
                    if key in seen:
                        raise RowProblem(QuarantineReason.DUPLICATE_KEY, f"key {', '.join(source.key)} repeated")
                    links = [self._link(source.node, node_id, link, raw.values) for link in source.links]
                except RowProblem as problem:
                    self.refuse(report, raw_source.path, raw, problem.reason, problem.message)
                    continue
                seen.add(key)
                if node_id in written:
                    report.merged += 1
                else:
                    report.loaded += 1
                    written.add(node_id)
                batch.nodes.append(NodeRow(label=source.node, id=node_id, properties=typed.properties))
                known.add(node_id)
                for made in links:
                    if made is None:
                        continue
                    created, tie = made
                    if created is not None:
                        batch.nodes.append(created)
                        self.known(created.label).add(created.id)
                    batch.ties.append(tie)
                batch.rows += 1
                if batch.rows >= self.batch_size:
                    self.flush(report, batch, done, report.rows_read)
        self.flush(report, batch, report.rows_read, report.rows_read)
        report.seconds = round(time.perf_counter() - started, 3)

    def _link(
        self, label: NodeLabel, node_id: str, link: Link, values: dict[str, str]
    ) -> tuple[NodeRow | None, TieRow] | None:
        tie_spec = spec(link.type)
        node_is_source = tie_spec.source is label.primary
        other_label = tie_spec.target if node_is_source else tie_spec.source
        raw_key = link.value if link.value is not None else values.get(link.from_ or "", "")
        key = to_half_width(raw_key).strip()
        if not key:
            if link.required:
                raise RowProblem(QuarantineReason.MISSING_VALUE, f"{link.type} link column {link.from_} empty")
            return None
        created: NodeRow | None = None
        if other_label is NodeLabel.CUSTOMER:
            other_id = self.crosswalk().get(f"{link.system or ''}:{key}")
        else:
            other_id = link.prefix + key
            if other_id not in self.known(other_label):
                if link.create:
                    created = NodeRow(label=other_label, id=other_id, properties={"name": key})
                else:
                    other_id = None
        if other_id is None:
            if link.required:
                raise RowProblem(QuarantineReason.ORPHAN, f"{link.type} link: no {other_label} for column {link.from_}")
            return None
        source, target = (node_id, other_id) if node_is_source else (other_id, node_id)
        return created, TieRow(type=link.type, source=source, target=target)

    # -- ties ----------------------------------------------------------------------------------

    def load_ties(self, source: Source, files: list[Path]) -> None:
        assert source.tie is not None and source.source is not None and source.target is not None
        started = time.perf_counter()
        report, raws = self.read(source, files, "ties")
        batch = _Pending()
        done = 0
        for raw_source in raws:
            for raw in raw_source.records:
                done += 1
                if raw.problem is not None:
                    self.refuse(report, raw_source.path, raw, raw.problem, raw.message)
                    continue
                try:
                    ties = self._ties(source, raw.values)
                except RowProblem as problem:
                    self.refuse(report, raw_source.path, raw, problem.reason, problem.message)
                    continue
                keys = [_tie_key(tie) for tie in ties]
                if all(key in self._ties_seen for key in keys):
                    report.merged += 1
                else:
                    report.loaded += 1
                self._ties_seen.update(keys)
                batch.ties.extend(ties)
                batch.rows += 1
                if batch.rows >= self.batch_size:
                    self.flush(report, batch, done, report.rows_read)
        self.flush(report, batch, report.rows_read, report.rows_read)
        report.seconds = round(time.perf_counter() - started, 3)

    def _ties(self, source: Source, values: dict[str, str]) -> list[TieRow]:
        assert source.tie is not None and source.source is not None and source.target is not None
        code = values.get(source.tie.type_from or "", "").strip() if source.tie.type_from else None
        types = source.tie.types_for(code)
        if types is None:
            raise RowProblem(QuarantineReason.UNKNOWN_CODE, f"tie type column {source.tie.type_from}: code not in map")
        typed = transform_row(source.columns, values, self.hash_key, today=self.today)
        ties: list[TieRow] = []
        for tie_type in types:
            tie_spec = spec(tie_type)
            ends: list[str] = []
            for end, label in ((source.source, tie_spec.source), (source.target, tie_spec.target)):
                key = to_half_width(values.get(end.from_, "")).strip()
                if not key:
                    raise RowProblem(QuarantineReason.MISSING_VALUE, f"tie end column {end.from_} empty")
                if label is NodeLabel.CUSTOMER:
                    found = self.crosswalk().get(f"{end.system or source.system}:{key}")
                else:
                    found = end.prefix + key if end.prefix + key in self.known(label) else None
                if found is None:
                    raise RowProblem(QuarantineReason.ORPHAN, f"{tie_type}: no {label} for column {end.from_}")
                ends.append(found)
            if ends[0] == ends[1] and tie_spec.source is tie_spec.target:
                raise RowProblem(QuarantineReason.SELF_TIE, f"{tie_type} from a {tie_spec.source} to itself")
            ties.append(TieRow(type=tie_type, source=ends[0], target=ends[1], properties=typed.properties))
        return ties


def _tie_key(tie: TieRow) -> tuple[TieType, str, str]:
    if spec(tie.type).symmetric and tie.target < tie.source:
        return (tie.type, tie.target, tie.source)
    return (tie.type, tie.source, tie.target)
