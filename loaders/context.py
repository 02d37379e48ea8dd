"""What the loading of one mapping shares across its sources: the store, ids made so far, quarantine, reports.

``loaders.load`` drives a load; ``loaders.customers``, ``loaders.nodes`` and ``loaders.ties`` load one
kind of source each through a :class:`LoadContext`.
"""

from __future__ import annotations

import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from graph.batch import NodeData, TieData
from graph.model import NodeLabel, TieType
from graph.settings import Backend, Settings
from graph.store import GraphStore
from loaders.bulk.lookup import NodeCodes
from loaders.bulk.tables import Tables
from loaders.delimited import character_name
from loaders.identifiers import to_half_width
from loaders.known_ids import IdLookup, KnownIds
from loaders.mapping import PERSONAL_TYPES, Mapping, Source, SourceFormat
from loaders.progress import Count
from loaders.quarantine import QuarantinedRow, QuarantineFile, QuarantineReason, redact_line
from loaders.query import query_files
from loaders.read import RawRecord, RawSource, count_records, read_columns, read_source, stream_source
from loaders.report import SourceReport
from loaders.ties_seen import TiesSeen
from loaders.transform import RowProblem, RowTransform

Progress = Callable[[str, int, int], None]
"""Called with (source name, rows done, rows total) when a source starts, after each batch and when it ends.

A streamed CSV or TSV source starts with the count of its non-blank lines after the header (a quoted
value may span lines), in a :class:`Count` of "lines"; every source ends with its rows read, which the
report counts too."""

READ_IN_FULL_FOR_COLUMNS = frozenset({SourceFormat.XLSX, SourceFormat.JSONL})
"""Formats whose column names are known only by reading the whole file."""


@dataclass
class Pending:
    """Rows waiting for the next atomic write."""

    nodes: list[NodeData] = field(default_factory=list)
    ties: list[TieData] = field(default_factory=list)
    rows: int = 0


class Rows(Protocol):
    """What a source's role makes of its rows, one at a time (``loaders.nodes.NodeRows``, ``loaders.ties.TieRows``)."""

    def take(self, path: Path, raw: RawRecord, batch: Pending) -> None:
        """Add what the row makes to ``batch``, or quarantine it."""


def node_row(label: NodeLabel, node_id: str, properties: dict[str, Any]) -> NodeData:
    """A node row to write, as the plain dict the store checks cheaply (no pydantic model per row).

    Rows may share ``properties`` with the loader: the store copies them when it checks a batch,
    and nothing changes them in between.
    """
    return {"label": label, "id": node_id, "properties": properties}


def tie_row(tie_type: TieType, source: str, target: str, properties: dict[str, Any] | None = None) -> TieData:
    """A tie row to write (see :func:`node_row`)."""
    return {"type": tie_type, "source": source, "target": target, "properties": properties or {}}


class SourceReads:
    """Reads the files of a load, each file whose columns needed a full read only once.

    An xlsx sheet or a JSON lines file is read in full to check its columns before anything is written,
    and several sources often read one sheet; the read is kept until its last source has taken it.
    Row by row, delimited files are not kept: parsing them again costs less than holding their records
    through a load. What the column-wise path makes of a file (:meth:`kept`: its text columns, a few
    bytes a cell) is kept for the other sources that read it, until the last of them is loaded.
    """

    def __init__(self, reads: Iterable[tuple[Source, Path]]) -> None:
        reads = list(reads)
        self._readers: Counter[tuple[Any, ...]] = Counter(
            _read_key(source, path) for source, path in reads if read_in_full(source)
        )
        self._kept: dict[tuple[Any, ...], RawSource] = {}
        self._loads_left: Counter[tuple[Any, ...]] = Counter(_read_key(source, path) for source, path in reads)
        self._made: dict[tuple[Any, ...], Any] = {}

    def columns(self, source: Source, path: Path) -> list[str]:
        """The file's column names, for the checks made before a load."""
        if not read_in_full(source):
            return read_columns(source, path)
        key = _read_key(source, path)
        if key not in self._kept:
            self._kept[key] = read_source(source, path)
        return self._kept[key].columns

    def read(self, source: Source, path: Path) -> RawSource:
        """The whole file, as ``read_source`` gives it."""
        key = _read_key(source, path)
        if key not in self._readers:
            return read_source(source, path)
        raw = self._kept.get(key) or read_source(source, path)
        self._readers[key] -= 1
        if self._readers[key] > 0:
            self._kept[key] = raw
        else:
            self._kept.pop(key, None)
        return raw

    def kept(self, source: Source, path: Path, make: Callable[[], Made]) -> Made:
        """What ``make`` makes of a file for the column-wise path, made once for all the sources of the load
        that read the file alike and kept until the last of them is loaded (:meth:`loaded`); a file that one
        source reads is not kept. ``make`` must make the same of the file whichever of them asks."""
        key = _read_key(source, path)
        if key in self._made:
            return cast(Made, self._made[key])
        made = make()
        if self._loads_left[key] > 1:
            self._made[key] = made
        return made

    def loaded(self, source: Source, files: Iterable[Path]) -> None:
        """Note that ``source`` is loaded: what is kept of its files for no source left is let go."""
        for path in files:
            key = _read_key(source, path)
            self._loads_left[key] -= 1
            if self._loads_left[key] <= 0:
                self._made.pop(key, None)
                self._kept.pop(key, None)

    def stream(self, source: Source, path: Path) -> tuple[int, Iterator[RawRecord]]:
        """An upper bound of the file's records (for progress) and its records, parsed lazily.

        A file read in full to check its columns is taken from that read (as :meth:`read` does).
        """
        if _read_key(source, path) in self._readers:
            records = self.read(source, path).records
            return len(records), iter(records)
        return count_records(source, path), stream_source(source, path)


Made = TypeVar("Made")


def read_in_full(source: Source) -> bool:
    """Whether the source is read whole to know its columns: then it is read once for the check and the load."""
    return source.query is not None or source.format in READ_IN_FULL_FOR_COLUMNS


def _read_key(source: Source, path: Path) -> tuple[Any, ...]:
    # Everything read_source looks at: two sources with the same key get the same records.
    if source.query is not None:
        return (path,)  # a query's stand-in path is named after its source
    return (path, source.format, source.encoding, source.separator, source.quotechar, source.sheet)


class LoadContext:
    """State shared by the sources of one load."""

    def __init__(
        self,
        store: GraphStore,
        mapping: Mapping,
        settings: Settings,
        progress: Progress | None,
        today: date | None,
        reads: SourceReads,
    ) -> None:
        self.store = store
        self.mapping = mapping
        self.batch_size = settings.batch_size
        # The embedded store merges whole tables at a cost that follows the rows given: large batches spare
        # a commit (an fsync) and a fork of the overlay per few thousand rows. Neo4j keeps its transactions small.
        large = store.backend is Backend.EMBEDDED
        self.table_batch_size = settings.table_batch_size if large else settings.batch_size
        self.hash_key = settings.pii_hash_key.get_secret_value().encode()
        self.progress = progress
        self.today = today or date.today()
        self.reads = reads
        self.quarantine: QuarantineFile | None = None
        self.reports: list[SourceReport] = []
        self.review_candidates: list[Any] = []
        self.transforms: dict[str, RowTransform] = {}
        self._sources = {source.name: source for source in mapping.sources}
        self._refused: dict[tuple[NodeLabel, str], str] = {}
        self._personal_columns = {
            source.name: [
                column.from_ for column in source.columns.values() if column.from_ and column.type in PERSONAL_TYPES
            ]
            for source in mapping.sources
        }
        self.merged_by_score = 0
        self.retired: set[str] = set()
        self.ties_seen = TiesSeen()
        self._known: dict[NodeLabel, KnownIds] = {}
        self._crosswalk: dict[str, str] = {}
        self._crosswalk_read = False
        self._crosswalk_changes = 0
        self._id_lookups: dict[NodeLabel, tuple[tuple[int, int], IdLookup]] = {}
        """Per label, the lookup and what it was made of: the crosswalk's size and changes, or how many ids
        were known and how many of them were added by this load."""
        self._node_codes: dict[NodeLabel, NodeCodes] = defaultdict(NodeCodes)

    def known(self, label: NodeLabel) -> KnownIds:
        """Ids of existing nodes under a primary label: the store's, read once, plus this load's."""
        primary = label.primary
        if primary not in self._known:
            self._known[primary] = KnownIds(self.store.node_ids(primary))
        return self._known[primary]

    def crosswalk(self) -> dict[str, str]:
        """Record ref (``system:key``) -> customer id, from the store's lineage; this load's are added later."""
        if not self._crosswalk_read:
            self._crosswalk_read = True
            for tie in self.store.ties([TieType.FROM_SOURCE]):
                if tie.source not in self.retired:
                    self._crosswalk.setdefault(tie.target, tie.source)
        return self._crosswalk

    def add_lineage(self, refs: Iterable[str], customer_ids: Iterable[str]) -> None:
        """This load's record refs and the customers they became, for ties and links that name them."""
        self._crosswalk.update(zip(refs, customer_ids, strict=True))
        self._crosswalk_changes += 1

    def id_lookup(self, label: NodeLabel) -> IdLookup:
        """The nodes of ``label`` known (:meth:`known`; for ``Customer``, the crosswalk), in a lookup made
        again only when the crosswalk changed (by its lineage), and grown by the ids added when the known
        ids did (they only grow)."""
        codes = self._node_codes[label]
        cached = self._id_lookups.get(label)
        if label is NodeLabel.CUSTOMER:
            crosswalk = self.crosswalk()
            version = (len(crosswalk), self._crosswalk_changes)
            if cached is None or cached[0] != version:
                cached = self._id_lookups[label] = (version, IdLookup.of(crosswalk, codes))
            return cached[1]
        known = self.known(label)
        version = (len(known), len(known.added))
        if cached is None:
            cached = self._id_lookups[label] = (version, IdLookup.of(known, codes))
        elif cached[0] != version:
            lookup = cached[1].grown(known.added_column(cached[0][1]), codes)
            cached = self._id_lookups[label] = (version, lookup)
        return cached[1]

    def row_transform(self, source: Source) -> RowTransform:
        """The source's column transforms, prepared once for all its rows (kept for the date warnings)."""
        transform = RowTransform(source.columns, self.hash_key, today=self.today)
        self.transforms[source.name] = transform
        return transform

    def refuse(self, report: SourceReport, file: Path, raw: RawRecord, reason: QuarantineReason, message: str) -> None:
        assert self.quarantine is not None
        personal = (raw.values.get(column, "") for column in self._personal_columns[report.name])
        text = redact_line(raw.text, personal)
        self.quarantine.add(QuarantinedRow(report.name, raw.file or file.name, raw.line, text, reason, message))
        report.count_reason(reason.value)
        if reason is not QuarantineReason.DUPLICATE_KEY:  # the key's first row was not refused
            self._remember_refused(self._sources[report.name], file, raw)

    def _remember_refused(self, source: Source, file: Path, raw: RawRecord) -> None:
        """Note the node a refused row would have made, so that an orphan pointing at it can say why."""
        if source.node is None or not raw.values:
            return
        try:
            key = row_key(source, raw.values)
        except RowProblem:
            return
        ref = f"{source.system}:{key}" if source.feeds_customers else source.id_prefix + key
        self._refused.setdefault((source.node.primary, ref), f"{source.name} {raw.file or file.name} line {raw.line}")

    def orphan(self, label: NodeLabel, ref: str, message: str) -> RowProblem:
        """An ``orphan`` problem; when the missing end's own row was quarantined, the message says where."""
        refused = self._refused.get((label.primary, ref))
        if refused is not None:
            message += f" (its row was quarantined: {refused})"
        return RowProblem(QuarantineReason.ORPHAN, message)

    def flush(self, report: SourceReport, pending: Pending, done: int, total: int) -> None:
        """Write the pending rows as one batch and report the progress."""
        if pending.nodes or pending.ties:
            report.count_written(self.store.write(pending.nodes, pending.ties))
        pending.nodes, pending.ties, pending.rows = [], [], 0
        if self.progress is not None:
            self.progress(report.name, done, total)

    def write_tables(self, report: SourceReport, tables: Tables, done: int, total: int) -> None:
        """Write tables built for a batch as one (see :mod:`loaders.bulk.tables`) and report the progress."""
        self.store.queue_bulk_write(*tables, report.count_written)
        if self.progress is not None:
            self.progress(report.name, done, total)

    def is_new(self, label: NodeLabel, node_id: str) -> bool:
        """Whether neither the store nor this load holds a node of ``label``'s primary label and ``node_id``."""
        return node_id not in self.known(label)

    def load_by_rows(
        self, source: Source, files: list[Path], role: str, rows: Callable[[LoadContext, Source, SourceReport], Rows]
    ) -> None:
        """Load a source row by row: each record given to ``rows`` (what its role makes of a row) in turn, and
        written in batches of ``batch_size`` source rows."""
        started = time.perf_counter()
        report, records, total = self.stream(source, files, role)
        taker = rows(self, source, report)
        batch = Pending()
        for done, (path, raw) in enumerate(records, start=1):
            taker.take(path, raw, batch)
            if batch.rows >= self.batch_size:
                self.flush(report, batch, done, total)
        self.finish(report, batch)
        report.seconds = round(time.perf_counter() - started, 3)

    def finish(self, report: SourceReport, pending: Pending) -> None:
        """A streamed source's last write; its progress ends with the rows read, as its report counts them."""
        self.flush(report, pending, report.rows_read, Count(report.rows_read, "rows"))

    def read(self, source: Source, files: list[Path], role: str) -> tuple[SourceReport, list[RawSource]]:
        """A source's files read in full, its report (rows read counted) and progress started."""
        report = SourceReport(name=source.name, system=source.system, role=role, files=report_files(source, files))
        raws = [without_nulls(self.reads.read(source, path), source.null_values) for path in files]
        report.rows_read = sum(len(raw.records) for raw in raws)
        self.reports.append(report)
        if self.progress is not None:
            self.progress(source.name, 0, Count(report.rows_read, "rows"))
        return report, raws

    def stream(
        self, source: Source, files: list[Path], role: str
    ) -> tuple[SourceReport, Iterator[tuple[Path, RawRecord]], int]:
        """A source's report, its records (file by file, parsed lazily) and an upper bound of their number.

        The report's ``rows_read`` counts the records as they are taken: it is complete once they all are.
        Only a batch of records needs to be alive at a time, whatever the size of the files.
        """
        report = SourceReport(name=source.name, system=source.system, role=role, files=report_files(source, files))
        streams = [self.reads.stream(source, path) for path in files]
        total = sum(count for count, _ in streams)
        self.reports.append(report)
        if self.progress is not None:
            # Delimited files are counted by their lines (a quoted value may span several), others by rows.
            unit = "lines" if source.format in (SourceFormat.CSV, SourceFormat.TSV) else "rows"
            self.progress(source.name, 0, Count(total, unit))

        nulls = frozenset(source.null_values)

        def records() -> Iterator[tuple[Path, RawRecord]]:
            for path, (_, file_records) in zip(files, streams, strict=True):
                for raw in file_records:
                    report.rows_read += 1
                    yield path, (_record_without_nulls(raw, nulls) if nulls else raw)

        return report, records(), total


def report_files(source: Source, files: list[Path]) -> list[str]:
    """The files a report names: a query source's are the files its query reads."""
    if source.query is not None:
        return [str(path) for base in files for path in query_files(source, base.parent).values()]
    return [str(path) for path in files]


def without_nulls(raw: RawSource, null_values: Iterable[str]) -> RawSource:
    """The file with cells equal to one of the source's null markers made empty (a new copy: another
    source may read the same records)."""
    nulls = frozenset(null_values)
    if not nulls:
        return raw
    records = [_record_without_nulls(record, nulls) for record in raw.records]
    return replace(raw, records=records, cells=None)  # the columns, if any, hold the markers


def _record_without_nulls(record: RawRecord, nulls: frozenset[str]) -> RawRecord:
    if not any(value.strip() in nulls for value in record.values.values()):
        return record
    values = {name: "" if value.strip() in nulls else value for name, value in record.values.items()}
    return replace(record, values=values)


def row_key(source: Source, values: dict[str, str]) -> str:
    """The record key: the key columns' values, half-width and trimmed, joined by ``|``."""
    parts = [to_half_width(values.get(column, "")).strip() for column in source.key]
    if any(not part for part in parts):
        raise RowProblem(QuarantineReason.MISSING_VALUE, f"key column(s) {', '.join(source.key)} empty")
    for column, part in zip(source.key, parts, strict=True):
        control = next((char for char in part if unicodedata.category(char) == "Cc"), None)
        if control is not None:
            message = f"key column {column} holds the control character {character_name(control)}"
            raise RowProblem(QuarantineReason.CONTROL_CHARACTER, message)
    return "|".join(parts)
