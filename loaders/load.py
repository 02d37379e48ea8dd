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
from datetime import date
from pathlib import Path

from graph.collector import bulk_objects
from graph.errors import AuthenticationData, ConfigurationError
from graph.settings import Settings
from graph.store import GraphStore
from loaders.bulk import LoadPath
from loaders.bulk.sources import node_source_by_columns
from loaders.bulk.ties import tie_source_by_columns
from loaders.context import LoadContext, Progress, SourceReads
from loaders.customers import CustomerBatch, customer_batches, load_customers
from loaders.mapping import Mapping, Source, SourceFormat
from loaders.matching import PairScorer
from loaders.nodes import load_nodes
from loaders.quarantine import QuarantineFile
from loaders.query import prepared, query_inputs
from loaders.read import TEXT_FORMATS, check_encoding, source_files
from loaders.report import LoadReport
from loaders.review import ReviewList
from loaders.ties import load_ties
from loaders.transform import PLAUSIBLE_YEARS, RowTransform

__all__ = ["CustomerBatch", "Progress", "check_sources", "customer_batches", "load_mapping", "refused_columns"]

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
    path: LoadPath = LoadPath.COLUMNS,
    score_pairs: PairScorer | None = None,
) -> LoadReport:
    """Load every source of a mapping file into ``store``; write ``quarantine.csv`` and ``report.json``.

    ``data_dir`` overrides the folder the mapping's paths are relative to; ``review_path`` (default
    ``report_dir / "review.json"``) is where uncertain customer pairs are kept for ``crm-graph review``.
    ``path`` chooses how node and tie sources are loaded (see ``loaders.bulk``): the store content,
    quarantine and accounting are the same either way. ``score_pairs`` scores the customer records entity
    resolution compares (None: in this process, on columns on the column-wise path; ``loaders.spark_resolve``
    on Spark).
    Raises ``SourceError`` (nothing written) when a file cannot be read or holds authentication data.
    """
    started = time.perf_counter()
    path = LoadPath(path)
    settings = settings or Settings()
    mapping = prepared(Mapping.from_file(Path(mapping_path), data_dir=data_dir))
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    review_path = review_path or report_dir / "review.json"
    files = {source.name: source_files(source, mapping.base_dir) for source in mapping.sources}
    reads = SourceReads((source, path) for source in mapping.sources for path in files[source.name])
    check_sources(mapping, files, reads)

    loader = LoadContext(store, mapping, settings, progress, today, reads)
    review = ReviewList.read(review_path)
    with bulk_objects(), store.loading(), QuarantineFile(report_dir / "quarantine.csv") as quarantine:
        loader.quarantine = quarantine
        customer_sources = [source for source in mapping.sources if source.feeds_customers]
        other_nodes = [source for source in mapping.sources if source.node is not None and not source.feeds_customers]
        tie_sources = [source for source in mapping.sources if source.tie is not None]
        load_customers(loader, customer_sources, files, review, path, score_pairs)
        for source in customer_sources:
            reads.loaded(source, files[source.name])
        for source in other_nodes:
            _load_source(loader, source, files[source.name], path, node_source_by_columns, load_nodes)
        for source in tie_sources:
            _load_source(loader, source, files[source.name], path, tie_source_by_columns, load_ties)
    review.update(loader.review_candidates)
    review.write(review_path)
    for source_report in loader.reports:
        source_report.check_accounting()
        transform = loader.transforms.get(source_report.name)
        if transform is not None:
            source_report.warnings = date_warnings(mapping, source_report.name, transform, loader.today)
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


SourceLoader = Callable[[LoadContext, Source, list[Path]], None]


def _load_source(
    loader: LoadContext,
    source: Source,
    files: list[Path],
    path: LoadPath,
    by_columns: Callable[[LoadContext, Source, list[Path]], str | None],
    by_rows: SourceLoader,
) -> None:
    """Load a source column-wise when asked and it allows it, else row by row, noting why in its report."""
    why_not = by_columns(loader, source, files) if path is LoadPath.COLUMNS else None
    if path is not LoadPath.COLUMNS or why_not is not None:
        by_rows(loader, source, files)
        loader.reports[-1].path_note = why_not or ""
    loader.reads.loaded(source, files)


def date_warnings(mapping: Mapping, source_name: str, transform: RowTransform, today: date) -> list[str]:
    """Warnings for dates after ``today`` or implausibly far back: most often a two-digit year read in the
    wrong century (set ``century_pivot``) or a wrong date pattern."""
    source = next(source for source in mapping.sources if source.name == source_name)
    warnings = []
    for name, count in sorted(transform.future_dates.items()):
        warnings.append(
            f"{count:,} date(s) in {name} (column {source.columns[name].from_}) are after {today.isoformat()}; "
            "a two-digit year needs century_pivot, a date that may lie ahead expect_future"
        )
    for name, count in sorted(transform.ancient_dates.items()):
        warnings.append(
            f"{count:,} date(s) in {name} (column {source.columns[name].from_}) are more than "
            f"{PLAUSIBLE_YEARS} years before {today.isoformat()}; check the column's format and century_pivot"
        )
    return warnings


def refused_columns(columns: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """The columns that look like authentication data (passwords, PINs, CVV/CVN, card track data)."""
    extra_names = {name.strip().lower() for name in extra}
    return [
        column
        for column in columns
        if AUTHENTICATION_COLUMN.search(column.strip()) or column.strip().lower() in extra_names
    ]


def check_sources(mapping: Mapping, files: dict[str, list[Path]], reads: SourceReads | None = None) -> None:
    """Refuse files not in their declared encoding, authentication columns, columns the mapping names
    but the file lacks, and constants that cannot be read, before any write."""
    reads = reads or SourceReads(())
    for source in mapping.sources:
        RowTransform(source.columns, b"")  # a constant its type cannot read is refused here, before any write
        if source.query is not None:
            for path, columns in query_inputs(source, mapping.base_dir).items():
                _refuse_authentication_data(source, path, columns)
        for path in files[source.name]:
            if source.format in TEXT_FORMATS and source.query is None:
                check_encoding(source, path)
            columns = reads.columns(source, path)
            _refuse_authentication_data(source, path, columns)
            if source.format is SourceFormat.JSONL:
                continue
            missing = sorted(set(_columns_used(source)) - set(columns))
            if missing and source.query is not None:
                raise ConfigurationError(
                    f"source {source.name}: its query returns no column(s) {', '.join(missing)} named in the mapping; "
                    f"{_header_seen(source, columns)}"
                )
            if missing:
                raise ConfigurationError(
                    f"source {source.name}: file {path} lacks column(s) {', '.join(missing)} named in the mapping; "
                    f"{_header_seen(source, columns)}"
                )


def _refuse_authentication_data(source: Source, path: Path, columns: list[str]) -> None:
    refused = refused_columns(columns, source.refuse_columns)
    if refused:
        raise AuthenticationData(
            f"source {source.name}: file {path} has authentication data in column(s) "
            f"{', '.join(refused)}; such data must not leave the card system. Nothing was loaded."
        )


def _header_seen(source: Source, columns: list[str]) -> str:
    """What the header read was, so that a wrong delimiter or header row shows at once."""
    shown = ", ".join(repr(name) for name in columns[:8]) + (", ..." if len(columns) > 8 else "")
    if source.query is not None:
        return f"it returns {len(columns)} column(s): {shown}"
    text = f"its header reads {len(columns)} column(s): {shown}"
    if source.format in (SourceFormat.CSV, SourceFormat.TSV):
        text += f" (split on {source.separator!r})"
        if len(columns) == 1 and any(mark in columns[0] for mark in ",;|\t" if mark != source.separator):
            text += "; is the source's delimiter right?"
    return text


def _columns_used(source: Source) -> list[str]:
    used = list(source.key) + [column.from_ for column in source.columns.values() if column.from_]
    used += [link.from_ for link in source.links if link.from_]
    if source.kind_from:
        used.append(source.kind_from)
    if source.tie is not None and source.tie.type_from:
        used.append(source.tie.type_from)
    used += [end.from_ for end in (source.source, source.target) if end is not None]
    return used
