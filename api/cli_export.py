"""``crm-graph export --format parquet DIR``: the store as columnar files for the Spark engine and data platforms."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from api.cli_support import BackendOption, console, fail, settings_for
from api.progress import stage_bars
from graph.errors import CrmGraphError
from graph.factory import open_store


class ExportFormat(StrEnum):
    PARQUET = "parquet"


def export(
    out: Annotated[Path, typer.Argument(help="New or empty folder for the files.")],
    file_format: Annotated[ExportFormat, typer.Option("--format", help="File format.")] = ExportFormat.PARQUET,
    backend: BackendOption = None,
) -> None:
    """Write every node (one file per label) and tie (one file per type) of the store as Parquet files."""
    from graph.parquet_export import export_parquet

    settings = settings_for(backend)
    try:
        with open_store(settings, read_only=True) as store, stage_bars(console) as progress:
            files = export_parquet(store, out, progress)
    except CrmGraphError as error:
        raise fail(error) from None
    console.print(
        f"{files.nodes:,} nodes and {files.ties:,} ties in {len(files.files)} {file_format.value} files under "
        f"{files.directory} ({files.seconds:.1f} s)"
    )
