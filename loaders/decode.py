"""Decoding source files strictly, a line at a time, and checking the declared encoding before a load.

Splitting on the newline byte is safe for UTF-8, GBK and GB18030: none uses 0x0A inside a character,
so chunks cut after a newline decode as the whole does.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from loaders.raw import Undecodable

BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 1 << 20
"""Files are decoded in chunks of about this many bytes, each ending at a newline."""

NumberedLine = tuple[int, str]
"""A physical line numbered from 1, without its line end; an :class:`Undecodable` when it does not decode."""

SAMPLE_BYTES = 1 << 18
"""How much of a file the encoding check reads: enough lines to judge, little time."""

LIKELY_ENCODINGS = ("utf-8", "gb18030")
"""What a bank's export is usually in, tried in this order to name the likely encoding (GB18030 reads GBK)."""


def decode_lines(data: bytes, encoding: str) -> Iterator[NumberedLine]:
    """Physical lines of ``data`` decoded strictly, numbered from 1."""
    return decode_stream(lambda: io.BytesIO(data), encoding)


def decode_file(path: Path, encoding: str) -> Iterator[NumberedLine]:
    """The lines of a file as :func:`decode_lines` gives them, read a chunk at a time (lazily)."""
    return decode_stream(lambda: path.open("rb"), encoding)


def decode_stream(open_: Callable[[], BinaryIO], encoding: str) -> Iterator[NumberedLine]:
    """Physical lines of a byte stream decoded strictly, numbered from 1 (see :data:`NumberedLine`).

    When the whole stream decodes (the usual case) its lines are the decoded text split on newlines;
    otherwise every line is decoded on its own. A first pass checks that the whole stream decodes
    without keeping it; only one chunk is held at a time.
    """
    with open_() as handle:
        whole = _decodes(handle, encoding)
    number = 0
    with open_() as handle:
        for index, chunk in enumerate(_line_chunks(handle)):
            if whole:
                # A stateless codec per chunk, except that utf-8-sig drops a BOM only at the very start.
                codec = "utf-8" if index and encoding == "utf-8-sig" else encoding
                lines = [line.rstrip("\r") for line in chunk.decode(codec).split("\n")]
            else:
                lines = [_decode_line(line, encoding) for line in chunk.split(b"\n")]
            if chunk.endswith(b"\n"):
                lines.pop()
            for line in lines:
                number += 1
                yield number, line


def _decode_line(chunk: bytes, encoding: str) -> str:
    try:
        return chunk.decode(encoding).rstrip("\r")
    except UnicodeDecodeError:
        return Undecodable(chunk.decode(encoding, "backslashreplace").rstrip("\r"))


def _line_chunks(handle: BinaryIO) -> Iterator[bytes]:
    """The stream without a leading BOM, in non-empty chunks that end with a newline (the last may not)."""
    rest = handle.read(len(BOM))
    if rest == BOM:
        rest = b""
    while True:
        block = handle.read(CHUNK_BYTES)
        if not block:
            break
        data = rest + block
        cut = data.rfind(b"\n") + 1
        if cut:
            yield data[:cut]
        rest = data[cut:]
    if rest:
        yield rest


def _decodes(handle: BinaryIO, encoding: str) -> bool:
    """Whether the whole stream (after a leading BOM) decodes strictly."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        for chunk in _line_chunks(handle):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def count_data_lines(path: Path) -> int:
    """The physical lines of a file that are not blank, counted on its bytes, apart from any parser."""
    with path.open("rb") as handle:
        return sum(bool(line.strip()) for chunk in _line_chunks(handle) for line in chunk.split(b"\n"))


def encoding_problem(sample: bytes, declared: str) -> str | None:
    """Why ``sample`` (the start of a file) is not in the ``declared`` encoding, or None when it may be.

    Two signs, both judged on the sample's complete lines: text that is also strict UTF-8, with
    characters beyond ASCII, read as GBK or GB18030 (it decodes, as mojibake: 张伟 becomes 寮犱紵); and
    most lines with characters beyond ASCII failing to decode at all.
    """
    lines = [line for line in sample.removeprefix(BOM).split(b"\n") if not line.isascii()]
    if not lines:
        return None
    body = b"\n".join(lines)
    if declared.startswith("gb") and _strictly(body, "utf-8"):
        return f"declared {declared}, but its text is UTF-8 (read as {declared} it would be garbled)"
    failing = sum(not _strictly(line, declared) for line in lines)
    if failing * 2 > len(lines):
        likely = next((name for name in LIKELY_ENCODINGS if name != declared and _strictly(body, name)), None)
        return (
            f"declared {declared}, but {failing:,} of the {len(lines):,} sampled lines with non-ASCII text "
            f"do not decode; the likely encoding is {likely or 'none of ' + ', '.join(LIKELY_ENCODINGS)}"
        )
    return None


def read_sample(path: Path) -> bytes:
    """The start of a file, cut after its last complete line, for :func:`encoding_problem`."""
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if len(sample) == SAMPLE_BYTES:  # a cut line would not decode: judge whole lines only
        sample = sample[: sample.rfind(b"\n") + 1]
    return sample


def _strictly(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True
