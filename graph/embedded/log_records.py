"""A record of the embedded store's log (see :mod:`graph.embedded.disk`): how a batch is framed, checked and
read back.

A record is ``MAGIC``, the payload's length and xxh3-64 (64 bits each), then the payload: the batch's
resulting node and tie states and its deletions as JSON (``o``: orjson; ``j``: the standard library's, for
values orjson cannot write: integers beyond 64 bits, infinities), or the checked tables of a bulk write as
Arrow IPC streams (``a``), written from the tables' own buffers (never gathered into one copy). A store of
version 2 or 3 wrote ``OLD_MAGIC`` records (32-bit length, CRC-32): they are read as before, never written.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import xxhash

from graph.errors import StoreCorrupt
from graph.model import NodeLabel, TieType

MAGIC = b"CRMX"
_HEADER = struct.Struct("<4sQQ")
OLD_MAGIC = b"CRMB"
"""Records of versions 2 and 3: a 32-bit length and CRC-32 (read, never written)."""
_OLD_HEADER = struct.Struct("<4sII")
_HEADERS = {MAGIC: (_HEADER, xxhash.xxh3_64_intdigest), OLD_MAGIC: (_OLD_HEADER, zlib.crc32)}

Batch = dict[str, Any]
"""A logged batch: ``nodes`` [[label, id, kind, props]], ``ties`` [[type, source, target, props]],
``gone`` [[label, id]] (nodes deleted with their ties), or ``tables``: a bulk write's (nodes, ties) tables."""
OnDamage = Callable[[str], None]


def record(batch: Batch) -> list[bytes | pa.Buffer]:
    """The batch as one log record, in parts to be written one after the other."""
    parts = encode_batch(batch)
    checksum = xxhash.xxh3_64()
    for part in parts:
        checksum.update(part)
    return [_HEADER.pack(MAGIC, sum(len(part) for part in parts), checksum.intdigest()), *parts]


def encode_batch(batch: Batch) -> list[bytes | pa.Buffer]:
    """A batch's payload, in parts to be written one after the other (a bulk write's Arrow buffers are
    written as they are, not copied into one string)."""
    if "tables" in batch:
        return [b"a", *_encode_tables(*batch["tables"])]
    return [_encode_rows(batch)]


def _encode_rows(batch: Batch) -> bytes:
    try:
        text = orjson.dumps(batch)
    except orjson.JSONEncodeError:
        text = b""
    # Stored properties hold no None, so a null is an infinity orjson could not write (json writes Infinity).
    if not text or b"null" in text:
        return b"j" + json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode()
    return b"o" + text


def decode_batch(payload: bytes | memoryview) -> Batch:
    """A batch from its payload; ``ValueError`` when it is not one. Tables are read in place from ``payload``."""
    kind, body = bytes(payload[:1]), memoryview(payload)[1:]
    if kind == b"a":
        return {"tables": _decode_tables(body)}
    # Not orjson for "j": it turns integers beyond 64 bits into floats, silently losing digits.
    batch = orjson.loads(body) if kind == b"o" else json.loads(bytes(body)) if kind == b"j" else None
    if not isinstance(batch, dict) or not {"nodes", "ties", "gone"} <= batch.keys():
        raise ValueError("a record that is not a batch")
    return batch


def _encode_tables(nodes: dict[NodeLabel, pa.Table], ties: dict[TieType, pa.Table]) -> list[bytes | pa.Buffer]:
    """Tables of a bulk write: a JSON list of (node or tie, label or type, bytes), then an Arrow IPC stream each."""
    parts: list[list[Any]] = []
    streams: list[bytes | pa.Buffer] = []
    for kind, tables in (("node", nodes), ("tie", ties)):
        for name, table in tables.items():
            sink = _Pieces()
            with pa.ipc.new_stream(pa.PythonFile(sink, mode="w"), table.schema) as writer:
                writer.write_table(table)
            parts.append([kind, name.value, sink.size])
            streams += sink.pieces
    header = json.dumps(parts).encode()
    return [struct.pack("<I", len(header)) + header, *streams]


class _Pieces:
    """A file for an Arrow IPC writer that keeps what is written: the columns' buffers are handed over as they
    are (``pa.Buffer``, no copy), the few bytes of framing and metadata as ``bytes``."""

    closed = False

    def __init__(self) -> None:
        self.pieces: list[bytes | pa.Buffer] = []
        self.size = 0

    def write(self, piece: bytes | pa.Buffer) -> int:
        self.pieces.append(piece)
        self.size += len(piece)
        return len(piece)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def _decode_tables(body: memoryview) -> tuple[dict[NodeLabel, pa.Table], dict[TieType, pa.Table]]:
    try:
        (length,) = struct.unpack_from("<I", body)
        parts = json.loads(bytes(body[4 : 4 + length]))
        nodes, ties = {}, {}
        offset = 4 + length
        whole = pa.py_buffer(body)
        for kind, name, size in parts:
            table = pa.ipc.open_stream(whole.slice(offset, size)).read_all()
            offset += size
            if kind == "node":
                nodes[NodeLabel(name)] = table
            else:
                ties[TieType(name)] = table
    except (struct.error, ValueError, TypeError, pa.ArrowException) as error:
        raise ValueError(f"tables that do not decode ({error})") from None
    return nodes, ties


def read_records(log: Path, on_damage: OnDamage | None = None) -> Iterator[tuple[int, Batch]]:
    """(end offset, batch) of every whole record of the log. An unfinished last record (a writer killed
    mid-append) ends the read; a damaged record with more after it raises ``StoreCorrupt`` (or, given
    ``on_damage``, is reported and the read goes on at the next record it can find)."""
    data = log.read_bytes()
    view = memoryview(data)
    offset = 0
    while offset < len(data):
        problem, start, end = _record_at(view, offset)
        if problem is None:
            try:
                batch = decode_batch(view[start:end])
            except ValueError as error:
                problem = f"a batch that does not decode ({error})"
            else:
                yield end, batch
                offset = end
                continue
        following = _next_record(data, offset + 1)
        if following < 0 and problem in _UNFINISHED:
            return  # the last record of a writer stopped while appending it: never acknowledged
        message = f"log record at byte {offset:,} is damaged: {problem}"
        if on_damage is None:
            raise StoreCorrupt(log.parent, f"has a {message}")
        on_damage(message)
        if following < 0:
            return
        offset = following


_UNFINISHED = ("it ends inside its header", "it ends before its length")


def _record_at(data: memoryview, offset: int) -> tuple[str | None, int, int]:
    """(None, payload start, end) for a whole record at ``offset``, else (what is wrong, offset, offset)."""
    if len(data) - offset < len(MAGIC):
        return "it ends inside its header", offset, offset
    found = _HEADERS.get(bytes(data[offset : offset + len(MAGIC)]))
    if found is None:
        return "no record starts there", offset, offset
    header, checksum_of = found
    if len(data) - offset < header.size:
        return "it ends inside its header", offset, offset
    _, length, checksum = header.unpack_from(data, offset)
    start = offset + header.size
    end = start + length
    if end > len(data):
        return "it ends before its length", offset, offset
    if checksum_of(data[start:end]) != checksum:
        return "its checksum does not match", offset, offset
    return None, start, end


def _next_record(data: bytes, offset: int) -> int:
    """Where the next record's magic is found from ``offset`` on (of either kind), or -1."""
    found = [at for at in (data.find(magic, offset) for magic in _HEADERS) if at >= 0]
    return min(found, default=-1)


def batch_rows(batch: Batch) -> int:
    if "tables" in batch:
        return sum(table.num_rows for tables in batch["tables"] for table in tables.values())
    return len(batch["nodes"]) + len(batch["ties"]) + len(batch["gone"])
