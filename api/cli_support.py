"""What every ``crm-graph`` command shares: the console, the backend option, settings and one-line errors."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from api.terminal import CommandConsole
from graph.errors import CrmGraphError
from graph.settings import Backend, Settings

console = CommandConsole(stderr=True)

BackendOption = Annotated[
    Backend | None, typer.Option("--backend", help="Store to use; default from CRM_GRAPH_BACKEND (embedded).")
]


def settings_for(backend: Backend | None) -> Settings:
    settings = Settings()
    return settings.model_copy(update={"backend": backend}) if backend else settings


def fail(error: CrmGraphError, code: int = 1) -> typer.Exit:
    """Print the error as one line, however narrow the terminal, and give the exit to raise."""
    console.print(Text.assemble(("error:", "red"), f" {error}"), soft_wrap=True)
    return typer.Exit(code=code)
