"""Bootstrap intervals over tasks, shared by reports (per-run intervals) and the gate (paired).

Resampling is over tasks (episodes of one task stay together), with a fixed seed, so a verdict
or an interval is reproducible bit for bit.
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
from numpy.typing import ArrayLike

DEFAULT_RESAMPLES = 2000


class Bootstrap(TypedDict):
    """How to resample: passed whole to every function below (`**boot`)."""

    resamples: int
    seed: int
    alpha: float


def _indices(n: int, resamples: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, size=(resamples, n))


def bootstrap_ci(
    values: ArrayLike, resamples: int = DEFAULT_RESAMPLES, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Percentile interval of the mean of `values` (one value per task)."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return (float("nan"), float("nan"))
    if v.size == 1:
        return (float(v[0]), float(v[0]))
    means = v[_indices(v.size, resamples, seed)].mean(axis=1)
    return (float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2)))


def bootstrap_ratio_ci(
    num: ArrayLike, den: ArrayLike, resamples: int = DEFAULT_RESAMPLES, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float]:
    """Interval of a micro-averaged ratio sum(num)/sum(den), resampling tasks (rows)."""
    n_ = np.asarray(num, dtype=float)
    d_ = np.asarray(den, dtype=float)
    if n_.size == 0 or d_.sum() == 0:
        return (float("nan"), float("nan"))
    idx = _indices(n_.size, resamples, seed)
    dens = d_[idx].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios = n_[idx].sum(axis=1) / dens
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size == 0:
        return (float("nan"), float("nan"))
    return (float(np.quantile(ratios, alpha / 2)), float(np.quantile(ratios, 1 - alpha / 2)))


def paired_bootstrap(
    base: ArrayLike, cand: ArrayLike, resamples: int = DEFAULT_RESAMPLES, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float, float]:
    """Mean difference cand - base over paired tasks, with its percentile interval."""
    b = np.asarray(base, dtype=float)
    c = np.asarray(cand, dtype=float)
    if b.shape != c.shape:
        raise ValueError("paired samples must have the same length")
    d = c - b
    if d.size == 0:
        return (0.0, 0.0, 0.0)
    if d.size == 1:
        return (float(d[0]), float(d[0]), float(d[0]))
    means = d[_indices(d.size, resamples, seed)].mean(axis=1)
    return (float(d.mean()), float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2)))


def paired_ratio_bootstrap(
    base_num: ArrayLike,
    base_den: ArrayLike,
    cand_num: ArrayLike,
    cand_den: ArrayLike,
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float, float]:
    """Difference of micro-averaged ratios (cand - base), resampling the same tasks for both."""
    bn, bd, cn, cd = (np.asarray(x, dtype=float) for x in (base_num, base_den, cand_num, cand_den))
    if not (bn.shape == bd.shape == cn.shape == cd.shape):
        raise ValueError("paired samples must have the same length")
    if bd.sum() == 0 or cd.sum() == 0:
        return (0.0, 0.0, 0.0)
    point = cn.sum() / cd.sum() - bn.sum() / bd.sum()
    idx = _indices(bn.size, resamples, seed)
    with np.errstate(invalid="ignore", divide="ignore"):
        diffs = cn[idx].sum(1) / cd[idx].sum(1) - bn[idx].sum(1) / bd[idx].sum(1)
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        return (float(point), float(point), float(point))
    return (float(point), float(np.quantile(diffs, alpha / 2)), float(np.quantile(diffs, 1 - alpha / 2)))
