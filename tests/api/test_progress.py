"""Progress of long commands when nobody watches a terminal: a plain line per stage start and end that
counts what it says it counts, and no bars printed again at the end."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from api.cli import app
from api.progress import stage_bars
from loaders.progress import Count
from tests.loaders.conftest import write_bank


def test_a_log_gets_a_line_when_each_stage_starts_and_ends() -> None:
    log = io.StringIO()
    with stage_bars(Console(file=log, force_terminal=False, width=60)) as progress:
        progress("load customers", 0, Count(3_000, "lines"))
        progress("load customers", 1_500, 3_000)
        progress("load customers", 2_990, Count(2_990, "rows"))  # a quoted value spanned lines
        progress("write the exports", 0, Count(12, "exports"))
        progress("write the exports", 12, Count(12, "exports"))
        progress("analyze", 0, 0)
        progress("analyze", 0, 1)
        progress("analyze", 1, 1)
    lines = log.getvalue().splitlines()
    assert [re.sub(r"in [\d.,]+ s$", "in # s", line) for line in lines] == [
        "load customers: started, 3,000 lines to do",
        "load customers: done, 2,990 rows in # s",
        "write the exports: started, 12 exports to do",
        "write the exports: done, 12 exports in # s",
        "analyze: started",
        "analyze: done in # s",
    ]


def test_a_terminal_gets_bars_and_no_lines() -> None:
    screen = io.StringIO()
    with stage_bars(Console(file=screen, force_terminal=True, width=120)) as progress:
        progress("load customers", 0, 10)
        progress("load customers", 10, 10)
    assert "started" not in screen.getvalue() and "load customers" in screen.getvalue()


def test_the_load_log_agrees_with_the_report_and_shows_no_stale_bars(tmp_path: Path) -> None:
    bank = write_bank(tmp_path / "bank")
    report_dir = tmp_path / "report"
    env = {"CRM_GRAPH_EMBEDDED_PATH": str(tmp_path / "store.sqlite"), "COLUMNS": "60"}
    result = CliRunner(env=env).invoke(app, ["load", str(bank), "--report-dir", str(report_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    log = [line for line in result.output.splitlines() if ": started" in line or ": done" in line]
    expected = []
    for source in report["sources"]:
        # Customer sources and column-wise sources are read in full first (rows); the others are streamed,
        # counted by lines first.
        rows = source["rows_read"]
        streamed = source["role"] != "customers" and source["path"] == "rows"
        first = "lines" if streamed else "rows"
        name = source["name"]
        expected += [
            f"{name}: started, {rows:,} {_unit(first, rows)} to do",
            f"{name}: done, {rows:,} {_unit('rows', rows)} in",
        ]
    assert sorted(re.sub(r" [\d.,]+ s$", "", line) for line in log) == sorted(expected)
    assert not re.search(r"\d/\d", result.output), "a bar (done/total) was printed in the log"


def _unit(unit: str, count: int) -> str:
    return unit.removesuffix("s") if count == 1 else unit
