"""What every ``crm-graph`` command shares: the console, the backend option, settings and one-line errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from api.terminal import CommandConsole
from graph.errors import CrmGraphError, TooManyQuarantined
from graph.settings import Backend, Settings
from loaders.generator.effects import WorldName

if TYPE_CHECKING:
    from loaders.report import LoadReport

console = CommandConsole(stderr=True)

BackendOption = Annotated[
    Backend | None, typer.Option("--backend", help="Store to use; default from CRM_GRAPH_BACKEND (embedded).")
]

WorldOption = Annotated[
    WorldName,
    typer.Option(
        "--world",
        help="Mechanisms of the generated bank: none between customers (null), spread along ties (contagion), "
        "shared causes only (confounded) or all (mixed).",
    ),
]


def settings_for(backend: Backend | None) -> Settings:
    settings = Settings()
    return settings.model_copy(update={"backend": backend}) if backend else settings


def fail(error: CrmGraphError, code: int = 1) -> typer.Exit:
    """Print the error as one line, however narrow the terminal, and give the exit to raise."""
    console.print(Text.assemble(("error:", "red"), f" {error}"), soft_wrap=True)
    return typer.Exit(code=code)


def check_quarantine_share(report: LoadReport, max_share: float) -> None:
    """Exit non-zero, naming the sources and their top reasons, when a source quarantined more than ``max_share``."""
    excess = report.over_quarantine_share(max_share)
    if excess:
        refused = f"The rows that passed are loaded; the refused ones are in {report.quarantine_path}"
        raise fail(TooManyQuarantined("; ".join(excess) + f". {refused}"))
