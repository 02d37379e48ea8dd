"""analyze hands freed memory back between its steps: what the C library's heap kept is returned."""

from __future__ import annotations

import platform

import pytest

from queries.analytics.freed_memory import release_freed_memory

BLOCK = 4096  # above Python's small-object allocator: each block comes from the C library's heap
BLOCKS = 50_000  # about 200 MiB


def _anonymous_resident_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon in /proc/self/status")


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_memory_freed_inside_the_heap_goes_back_to_the_system() -> None:
    blocks = [bytearray(BLOCK) for _ in range(BLOCKS)]
    kept = bytearray(BLOCK)  # made after the others, so the heap cannot simply shrink from its top
    del blocks
    before = _anonymous_resident_mib()
    release_freed_memory()
    after = _anonymous_resident_mib()
    assert before - after > 100, (before, after)
    assert len(kept) == BLOCK
