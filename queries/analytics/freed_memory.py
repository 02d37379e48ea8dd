"""Memory a step of ``crm-graph analyze`` freed, handed back to the operating system before the next step.

When a step ends its temporaries are freed (the read's records, the churn fits, the bootstrap's weights), but
the C library's allocator keeps freed blocks in its heap for reuse, and Arrow's allocator keeps its own. The
next step's large allocations come from the other allocator, or want blocks of other sizes, so the kept memory
only raises the process's peak: at 100,000 customers about 236 MiB was still kept when the results were
written back, which is where the peak was set. Asking both allocators to return it takes milliseconds once a
step. (Making glibc return every large block as it is freed, with ``MALLOC_MMAP_THRESHOLD_``, cost a third more
CPU: every large array then took fresh pages from the kernel.)
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

import pyarrow as pa


def _malloc_trim() -> Callable[[int], Any] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


_MALLOC_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Return the freed memory both allocators keep to the operating system (what is in use stays)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
    pa.default_memory_pool().release_unused()
