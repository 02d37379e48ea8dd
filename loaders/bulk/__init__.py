"""The column-wise bulk path: node and tie sources read, typed, checked and written on whole columns.

``read`` reads a plain delimited file into Arrow columns, ``cells`` types them with the row path's own
transforms (once per distinct cell), ``sources`` loads node and tie sources with them and writes
through ``GraphStore.bulk_write``. Customer sources stay on the row path (entity resolution works on
records).
"""

from __future__ import annotations

from enum import StrEnum


class LoadPath(StrEnum):
    """How node and tie sources are loaded: column-wise where a source allows it (the default), or row by row."""

    COLUMNS = "columns"
    ROWS = "rows"
