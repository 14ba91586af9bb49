"""Allocator tuning for national-scale runs.

glibc serves every allocation above 32 MiB with a fresh ``mmap`` and returns
it on free, so each large numpy temporary (a column of 7.6 million cadres is
60 MiB) is page-faulted in from zero again, month after month: at national
scale that doubled the time per month. Asking glibc to serve large blocks
from its heap and keep freed memory lets temporaries reuse warm pages
(measured in docs/performance.md). Peak memory is unchanged; memory is
handed back to the system only when the process ends.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_MAX = -4
_done = False


def keep_large_blocks_in_heap() -> bool:
    """Tune glibc's malloc once per process (no-op elsewhere); True if it was applied."""
    global _done
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = (libc.mallopt(M_MMAP_MAX, 0) == 1
              and libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1
              and libc.mallopt(M_TOP_PAD, 256 * 2**20) == 1)
    except (OSError, AttributeError):
        return False
    _done = ok
    return ok
