"""The baselines measured in the same run as the benchmark, so their ratios hold on a noisy machine:
row-by-row ``MERGE`` against the batched write on Neo4j, and plain-Python churn spreading against scipy."""

from __future__ import annotations

import time
from pathlib import Path

from bench.measure import Progress
from bench.report import ChurnPropagation, InitialImport, RowByRow
from graph.cypher import render
from graph.model import NodeLabel, NodeRecord
from graph.settings import Settings
from graph.store import GraphStore
from queries.analytics.churn import DirectedTies, initial_energy, own_risk, spread_energy, spread_energy_loop
from queries.analytics.frames import read_frames
from queries.analytics.value import customer_value


def row_by_row_baseline(store: GraphStore, sample: list[NodeRecord], batch_size: int, progress: Progress) -> RowByRow:
    """The same customer rows under fresh ids, merged one auto-commit transaction per row, then in batches."""
    from graph.neo4j_store import Neo4jStore

    assert isinstance(store, Neo4jStore)
    rows = [record for record in sample if record.label in (NodeLabel.PERSON, NodeLabel.COMPANY)]
    progress("neo4j: row-by-row MERGE", 0, len(rows))
    began = time.perf_counter()
    with store._driver.session(database=store.database) as session:
        for done, record in enumerate(rows, start=1):
            other = NodeLabel.COMPANY if record.label is NodeLabel.PERSON else NodeLabel.PERSON
            statement = render("merge_customers", kind=record.label, other=other)
            session.run(statement, rows=[{"id": f"bench-rbr-{record.id}", "properties": record.properties}]).consume()
            if done % 500 == 0:
                progress("neo4j: row-by-row MERGE", done, len(rows))
    row_seconds = time.perf_counter() - began
    progress("neo4j: batched MERGE", 0, len(rows))
    began = time.perf_counter()
    for start in range(0, len(rows), batch_size):
        store.write(
            nodes=[
                {"label": record.label, "id": f"bench-batch-{record.id}", "properties": record.properties}
                for record in rows[start : start + batch_size]
            ]
        )
    batch_seconds = time.perf_counter() - began
    progress("neo4j: batched MERGE", len(rows), len(rows))
    progress("neo4j: bare UNWIND MERGE", 0, len(rows))
    began = time.perf_counter()
    with store._driver.session(database=store.database) as session:
        for start in range(0, len(rows), batch_size):
            batch = [
                {"id": f"bench-bare-{record.id}", "properties": record.properties}
                for record in rows[start : start + batch_size]
            ]
            session.run(BARE_UNWIND_MERGE, rows=batch).consume()
    bare_seconds = time.perf_counter() - began
    progress("neo4j: bare UNWIND MERGE", len(rows), len(rows))
    row_rate, batch_rate = len(rows) / row_seconds, len(rows) / batch_seconds
    return RowByRow(
        rows=len(rows),
        row_by_row_rows_per_second=round(row_rate, 1),
        batched_rows_per_second=round(batch_rate, 1),
        ratio=round(batch_rate / row_rate, 2),
        bare_unwind_rows_per_second=round(len(rows) / bare_seconds, 1),
    )


BARE_UNWIND_MERGE = "UNWIND $rows AS row MERGE (n:Customer {id: row.id}) SET n += row.properties"
"""The reference: what the server does for a batch with no checks, no counts and no kind labels."""


def initial_import(store: GraphStore, work: Path, progress: Progress) -> InitialImport:
    """The loaded store written as neo4j-admin import files and imported into a fresh folder, both timed."""
    from graph.neo4j_import import write_import_files
    from graph.neo4j_initial import run_import

    files = write_import_files(store, work / "import-files", progress)
    seconds = run_import(files, work / "import-home", progress)
    return InitialImport(
        nodes=files.nodes,
        ties=files.ties,
        files_seconds=round(files.seconds, 3),
        import_seconds=round(seconds, 3),
        rows_per_second=round((files.nodes + files.ties) / seconds, 1),
    )


def churn_baseline(store: GraphStore, settings: Settings, progress: Progress) -> ChurnPropagation:
    """Churn spreading over the whole bank: the plain Python loop against the scipy sparse version."""
    progress("churn spreading: loop vs sparse", 0, 0)
    analytics = settings.analytics
    frames = read_frames(store, analytics.as_of)
    value = customer_value(frames, analytics)
    own = own_risk(frames, value, analytics)
    ties = DirectedTies.from_frames(frames)
    energy = initial_energy(own, value.churned, analytics.leaving_risk)
    arguments = (analytics.spreading_factor, analytics.spreading_threshold, analytics.spreading_max_steps)
    began = time.perf_counter()
    spread_energy(frames.size, ties, energy, *arguments)
    sparse_seconds = time.perf_counter() - began
    began = time.perf_counter()
    spread_energy_loop(frames.size, ties, energy.tolist(), *arguments)
    loop_seconds = time.perf_counter() - began
    progress("churn spreading: loop vs sparse", 1, 1)
    return ChurnPropagation(
        customers=frames.size,
        ties=len(frames.tie_source),
        loop_seconds=round(loop_seconds, 4),
        sparse_seconds=round(sparse_seconds, 4),
        ratio=round(loop_seconds / max(sparse_seconds, 1e-9), 1),
    )
