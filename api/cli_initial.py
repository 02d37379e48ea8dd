"""``crm-graph load --initial``: a bank's first Neo4j load through ``neo4j-admin database import``.

The files are loaded as by any load (same checks, quarantine, report) into a staging embedded store in a
temporary folder beside the report; that store is then imported offline (see :mod:`graph.neo4j_initial`).
The import tool writes the store files directly, at a rate no transaction can reach, but only into a
stopped database, which is why this is for a first load only.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from api.cli_support import console, fail
from api.progress import stage_bars
from api.terminal import CommandConsole
from graph.embedded import EmbeddedStore
from graph.errors import CrmGraphError
from graph.settings import Backend, Settings
from loaders.bulk import LoadPath
from loaders.matching import PairScorer
from loaders.report import LoadReport


def load_initial(
    settings: Settings,
    mapping: Path,
    report_dir: Path,
    data_dir: Path | None,
    neo4j_home: Path | None,
    *,
    replace: bool,
    path: LoadPath,
    score_pairs: PairScorer | None,
) -> LoadReport:
    """Load the mapping's files into a staging store, import it into Neo4j, and print both reports."""
    from graph.neo4j_initial import check_import_target, import_store
    from loaders.load import load_mapping
    from loaders.report import render

    try:
        target = check_import_target(settings, neo4j_home, replace)
        report_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="initial-", dir=report_dir) as folder:
            work = Path(folder)
            staging = settings.model_copy(update={"backend": Backend.EMBEDDED, "embedded_path": work / "staging.db"})
            with EmbeddedStore(staging.embedded_path) as store, stage_bars(console) as progress:
                report = load_mapping(
                    store,
                    mapping,
                    report_dir,
                    progress,
                    settings=staging,
                    data_dir=data_dir,
                    review_path=settings.review_path,
                    path=path,
                    score_pairs=score_pairs,
                )
                imported = import_store(store, target, work, progress)
    except CrmGraphError as error:
        raise fail(error) from None
    out = CommandConsole()
    render(report, out)
    total = report.seconds + imported.files_seconds + imported.import_seconds + imported.start_seconds
    out.print(
        f"neo4j-admin imported {imported.nodes:,} nodes and {imported.ties:,} ties in {imported.import_seconds:.1f} s "
        f"({imported.rows_per_second:,.0f} rows/s, its start included); import files written in "
        f"{imported.files_seconds:.1f} s; server start, indexes and {imported.after_import_rows:,} values CSV cannot "
        f"carry in {imported.start_seconds:.1f} s. {report.rows_read:,} source rows in {total:.1f} s "
        f"({report.rows_read / max(total, 1e-9):,.0f} rows/s).",
        highlight=False,
    )
    if imported.uri is not None:
        out.print(f"Neo4j serves the imported database at {imported.uri} again.", highlight=False)
    else:
        out.print(
            f"Serve it with: python -m graph.neo4j_launcher --home {target.home} (or start the Neo4j of that folder).",
            highlight=False,
        )
    console.print(f"report: {report_dir / 'report.json'}")
    return report
