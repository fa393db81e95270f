"""Small array helpers shared by the analysis modules (private)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_float", "dot", "finite_pairs", "quiet", "search"]


def as_float(values: object) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array (a copy only when needed)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return arr.ravel()


def finite_pairs(steps: object, values: object) -> tuple[np.ndarray, np.ndarray]:
    """Steps and values restricted to points where both are finite, sorted by step.

    Raises
    ------
    ValueError
        If ``steps`` and ``values`` differ in length.
    """
    st = np.asarray(steps)
    int_steps = st.dtype.kind in "iu"  # integer steps are finite: no mask, and sort checks stay integer
    x = st.ravel() if int_steps and st.ndim else as_float(steps)
    y = as_float(values)
    if x.shape != y.shape:
        raise ValueError(f"steps and values differ in length ({x.size} != {y.size})")
    ok = np.isfinite(y) if int_steps else np.isfinite(x) & np.isfinite(y)
    if not ok.all():
        x, y = x[ok], y[ok]
    if x.size > 1 and np.any(x[1:] < x[:-1]):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    return as_float(x), y


def quiet() -> np.errstate:
    """Context manager silencing floating-point warnings (overflow, invalid, ...)."""
    return np.errstate(all="ignore")


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product of two 1-D float arrays without BLAS.

    ``a @ b`` calls OpenBLAS ``ddot``, which starts threads above ~10^4 elements; on a busy
    2-core CI machine that made a 10^5-point trend test 10-30x slower (benchmarks/README.md).
    ``einsum`` runs single-threaded at memory speed.
    """
    return float(np.einsum("i,i->", a, b))


def search(a: object, v: object, side: str = "left") -> Any:
    """``np.searchsorted(a, v, side)`` on a sorted integer array ``a``, the same positions, without the copy
    numpy makes of the whole of ``a`` when ``v`` is of another type: a compact (int32) step array
    (:data:`lossdoc.model.COMPACT_STEP`) searched with an int64 or float probe, or an int64 one searched
    with a float probe (80 MB at 10^7 steps, for one probe). ``v`` is turned into integer probes of
    ``a``'s type that give the same answer (``a < 2.5`` is ``a < 3`` for integers, ``a <= 2.5`` is
    ``a <= 2``; probes beyond ``a``'s first and last values, and NaN, are placed at the ends, as numpy
    places them)."""
    arr = np.asarray(a)
    vv = np.asarray(v)
    if (arr.ndim != 1 or not arr.size or arr.dtype.kind not in "iu" or vv.size == 0 or vv.dtype == arr.dtype
            or vv.dtype.kind not in "iuf" or (vv.dtype.kind != "f" and arr.dtype != np.int32) or vv.dtype == np.uint64
            or max(abs(int(arr[0])), abs(int(arr[-1]))) >= 2**53):
        return np.searchsorted(arr, v, side=side)  # type: ignore[call-overload]
    first, last = int(arr[0]), int(arr[-1])
    if vv.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            r = np.ceil(vv) if side == "left" else np.floor(vv)
        r = np.where(np.isnan(r), np.inf, r)  # numpy sorts NaN last: past every step
    else:
        r = vv.astype(np.int64)
    pos = np.searchsorted(arr, np.clip(r, first, last).astype(arr.dtype), side=side)  # type: ignore[call-overload]
    pos = np.where(r > last, arr.size, np.where(r < first, 0, pos))
    return pos if pos.ndim else pos[()]


def last_quarter_bounds(ts: np.ndarray, vs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index bounds ``[lo, hi)`` into the sorted training steps ``ts`` of the training losses set beside each
    evaluation at the sorted steps ``vs``: the last quarter of the interval since the previous evaluation (up
    to and including the evaluation's step), at least one point when the interval holds any, none when it
    holds none. One definition for GP001's alignment, the messages that state an aligned training value, and
    the report's gap chart: the training loss averaged over the whole interval is higher than the model's loss
    at the evaluation (it was still improving), a bias toward val < train."""
    hi = search(ts, vs, side="right")
    lo = np.minimum(np.concatenate(([0], hi[:-1])), hi)
    return hi - np.maximum((hi - lo) // 4, np.minimum(hi - lo, 1)), hi
