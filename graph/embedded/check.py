"""Check an embedded store without changing it: what ``crm-graph check`` runs.

The passes, each reporting what it finds instead of stopping at the first problem, so one run lists the
damage: the MANIFEST; every snapshot file read whole and its table checked as opening the store checks it
(ids unique and in order, kinds of the label, ties between nodes of the snapshot, in order); every log
record's checksum and payload; and every logged batch applied on top, naming a tie whose end is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import pyarrow as pa
from pydantic import BaseModel, Field

from graph.batch import TIE_ENDS
from graph.embedded.disk import manifest_logs, read_manifest, refuse_other_files
from graph.embedded.id_index import IdIndex, capacity_for
from graph.embedded.layout import ID, NodeTable, id_bytes, index_slots
from graph.embedded.log_records import Batch, read_records
from graph.embedded.snapshot import SnapshotFile, snapshot_files
from graph.embedded.tie_table import TieTable, in_order
from graph.embedded.view import WritableGraph
from graph.errors import StoreCorrupt, StoreOutdated, StoreUnavailable
from graph.model import PRIMARY_LABELS, NodeLabel, TieType

MAX_PROBLEMS = 100
"""Problems listed in full; a store damaged throughout would otherwise print one line per row."""


class StoreCheck(BaseModel):
    """What a check of an embedded store found."""

    path: str
    ok: bool = Field(description="True when no pass found a problem")
    node_rows: int = Field(description="nodes read (snapshot and log)")
    tie_rows: int = Field(description="ties read (snapshot and log)")
    nodes: dict[str, int] = Field(description="nodes read by label; Customer counts persons and companies")
    ties: dict[str, int] = Field(description="ties read by type")
    problems: list[str] = Field(description=f"what is wrong, the first {MAX_PROBLEMS}")
    problems_left_out: int = Field(0, description="problems found beyond those listed")


class _Problems:
    def __init__(self) -> None:
        self.listed: list[str] = []
        self.left_out = 0

    def add(self, problem: str) -> None:
        if len(self.listed) < MAX_PROBLEMS:
            self.listed.append(problem)
        else:
            self.left_out += 1


def check_store(path: Path) -> StoreCheck:
    """Check the store at ``path``; raises ``StoreUnavailable`` when there is nothing to check, ``StoreOutdated``
    when it is of the earlier format."""
    if not path.exists():
        raise StoreUnavailable(f"there is no embedded store at {path} to check")
    problems = _Problems()
    graph = WritableGraph()
    try:
        refuse_other_files(path)
        manifest = read_manifest(path)
    except StoreOutdated:
        raise  # not damage: the one line says to migrate it
    except StoreCorrupt as error:
        problems.add(f"the store {error.problem}")
    else:
        graph = _snapshot_graph(path, manifest["snapshot"], problems)
        batches: list[Batch] = []
        for log in manifest_logs(manifest):
            try:
                batches += [batch for _, batch in read_records(path / log, problems.add)]
            except OSError as error:
                problems.add(f"the log {log} cannot be read ({error.strerror})")
        for number, batch in enumerate(batches, start=1):
            _apply(graph, number, batch, problems)
    node_counts, tie_counts = graph.counts()
    return StoreCheck(
        path=str(path),
        ok=not problems.listed,
        node_rows=sum(node_counts[label] for label in PRIMARY_LABELS),
        tie_rows=sum(tie_counts.values()),
        nodes={label.value: count for label, count in sorted(node_counts.items())},
        ties={tie_type.value: count for tie_type, count in sorted(tie_counts.items())},
        problems=problems.listed,
        problems_left_out=problems.left_out,
    )


def _snapshot_graph(path: Path, snapshot: str | None, problems: _Problems) -> WritableGraph:
    """The snapshot as a graph, leaving out (and reporting) each table that cannot be read or does not hold."""
    nodes: dict[NodeLabel, pa.Table] = {}
    ties: dict[TieType, pa.Table] = {}
    if snapshot is None:
        return WritableGraph()
    folder = path / snapshot
    if not folder.is_dir():
        problems.add(f"the snapshot folder {snapshot} the MANIFEST names is missing")
        return WritableGraph()
    try:
        node_files, tie_files, index_files = snapshot_files(path, snapshot)
    except StoreCorrupt as error:
        problems.add(f"the store {error.problem}")
        return WritableGraph()
    counts: dict[NodeLabel, int] = {}
    for label, (file, expected) in node_files.items():
        table = _read(path, file, expected, problems)
        if table is not None and _holds(partial(NodeTable, label, table), file.name, problems):
            nodes[label] = table
            counts[label] = table.num_rows
    for tie_type, (file, expected) in tie_files.items():
        table = _read(path, file, expected, problems)
        if table is None:
            continue
        source_count, target_count = (counts.get(label, 0) for label in TIE_ENDS[tie_type])
        if _holds(partial(_tie_table, source_count, target_count, table), file.name, problems):
            ties[tie_type] = table
    for label, (file, expected) in index_files.items():
        table = _read(path, file, expected, problems)
        if table is not None and label in nodes:
            _holds(partial(_id_index, nodes[label], table), file.name, problems)
    return WritableGraph(nodes, ties)


def _id_index(nodes: pa.Table, index: pa.Table) -> None:
    """Check that the id index finds every node of its table at its row (opening trusts it as it is)."""
    slots = index_slots(index)
    if slots is None:
        return  # of another hash: opening builds the index instead of using this one
    ids = id_bytes(nodes.column(ID))
    if len(slots) != capacity_for(len(ids)) or int(slots.max(initial=-1)) >= len(ids):
        raise ValueError(f"an id index of {len(slots):,} slots that does not fit {len(ids):,} ids")
    found = IdIndex(ids, slots)
    for row, node_id in enumerate(ids.tolist()):
        if found.row(node_id.decode()) != row:
            raise ValueError(f"an id index that does not find the node {node_id.decode()!r} at its row")


def _tie_table(source_count: int, target_count: int, table: pa.Table) -> None:
    """Build the tie table as opening does, and check the order by target a snapshot stores for it."""
    built = TieTable(source_count, target_count, table)
    if not (built.in_order == in_order(built.targets)).all():
        raise ValueError("a tie table whose order by target does not match its ties")


def _read(path: Path, file: Path, expected: tuple[int, int] | None, problems: _Problems) -> pa.Table | None:
    try:
        return SnapshotFile(path, file, expected).read()
    except StoreCorrupt as error:
        problems.add(f"the store {error.problem}")
    except FileNotFoundError:
        problems.add(f"the snapshot file {file.name} the snapshot lists is missing")
    return None


def _holds(build: Callable[[], object], name: str, problems: _Problems) -> bool:
    try:
        build()
    except ValueError as error:
        problems.add(f"the snapshot file {name} is {error}")
        return False
    return True


def _apply(graph: WritableGraph, number: int, batch: Batch, problems: _Problems) -> None:
    try:
        graph.apply(batch)
    except (ValueError, KeyError, TypeError) as error:
        problems.add(f"logged batch {number} does not apply: {error}")
