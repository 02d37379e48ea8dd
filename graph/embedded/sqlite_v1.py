"""The embedded store's earlier on-disk format, kept to read it once: ``crm-graph migrate`` converts it.

SQLite in WAL mode, one row per node and per tie (a JSON document of properties each).

SQLite gives the atomic, crash-safe commit: a batch is one transaction, so a process killed in the
middle of it leaves the previous state on disk. ``synchronous=FULL`` also survives a power cut.

A file that cannot be read as a store (damaged pages, a payload that is not JSON, a zero-length file,
some other file) is never repaired or written over: every read of it ends in ``StoreCorrupt``, one line
naming the file and what to do. A new store is made whole beside its path and renamed into place, so a
file at the path that is not a valid store is never one this code left half made.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from graph.errors import StoreCorrupt, StoreError, StoreUnavailable
from graph.model import NodeLabel, TieType

SCHEMA_VERSION = "1"

# Rows go to the end of a rowid table and only the keys into a (much smaller) unique index. Keyed by
# (label, id) with the properties inside (WITHOUT ROWID), every insert landed on a random page of a
# table of gigabytes: at 1.5 million nodes it wrote 16,000 rows/s, against 29,000 this way. Files made
# with the earlier layout stay readable and writable: the statements below work on either.
_SCHEMA = f"""
BEGIN;
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}');
CREATE TABLE nodes (label TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, props TEXT NOT NULL);
CREATE UNIQUE INDEX nodes_key ON nodes (label, id);
CREATE TABLE ties (type TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, props TEXT NOT NULL);
CREATE UNIQUE INDEX ties_key ON ties (type, source, target);
COMMIT;
"""

CACHE_KIB = 262_144
"""SQLite's page cache (256 MiB; its default is 2 MiB): the key indexes of a large bank stay in memory."""

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""

NodeRowOnDisk = tuple[str, str, str, str]
TieRowOnDisk = tuple[str, str, str, str]
StoredNode = tuple[NodeLabel, str, NodeLabel, dict[str, Any]]
"""A node as read back: primary label, id, the node's own label (Person for a Customer), properties."""
StoredTie = tuple[TieType, str, str, dict[str, Any]]
OnDamage = Callable[[str], None]
"""Told about each row that cannot be read (a check lists them); without one, the first ends the read."""


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""For the rare values orjson refuses (integers beyond 64 bits), which the file has always held."""


def encode(props: dict[str, Any]) -> str:
    """Properties as compact JSON text (orjson: several times faster than ``json`` on float lists)."""
    if not props:
        return "{}"
    try:
        text = orjson.dumps(props)
    except orjson.JSONEncodeError:
        return _ENCODER.encode(props)
    # Stored properties hold no None, so a null is an infinity orjson could not write (json writes Infinity).
    return _ENCODER.encode(props) if b"null" in text else text.decode()


def decode(text: str) -> dict[str, Any]:
    """Properties from their stored text; ``ValueError`` when the text is not a JSON object."""
    # Not orjson.loads: it turns integers beyond 64 bits into floats, silently losing digits.
    props = json.loads(text)
    if not isinstance(props, dict):
        raise ValueError(f"a JSON {type(props).__name__} instead of an object")
    return props


_RESTORE = "restore it from a backup"
_NOT_A_STORE = "check that CRM_GRAPH_EMBEDDED_PATH names the store, or " + _RESTORE


def check_file_kind(path: Path) -> None:
    """Refuse an existing file whose first bytes show it cannot be an SQLite database."""
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as error:
        raise StoreUnavailable(f"cannot read the embedded store {path}: {error.strerror}") from None
    if not header:
        raise StoreCorrupt(path, "is empty (zero bytes)", "delete it if it never held a store, or " + _RESTORE)
    if header != SQLITE_HEADER:
        raise StoreCorrupt(path, "is not an SQLite file", _NOT_A_STORE)


def sqlite_failure(
    path: Path, error: sqlite3.Error, doing: str, otherwise: type[StoreError] = StoreUnavailable
) -> StoreError:
    """The error of the tree for an SQLite failure: damage (a file that is malformed, or not a database
    at all) is ``StoreCorrupt``; anything else (locked, busy, disk full) is ``otherwise``."""
    code = getattr(error, "sqlite_errorcode", None)
    # Extended codes (SQLITE_CORRUPT_INDEX, ...) carry the primary code in their low byte. An error without a
    # code comes from the sqlite3 module itself reading a value, such as text that is not UTF-8.
    if code is None or code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        # The module's own message quotes the undecodable text, which may be a customer's name.
        detail = "text that is not UTF-8" if str(error).startswith("Could not decode") else str(error)
        return StoreCorrupt(path, f"is damaged ({detail})")
    return otherwise(f"cannot {doing} the embedded store {path}: {error}")


def schema_version(db: sqlite3.Connection) -> str | None:
    """The schema version a store file records, or None when the file is not a store."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return None if row is None else str(row[0])


def _create(path: Path) -> None:
    """Make a new, empty store at ``path``: built whole under another name, then renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.new")
    fresh.unlink(missing_ok=True)
    db = sqlite3.connect(fresh, isolation_level=None)
    try:
        db.executescript(_SCHEMA)
    finally:
        db.close()
    os.replace(fresh, path)


_NODE_LABELS = {label.value: label for label in NodeLabel}
_TIE_TYPES = {tie_type.value: tie_type for tie_type in TieType}


def _stored_node(label: Any, node_id: Any, kind: Any, props: Any) -> StoredNode:
    primary, own = _NODE_LABELS.get(label), _NODE_LABELS.get(kind)
    if primary is None or own is None or own.primary is not primary or not isinstance(node_id, str):
        raise ValueError(f"node row ({label!r}, {node_id!r}, {kind!r}) names no label of the schema")
    try:
        return primary, node_id, own, decode(props)
    except (ValueError, TypeError) as error:
        raise ValueError(f"node {primary} {node_id!r}: its properties do not decode ({error})") from None


def _stored_tie(tie_type: Any, source: Any, target: Any, props: Any) -> StoredTie:
    kind = _TIE_TYPES.get(tie_type)
    if kind is None or not isinstance(source, str) or not isinstance(target, str):
        raise ValueError(f"tie row ({tie_type!r}, {source!r}, {target!r}) names no type of the schema")
    try:
        return kind, source, target, decode(props)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{kind} tie {source!r} -> {target!r}: its properties do not decode ({error})") from None


class Disk:
    """The SQLite file behind an embedded store."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        if not path.exists():
            if read_only:
                raise StoreUnavailable(f"there is no embedded store at {path} yet; load data into it first")
            try:
                _create(path)
            except (OSError, sqlite3.Error) as error:
                raise StoreUnavailable(f"cannot create the embedded store {path}: {error}") from error
        check_file_kind(path)
        try:
            if read_only:
                self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            else:
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as error:
            raise sqlite_failure(path, error, "open") from error
        try:
            self._configure(read_only)
        except BaseException:
            self._db.close()
            raise

    def _configure(self, read_only: bool) -> None:
        try:
            version = schema_version(self._db)
            if version != SCHEMA_VERSION:
                raise StoreCorrupt(
                    self.path,
                    f"is an SQLite file but not a crm-graph store of schema version {SCHEMA_VERSION}",
                    _NOT_A_STORE,
                )
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        except sqlite3.Error as error:
            raise sqlite_failure(self.path, error, "open") from error

    def read_nodes(self, on_damage: OnDamage | None = None) -> Iterator[StoredNode]:
        """Every node; a row that cannot be read raises ``StoreCorrupt`` or, given ``on_damage``, is skipped."""
        return self._read("SELECT label, id, kind, props FROM nodes", _stored_node, on_damage)

    def read_ties(self, on_damage: OnDamage | None = None) -> Iterator[StoredTie]:
        """Every tie, read as :meth:`read_nodes` reads nodes."""
        return self._read("SELECT type, source, target, props FROM ties", _stored_tie, on_damage)

    def row_counts(self) -> tuple[int, int]:
        """The node and tie rows SQLite counts (from the smallest index, so a check can compare them with a scan)."""
        try:
            nodes = self._db.execute("SELECT count(*) FROM nodes").fetchone()[0]
            ties = self._db.execute("SELECT count(*) FROM ties").fetchone()[0]
        except sqlite3.Error as error:
            raise sqlite_failure(self.path, error, "count the rows of") from error
        return int(nodes), int(ties)

    def _read(self, query: str, stored: Callable[..., Any], on_damage: OnDamage | None) -> Iterator[Any]:
        try:
            for row in self._db.execute(query):
                try:
                    value = stored(*row)
                except ValueError as problem:
                    if on_damage is None:
                        raise StoreCorrupt(self.path, f"holds a row that cannot be read: {problem}") from None
                    on_damage(str(problem))
                    continue
                yield value
        except sqlite3.Error as error:
            raise sqlite_failure(self.path, error, "read") from error

    def commit(
        self,
        nodes: list[NodeRowOnDisk],
        ties: list[TieRowOnDisk],
        gone_nodes: Sequence[tuple[str, str]] = (),
        gone_ties: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """Write full node and tie states and remove deleted ones, in one transaction, or nothing."""
        with self._transaction("commit a batch to"):
            self._db.executemany("INSERT OR REPLACE INTO nodes VALUES (?, ?, ?, ?)", nodes)
            self._db.executemany("INSERT OR REPLACE INTO ties VALUES (?, ?, ?, ?)", ties)
            self._db.executemany("DELETE FROM ties WHERE type = ? AND source = ? AND target = ?", gone_ties)
            self._db.executemany("DELETE FROM nodes WHERE label = ? AND id = ?", gone_nodes)

    def clear(self) -> None:
        with self._transaction("clear"):
            self._db.execute("DELETE FROM nodes")
            self._db.execute("DELETE FROM ties")

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[None]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            yield
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise sqlite_failure(self.path, error, doing, otherwise=StoreError) from error

    def ping(self) -> None:
        try:
            self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error as error:
            raise StoreUnavailable(f"the embedded store does not answer: {error}") from error

    def close(self) -> None:
        self._db.close()
