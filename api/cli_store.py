"""``crm-graph check`` and ``crm-graph migrate``: commands on the embedded store's files themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli_support import BackendOption, fail, settings_for
from graph.errors import ConfigurationError, CrmGraphError
from graph.settings import Backend


def check(
    backend: BackendOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Check the embedded store without changing it; exit 0 when sound, 1 when damaged, 2 when absent.

    Reads every snapshot file and checks its table as opening the store would, checks every log record's
    checksum, and applies the logged batches on top, naming each tie whose end is missing.
    """
    from graph.embedded.check import check_store

    path = _embedded_path(backend, "check reads the embedded store's file; Neo4j checks its own")
    try:
        report = check_store(path)
    except CrmGraphError as error:
        raise fail(error, code=2) from None
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        typer.echo(f"{report.path}: {report.node_rows:,} nodes and {report.tie_rows:,} ties read and decoded")
        if report.ok:
            typer.echo("no problems found: every snapshot file and logged batch reads and holds together")
        else:
            found = len(report.problems) + report.problems_left_out
            typer.echo(f"{found:,} problem{'s' if found > 1 else ''} found (the file was not changed):")
            for problem in report.problems:
                typer.echo(f"  - {problem}")
            if report.problems_left_out:
                typer.echo(f"  ... and {report.problems_left_out:,} more")
            typer.echo("Restore the store from a backup; opening it is refused until then.")
    if not report.ok:
        raise typer.Exit(code=1)


def migrate(backend: BackendOption = None) -> None:
    """Convert an embedded store of an earlier format, in place, into the current format.

    A SQLite store: the new store is built beside the old file and checked; the old file is then kept as
    ``<path>.sqlite-v1`` (delete it once the new store serves you) and the new store takes its path. A store
    whose snapshot is of Parquet files: the snapshot is written again as memory-mapped Arrow files.
    """
    from graph.embedded.migrate import migrate as migrate_store

    path = _embedded_path(backend, "migrate converts the embedded store; Neo4j keeps its own format")
    try:
        done = migrate_store(path)
    except CrmGraphError as error:
        raise fail(error) from None
    converted = f"{done.path}: {done.nodes:,} nodes and {done.ties:,} ties converted"
    if done.kept_as is None:
        typer.echo(f"{converted}; its snapshot is now of Arrow files, opened without decoding")
    else:
        typer.echo(f"{converted}; the old file is {done.kept_as}")


def _embedded_path(backend: Backend | None, refusal: str) -> Path:
    """The embedded store's path, or exit 2 with ``refusal`` when the chosen backend is Neo4j."""
    settings = settings_for(backend)
    if settings.backend is not Backend.EMBEDDED:
        raise fail(ConfigurationError(refusal), code=2)
    return settings.embedded_path
