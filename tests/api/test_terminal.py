"""The command line's output wraps at a terminal's width, and nowhere else."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.table import Table
from typer.testing import CliRunner

from api.cli import app
from api.terminal import CommandConsole

LONG_LINE = "neo4j-admin database import full neo4j " + " ".join(f"--nodes=folder/file-{n}.csv" for n in range(12))


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("columns", ["20", "60", "200"])
def test_output_into_a_pipe_keeps_every_line_whole(monkeypatch: pytest.MonkeyPatch, columns: str) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setenv("FORCE_COLOR", "1")  # colour may be forced into a log; wrapping must not follow
    pipe = io.StringIO()
    console = CommandConsole(file=pipe, color_system=None)
    console.print(LONG_LINE)
    table = Table("file", "rows")
    table.add_row(LONG_LINE, "1,000")
    console.print(table)
    assert pipe.getvalue().splitlines()[0] == LONG_LINE
    assert any(LONG_LINE in line for line in pipe.getvalue().splitlines()[1:])


def test_output_on_a_terminal_wraps_at_its_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    screen = FakeTerminal()
    CommandConsole(file=screen, color_system=None).print(LONG_LINE)
    lines = screen.getvalue().splitlines()
    assert len(lines) > 1 and max(len(line) for line in lines) <= 60


def test_a_cli_error_is_one_line_whatever_the_terminal_width(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "a-folder-with-a-rather-long-name" / "and-a-store-file-that-is-not-there.sqlite"
    monkeypatch.setenv("COLUMNS", "30")
    monkeypatch.setenv("CRM_GRAPH_EMBEDDED_PATH", str(missing))
    result = CliRunner().invoke(app, ["stats"])
    assert result.exit_code == 1
    expected = f"error: there is no embedded store at {missing} yet; load data into it first"
    assert result.output.splitlines() == [expected]
