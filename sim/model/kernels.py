"""Compiled loops (numba) for what numpy can only do slowly, to the same bits as the numpy code.

Imported lazily (``sim.model.metrics.group_sum`` imports it on first use), so that commands which never
step a model do not pay numba's import. Kernels are compiled with ``cache=True``: the first process
on a fresh checkout compiles them (about a second) and writes the machine code to ``__pycache__``;
later processes, and pool workers whether forked or spawned, load it from there.
If numba is not installed, ``AVAILABLE`` is False and callers use their numpy path (same results).
This module also makes the rules callable from compiled code (``_register_rules``), turns parameter
blocks into records numba can take (``record``) and keys compiled loops' caches to the rules
(``cache_by_rules``): the loops themselves are in ``sim/model/rows.py``.
"""

from __future__ import annotations

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; this keeps sim importable without it
    numba = None

AVAILABLE = numba is not None


def _njit(function):
    return numba.njit(cache=True, nogil=True)(function) if AVAILABLE else function


# --------------------------------------------------------------------------- the rules, compiled
# The stage functions and the forms they are built from (``sim.rules``, marked ``@stage`` or ``@jittable``)
# become callable from compiled code: numba compiles them on one agent's numbers wherever a loop of
# ``sim/model/rows.py`` calls them, with ``where`` and ``clip`` (numpy's, from Python) as selections.

def _register_rules() -> None:
    from numba.core import types
    from numba.extending import overload, register_jitable

    from ..rules import cadres, common, departments, residents  # noqa: F401  (fills common.JITTABLE)
    from . import agents  # noqa: F401  (its tally functions too)

    @overload(common.where, jit_options={"cache": True})
    def _where(condition, if_true, if_false):
        if isinstance(condition, (types.Boolean, types.Number)):
            return lambda condition, if_true, if_false: if_true if condition else if_false

    @overload(common.clip, jit_options={"cache": True})
    def _clip(value, low, high):
        if isinstance(value, types.Number):  # NaN stays NaN, as in np.clip
            return lambda value, low, high: low if value < low else (high if value > high else value)

    @overload(common.number, jit_options={"cache": True})
    def _number(value):
        if isinstance(value, types.Boolean):
            return lambda value: 1.0 if value else 0.0
        if isinstance(value, types.Number):
            return lambda value: float(value)

    for function in common.JITTABLE:
        register_jitable(function)


if AVAILABLE:
    _register_rules()


_DIGEST: list = []


def rules_digest() -> str:
    """A digest of what compiled loops are made from: the rules (``sim/rules``), the parameter registry and
    schema (a record's layout: ``record``), this file, ``rows.py`` and ``agents.py`` (its tally functions).
    Worked out once per process, from the sources as they were when the process first compiled a loop."""
    if not _DIGEST:
        import hashlib
        from pathlib import Path

        sim = Path(__file__).resolve().parent.parent
        sources = [sim / "model" / "kernels.py", sim / "model" / "rows.py", sim / "model" / "agents.py",
                   *sorted((sim / "rules").glob("*.py")), *sorted((sim / "config").glob("*.py")),
                   *sorted((sim / "registry").glob("*.py")), *sorted((sim / "registry").glob("*.yaml"))]
        _DIGEST.append(hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest())
    return _DIGEST[0]


def cache_by_rules(dispatcher, digest: str | None = None):
    """Key ``dispatcher``'s numba cache to ``digest`` (default ``rules_digest()``) as well as to its file.

    numba checks only the stamp of the file a compiled function is defined in, not the functions it inlines:
    a loop would go on running a rule as it was before an edit. Its cache index also records the version
    of what wrote it, checked before anything else in the index is read; adding the digest to that
    version makes an index written from other rules (or another parameter layout) count as absent, so the
    loop is compiled again and the index rewritten. Returns the dispatcher."""
    import numba.core.caching

    cache_file = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    if cache_file is None or not hasattr(cache_file, "_version"):  # a numba whose cache we cannot key: none
        dispatcher._cache = numba.core.caching.NullCache()
        return dispatcher
    cache_file._version = f"{numba.__version__}+rules-{digest or rules_digest()}"
    return dispatcher


_RECORDS: dict = {}  # (block type, field names) -> its namedtuple class
_MADE: dict = {}  # id(block) -> (block, its record): the last few blocks' records, so a model need not keep one


def record(block):
    """A parameter block (a pydantic model) as a namedtuple numba can pass to compiled rules: its numbers
    as floats, its flags as bools, its sub-blocks as nested records; text and lists are left out. The
    namedtuple class is one per block type (a global of this module, so that numba's cache finds it).
    Blocks are frozen, so a block's record is made once (a model holds none: it pickles without it)."""
    made = _MADE.get(id(block))
    if made is not None and made[0] is block:
        return made[1]
    result = _record(block)
    if len(_MADE) >= 64:
        _MADE.pop(next(iter(_MADE)))
    _MADE[id(block)] = (block, result)
    return result


def _record(block):
    from collections import namedtuple

    names, values = [], []
    for name in type(block).model_fields:
        value = getattr(block, name)
        if isinstance(value, bool):
            pass
        elif isinstance(value, (int, float)):
            value = float(value)
        elif hasattr(type(value), "model_fields"):
            value = _record(value)
        else:
            continue
        names.append(name)
        values.append(value)
    key = (type(block).__name__, tuple(names))
    cls = _RECORDS.get(key)
    if cls is None:
        import hashlib  # a name that is the same in every process (numba's cache finds the class by name)

        cls_name = f"{type(block).__name__}Record_{hashlib.sha1(' '.join(names).encode()).hexdigest()[:10]}"
        cls = namedtuple(cls_name, names)
        cls.__module__ = __name__
        globals()[cls_name] = cls
        _RECORDS[key] = cls
    return cls(*values)


@_njit
def _group_sum(index, values, out):
    # Adds values[i] to out[index[i]] in order, exactly as np.bincount does, but keeps a run of equal
    # indices in a register: the run's sum starts from the bucket's value so far and adds the same
    # numbers in the same order, so every bucket gets the same bits as bincount's sequential sums.
    n = index.shape[0]
    size = out.shape[0]
    if n == 0:
        return True
    k = index[0]
    if k < 0 or k >= size:
        return False
    acc = out[k]
    for i in range(n):
        j = index[i]
        if j != k:
            if j < 0 or j >= size:
                return False
            out[k] = acc
            k = j
            acc = out[k]
        acc += values[i]
    out[k] = acc
    return True


def group_sum(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """``np.bincount(index, weights=values, minlength=size)``, bit for bit, 3-5x faster on grouped indices."""
    index = np.asarray(index)
    if index.ndim != 1 or index.dtype.kind not in "biu":
        raise TypeError(f"group_sum: the group index must be a 1-d integer array, not {index.ndim}-d {index.dtype}")
    index = np.ascontiguousarray(index, dtype=np.intp)
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        values = values.view(np.uint8)  # numba's bool loads are slow; 0/1 bytes add the same
    else:
        values = values.astype(np.float64, copy=False)  # bincount sums its weights as doubles too
    if values.shape != index.shape:
        raise ValueError(f"group_sum: {values.shape[0] if values.ndim else 'a scalar'} values for "
                         f"{index.shape[0]} indices")
    out = np.zeros(size)
    if not _group_sum(index, values, out):
        raise ValueError(f"group_sum: an index outside 0..{size - 1}")
    return out


# --------------------------------------------------------------------------- PCG64's doubles
# numpy's PCG64 (O'Neill 2014, "PCG: a family of simple fast space-efficient statistically good algorithms for
# random number generation"; numpy's pcg64.h) written out: a 128-bit LCG stepped, then the XSL-RR output of the
# new state; a double is its top 53 bits times 2**-53, as numpy's ``Generator.random``. So ``pcg64_doubles``
# gives numpy's numbers to the bit (tests/test_streams.py). It steps four quarters of a column at once (each
# started where numpy's sequence reaches it, ``Streams.uniforms``), so that the four 128-bit multiplies of an
# iteration overlap: ~1.4 ns a double here against ~3.7 for numpy, which steps one.

if AVAILABLE:
    from llvmlite import ir
    from numba.core import types as _types
    from numba.extending import intrinsic

    _PCG_MULTIPLIER = (2549297995355413924 << 64) + 4865540595714422341  # PCG_DEFAULT_MULTIPLIER_128

    @intrinsic
    def _lcg_step(typingctx, hi, lo, inc_hi, inc_lo):
        """(hi, lo) of state * multiplier + inc, on LLVM's 128-bit integers."""
        u64 = _types.uint64
        signature = _types.UniTuple(u64, 2)(u64, u64, u64, u64)

        def codegen(context, builder, sig, args):
            i128, i64 = ir.IntType(128), ir.IntType(64)

            def wide(high, low):
                return builder.or_(builder.shl(builder.zext(high, i128), ir.Constant(i128, 64)),
                                   builder.zext(low, i128))

            state = builder.add(builder.mul(wide(args[0], args[1]), ir.Constant(i128, _PCG_MULTIPLIER)),
                                wide(args[2], args[3]))
            high = builder.trunc(builder.lshr(state, ir.Constant(i128, 64)), i64)
            return context.make_tuple(builder, sig.return_type, (high, builder.trunc(state, i64)))

        return signature, codegen

    _S58, _S64, _S63 = np.uint64(58), np.uint64(64), np.uint64(63)

    @numba.njit(cache=True, inline="always")
    def _pcg_double(hi, lo):
        x = hi ^ lo  # XSL-RR: the state's halves xor-ed, rotated right by its top 6 bits
        r = hi >> _S58
        return np.float64(((x >> r) | (x << ((_S64 - r) & _S63))) >> np.uint64(11)) * (1.0 / 9007199254740992.0)

    @numba.njit(cache=True, nogil=True)
    def _pcg64_doubles(out, start, inc_hi, inc_lo):
        n = out.shape[0]
        q = n // 4  # entries of each of the first three quarters; the fourth has the rest
        h0, l0, h1, l1 = start[0, 0], start[0, 1], start[1, 0], start[1, 1]
        h2, l2, h3, l3 = start[2, 0], start[2, 1], start[3, 0], start[3, 1]
        for i in range(q):
            h0, l0 = _lcg_step(h0, l0, inc_hi, inc_lo)
            h1, l1 = _lcg_step(h1, l1, inc_hi, inc_lo)
            h2, l2 = _lcg_step(h2, l2, inc_hi, inc_lo)
            h3, l3 = _lcg_step(h3, l3, inc_hi, inc_lo)
            out[i] = _pcg_double(h0, l0)
            out[q + i] = _pcg_double(h1, l1)
            out[2 * q + i] = _pcg_double(h2, l2)
            out[3 * q + i] = _pcg_double(h3, l3)
        for i in range(4 * q, n):
            h3, l3 = _lcg_step(h3, l3, inc_hi, inc_lo)
            out[i] = _pcg_double(h3, l3)


_MASK64 = 2**64 - 1


def pcg64_doubles(bit_generator, out: np.ndarray) -> None:
    """Fill ``out`` (1-d, contiguous) with what ``Generator(bit_generator).random(len(out))`` would give, and
    move ``bit_generator`` on as far (``np.random.PCG64``; numpy's own call where numba is not installed).
    A 32-bit draw the generator keeps in reserve is dropped (``advance`` drops it), so give it a generator
    that draws doubles only, as ``Streams.uniforms`` does."""
    n = out.shape[0]
    if not AVAILABLE:
        np.random.Generator(bit_generator).random(n, out=out)
        return
    q = n // 4
    start = np.empty((4, 2), np.uint64)
    for j in range(4):  # each quarter's state before its first entry
        if j:
            bit_generator.advance(q)
        state = bit_generator.state["state"]
        start[j] = state["state"] >> 64, state["state"] & _MASK64
    bit_generator.advance(n - 3 * q)
    inc = state["inc"]
    _pcg64_doubles(out, start, np.uint64(inc >> 64), np.uint64(inc & _MASK64))


# --------------------------------------------------------------------------- counter-based uniforms
# The compiled twin of ``sim.model.streams.counter_uniforms`` (same integers, same doubles): SplitMix64's
# output function applied to a keyed Weyl counter. Stage kernels call ``unit_at`` inline for the draw
# of agent ``i`` in column ``column_key``; nothing is stored, so a kernel draws only for the agents it
# needs, in any order, and a per-agent engine can call it on one agent.

if AVAILABLE:
    _GOLDEN = np.uint64(0x9E3779B97F4A7C15)
    _M1 = np.uint64(0xBF58476D1CE4E5B9)
    _M2 = np.uint64(0x94D049BB133111EB)
    _S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
    _TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

    @numba.njit(cache=True, inline="always")
    def mix64(z):
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)

    @numba.njit(cache=True, inline="always")
    def unit_at(column_key, i):
        """The uniform in [0, 1) of agent ``i`` (global index, a uint64) in the column keyed ``column_key``."""
        return np.float64(mix64(column_key + np.uint64(i) * _GOLDEN) >> _S11) * _TO_UNIT

    @numba.njit(cache=True, nogil=True)
    def _fill_uniforms(column_keys, index, out):
        for c in range(column_keys.shape[0]):
            k = column_keys[c]
            for j in range(index.shape[0]):
                out[c, j] = unit_at(k, index[j])

    @numba.njit(cache=True, nogil=True)
    def _fill_uniforms_range(column_keys, start, out):
        for c in range(column_keys.shape[0]):
            k = column_keys[c]
            for j in range(out.shape[1]):
                out[c, j] = unit_at(k, start + np.uint64(j))


def counter_uniforms(column_keys: np.ndarray, index: np.ndarray | None = None, start: int = 0,
                     count: int = 0) -> np.ndarray:
    """(columns, agents) uniforms: for the global indices ``index``, or for ``start .. start+count-1``."""
    keys = np.ascontiguousarray(column_keys, dtype=np.uint64)
    if index is None:
        out = np.empty((len(keys), count))
        _fill_uniforms_range(keys, np.uint64(start), out)
    else:
        index = np.ascontiguousarray(index, dtype=np.uint64)
        out = np.empty((len(keys), len(index)))
        _fill_uniforms(keys, index, out)
    return out
