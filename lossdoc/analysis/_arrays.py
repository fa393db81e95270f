"""Small array helpers shared by the analysis modules (private)."""

from __future__ import annotations

import numpy as np

__all__ = ["as_float", "dot", "finite_pairs", "quiet"]


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
