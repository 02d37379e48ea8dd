"""Progress of long commands when nobody watches a terminal: a plain line per stage start and end."""

from __future__ import annotations

import io

from rich.console import Console

from api.progress import stage_bars


def test_a_log_gets_a_line_when_each_stage_starts_and_ends() -> None:
    log = io.StringIO()
    with stage_bars(Console(file=log, force_terminal=False, width=200)) as progress:
        progress("load customers", 0, 3_000)
        progress("load customers", 1_500, 3_000)
        progress("load customers", 3_000, 3_000)
        progress("analyze", 0, 0)
        progress("analyze", 1, 1)
    lines = [line for line in log.getvalue().splitlines() if line.strip()]
    assert lines[0] == "load customers: started, 3,000 to do"
    assert lines[1].startswith("load customers: done, 3,000 in ") and lines[1].endswith(" s")
    assert lines[2] == "analyze: started"
    assert lines[3].startswith("analyze: done, 1 in ")


def test_a_terminal_gets_bars_and_no_lines() -> None:
    screen = io.StringIO()
    with stage_bars(Console(file=screen, force_terminal=True, width=120)) as progress:
        progress("load customers", 0, 10)
        progress("load customers", 10, 10)
    assert "started" not in screen.getvalue() and "load customers" in screen.getvalue()
