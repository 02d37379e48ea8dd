"""The ``crm-graph`` command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from graph.errors import CrmGraphError
from graph.factory import open_store
from graph.settings import Backend, Settings

app = typer.Typer(help="crm-graph: the bank's customer relationship graph.", no_args_is_help=True)
console = Console(stderr=True)

BackendOption = Annotated[
    Backend | None, typer.Option("--backend", help="Store to use; default from CRM_GRAPH_BACKEND (embedded).")
]


@app.callback()
def main() -> None:
    """Settings come from CRM_GRAPH_* environment variables or a .env file."""


def settings_for(backend: Backend | None) -> Settings:
    settings = Settings()
    return settings.model_copy(update={"backend": backend}) if backend else settings


def fail(error: CrmGraphError) -> typer.Exit:
    console.print(f"[red]error:[/red] {error}")
    return typer.Exit(code=1)


@app.command()
def stats(
    backend: BackendOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Node counts by label and relationship counts by type."""
    settings = settings_for(backend)
    try:
        with open_store(settings, read_only=True) as store:
            counts = store.counts()
    except CrmGraphError as error:
        raise fail(error) from None
    if as_json:
        typer.echo(json.dumps({"backend": settings.backend.value, **counts.model_dump()}, indent=2))
        return
    out = Console()
    for title, values in (("Nodes by label", counts.nodes), ("Ties by type", counts.ties)):
        table = Table(title=f"{title} ({settings.backend.value})")
        table.add_column("name")
        table.add_column("count", justify="right")
        for name, count in values.items():
            table.add_row(name, f"{count:,}")
        out.print(table)
