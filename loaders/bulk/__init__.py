"""The column-wise bulk path: sources of plain csv/tsv files read, typed, checked and written on whole columns.

``read`` reads a plain delimited file into Arrow columns, ``cells`` types them with the row path's own
transforms (once per distinct cell; personal identifiers checked in numpy by ``loaders.identifier_columns``),
``sources`` loads node and tie sources with them and writes through ``GraphStore.bulk_write``;
``customers`` makes the records of customer sources, held as columns (``records``), which ``resolve``
resolves with the exact merges as group-bys and ``customer_batches`` writes as tables.
"""

from __future__ import annotations

from enum import StrEnum


class LoadPath(StrEnum):
    """How node and tie sources are loaded: column-wise where a source allows it (the default), or row by row."""

    COLUMNS = "columns"
    ROWS = "rows"
