"""Both cores for one model: the month's long loops and draws split over threads, with the same bits.

A compiled row loop (``sim.model.rows``) and a column of draws (``Streams.uniforms``) release the GIL, and
each row's result depends on that row alone, so a loop can go over spans of rows on several threads at once
and give what one thread gives, to the bit. A county tally adds rows in row order, so its spans end where a
county ends (``spans(..., groups=county)``): each county is still summed by one thread, in row order.

How many threads: ``set_threads(n)`` (or the ``threads(n)`` context), else ``$GRASSROOTS_THREADS``, else the
cores this process may use; a worker process of a pool or a Dask cluster uses one (its pool has the cores).
Spans have at least ``MIN_ROWS`` rows: a smaller loop runs on the caller's thread, where handing it over
would cost more than it saves.

Imports no numpy until a loop is split (``grassroots`` checks ``$GRASSROOTS_THREADS`` before any command).
"""

from __future__ import annotations

import multiprocessing
import operator
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

MIN_ROWS = 16_384  # rows per span at least (a compiled loop: ~50 ns a row, a hand-over ~20-50 us)

_lock = threading.Lock()
_state: dict = {"threads": None, "pool": None, "size": 0}


def _after_fork_in_child() -> None:
    """A forked child has none of its parent's pool threads: it starts afresh (and counts as a worker)."""
    global _lock
    _lock = threading.Lock()
    _state.update(threads=None, pool=None, size=0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def default_threads() -> int:
    """``$GRASSROOTS_THREADS``, else 1 in a worker process, else the cores this process may use."""
    text = os.environ.get("GRASSROOTS_THREADS", "").strip()
    if text:
        try:
            n = int(text)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"GRASSROOTS_THREADS={text!r} must be a whole number of at least 1")
        return n
    if multiprocessing.parent_process() is not None:  # a worker of a process pool (or of Dask's nanny)
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def count() -> int:
    """The number of threads a loop may use in this process."""
    if _state["threads"] is None:
        _state["threads"] = default_threads()
    return _state["threads"]


def set_threads(n: int) -> int:
    """Let loops use ``n`` threads from now on (1: the caller's thread only); returns the number before."""
    try:
        whole = None if isinstance(n, bool) else operator.index(n)
    except TypeError:
        whole = None
    if whole is None or whole < 1:
        raise ValueError(f"threads must be a whole number of at least 1, not {n!r}")
    before = count()
    _state["threads"] = whole
    return before


@contextmanager
def threads(n: int):
    """``set_threads(n)`` for the ``with`` block, then the number before."""
    before = set_threads(n)
    try:
        yield
    finally:
        _state["threads"] = before


def spans(n: int, groups=None, minimum: int | None = None) -> list[tuple[int, int]]:
    """Rows ``0 .. n-1`` as up to ``count()`` spans of at least ``minimum`` (default ``MIN_ROWS``) rows, in order.

    With ``groups`` (a row's county), a span ends only where the group changes, and only if the groups are
    sorted (no group then has rows in two spans); unsorted groups give one span.
    """
    k = min(count(), n // max(1, MIN_ROWS if minimum is None else minimum))
    if k <= 1:
        return [(0, n)]
    import numpy as np

    cuts = [n * j // k for j in range(1, k)]
    if groups is not None:
        if np.any(groups[1:] < groups[:-1]):
            return [(0, n)]
        cuts = np.searchsorted(groups, groups[cuts], side="left").tolist()  # back to its group's first row
    edges = sorted({0, *cuts, n})
    return [(lo, hi) for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]


def _pool_locked(size: int) -> ThreadPoolExecutor:
    if _state["pool"] is None or _state["size"] < size:
        if _state["pool"] is not None:
            _state["pool"].shutdown(wait=False)  # its submitted spans still run to their end
        _state["pool"] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="grassroots-rows")
        _state["size"] = size
    return _state["pool"]


def run(function, pieces: list[tuple[int, int]]) -> None:
    """``function(lo, hi)`` for every span: the first on this thread, the others on the pool's threads at
    the same time; returns when all are done (an error in any is raised here, after all have ended)."""
    if len(pieces) == 1:
        function(*pieces[0])
        return
    with _lock:  # a pool is replaced (by a larger one) only under the lock, so none is shut down while used here
        pool = _pool_locked(len(pieces) - 1)
        futures = [pool.submit(function, lo, hi) for lo, hi in pieces[1:]]
    try:
        function(*pieces[0])
    finally:
        errors = [f.exception() for f in futures]  # waits for each
    for error in errors:
        if error is not None:
            raise error
