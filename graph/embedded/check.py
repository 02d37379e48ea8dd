"""Check an embedded store's file without changing it: what ``crm-graph check`` runs.

Three passes over a read-only connection: SQLite's own integrity check (pages, indexes, free lists);
every node and tie row read and its properties decoded, as opening the store would; and the rows read
compared with the counts SQLite keeps, with every tie's ends among the nodes read. Each pass reports
what it finds instead of stopping at the first problem, so one run lists the damage.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from graph.batch import TIE_ENDS
from graph.embedded.disk import Disk, check_file_kind, sqlite_failure
from graph.errors import StoreCorrupt, StoreUnavailable
from graph.model import NodeLabel

MAX_PROBLEMS = 100
"""Problems listed in full; a file damaged throughout would otherwise print one line per row."""


class StoreCheck(BaseModel):
    """What a check of an embedded store's file found."""

    path: str
    ok: bool = Field(description="True when no pass found a problem")
    node_rows: int = Field(description="node rows read and decoded")
    tie_rows: int = Field(description="tie rows read and decoded")
    nodes: dict[str, int] = Field(description="nodes read and decoded by label; Customer counts persons and companies")
    ties: dict[str, int] = Field(description="ties read and decoded by type")
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
    """Check the store file at ``path``; raises ``StoreUnavailable`` only when there is no file to check."""
    if not path.is_file():
        raise StoreUnavailable(f"there is no embedded store at {path} to check")
    problems = _Problems()
    node_scan, tie_scan = _Scan("node", problems), _Scan("tie", problems)
    try:
        check_file_kind(path)
        for problem in _integrity_problems(path):
            problems.add(f"SQLite integrity check: {problem}")
        with closing(Disk(path, read_only=True)) as disk:
            _check_rows(disk, node_scan, tie_scan)
    except StoreCorrupt as error:
        problems.add(f"the file {error.problem}")
    return StoreCheck(
        path=str(path),
        ok=not problems.listed,
        node_rows=node_scan.decoded,
        tie_rows=tie_scan.decoded,
        nodes=dict(sorted(node_scan.counts.items())),
        ties=dict(sorted(tie_scan.counts.items())),
        problems=problems.listed,
        problems_left_out=problems.left_out,
    )


def _integrity_problems(path: Path) -> list[str]:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            rows = db.execute(f"PRAGMA integrity_check({MAX_PROBLEMS})").fetchall()
    except sqlite3.Error as error:
        raise sqlite_failure(path, error, "check") from error
    if rows == [("ok",)]:
        return []
    # One finding a line; SQLite heads them with the name of the database, which says nothing here.
    lines = (line.strip() for row in rows for line in str(row[0]).splitlines())
    return [line for line in lines if line and not line.startswith("***")]


def _check_rows(disk: Disk, node_scan: _Scan, tie_scan: _Scan) -> None:
    keys: set[tuple[NodeLabel, str]] = set()
    for primary, node_id, kind, _ in node_scan.rows(disk.read_nodes):
        keys.add((primary, node_id))
        node_scan.counts[primary.value] += 1
        if kind is not primary:
            node_scan.counts[kind.value] += 1
    if len(keys) < node_scan.decoded:
        node_scan.problems.add(f"{node_scan.decoded - len(keys):,} node rows repeat the key of another")
    for tie_type, source, target, _ in tie_scan.rows(disk.read_ties):
        tie_scan.counts[tie_type.value] += 1
        source_label, target_label = TIE_ENDS[tie_type]
        for end, key in (("source", (source_label, source)), ("target", (target_label, target))):
            if key not in keys:
                tie_scan.problems.add(
                    f"{tie_type} tie {source!r} -> {target!r}: its {end} {key[0]} {key[1]!r} is missing"
                )
    if node_scan.stopped or tie_scan.stopped:
        return  # the counts below would only restate that a scan stopped
    # count(*) reads the smallest index, the scans read the tables: two structures that must agree.
    for scan, counted in zip((node_scan, tie_scan), disk.row_counts(), strict=True):
        if counted != scan.seen:
            scan.problems.add(f"SQLite counts {counted:,} {scan.kind} rows but a scan of the table finds {scan.seen:,}")


class _Scan:
    """One pass over a table's rows: damaged rows are reported and counted, a read SQLite cannot go on with
    ends the pass."""

    def __init__(self, kind: str, problems: _Problems) -> None:
        self.kind = kind
        self.problems = problems
        self.counts: Counter[str] = Counter()
        self.decoded = 0
        self.damaged = 0
        self.stopped = False

    @property
    def seen(self) -> int:
        return self.decoded + self.damaged

    def rows(self, read: Callable[[Callable[[str], None]], Iterator[Any]]) -> Iterator[Any]:
        try:
            for row in read(self._damaged):
                self.decoded += 1
                yield row
        except StoreCorrupt as error:
            self.stopped = True
            self.problems.add(f"reading the {self.kind} rows stopped after {self.seen:,}: the file {error.problem}")

    def _damaged(self, problem: str) -> None:
        self.damaged += 1
        self.problems.add(problem)
