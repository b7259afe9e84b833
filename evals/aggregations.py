"""How a suite value comes out of its episodes' values: the aggregation kinds a metric declares.

Each kind gives the point value over the episodes (`summary.json`, the report), the empty value,
and how tasks are resampled for an interval (`interval_kind`) and paired by the gate
(`gate_kind`). Values are plain Python (`clean`), so JSON and the page never see numpy types.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .stats import bootstrap_ci, bootstrap_ratio_ci

if TYPE_CHECKING:  # pandas is imported by the callers that have a frame: `fanout run` never needs it
    import pandas as pd

IntervalKind = Literal["mean", "ratio"]
GateKind = Literal["mean", "ratio", "median"]


class Columns:
    """The episode columns of a frame as numpy arrays, each extracted once, and the same for a
    subset of its rows (a pattern's episodes) without copying the frame: aggregating a run and
    each of its patterns reads every column once. Built from a pandas frame, or from plain value
    lists (`from_lists`, what `fanout run` keeps), with the dtypes pandas would give them."""

    def __init__(
        self,
        df: pd.DataFrame | None,
        rows: np.ndarray | None = None,
        base: Columns | None = None,
        lists: Mapping[str, Sequence[Any] | np.ndarray] | None = None,
        n: int = 0,
    ):
        self.df = df
        self.rows = rows
        self.base = base
        self.lists = lists
        self._cache: dict[str, np.ndarray] = {}
        self.n = (len(df) if df is not None else n) if rows is None else len(rows)

    @classmethod
    def from_lists(cls, lists: Mapping[str, Sequence[Any] | np.ndarray], n: int) -> Columns:
        """Columns of `n` episodes given as one value list per column (None: not recorded)."""
        return cls(None, lists=lists, n=n)

    def take(self, rows: np.ndarray) -> Columns:
        """The columns of the rows at positions `rows`."""
        return Columns(self.df, rows, self)

    def where(self, name: str | None) -> Columns | None:
        """The rows whose column `name` is true (self when `name` is None; None: no such column)."""
        if name is None:
            return self
        v = self.get(name)
        if v is None:
            return None
        return self.take(np.flatnonzero(np.asarray(v, dtype=bool)))

    def get(self, name: str) -> np.ndarray | None:
        """The column (None: not recorded in this frame)."""
        out = self._cache.get(name)
        if out is None:
            if self.base is not None and self.rows is not None:
                full = self.base.get(name)
                if full is None:
                    return None
                out = full[self.rows]
            elif self.df is not None and name in self.df.columns:
                out = self.df[name].to_numpy()
            elif self.lists is not None and name in self.lists:
                v = self.lists[name]
                out = v if isinstance(v, np.ndarray) else as_array(v)
            else:
                return None
            self._cache[name] = out
        return out

    def floats(self, name: str) -> np.ndarray | None:
        """The column as floats, a missing value (None) as NaN."""
        v = self.get(name)
        return None if v is None else np.asarray(v, dtype=float)

    def values(self, fields: tuple[str, ...], minus: str | None = None) -> np.ndarray | None:
        """The per-episode value: one field, the sum of several, or a difference, as floats."""
        cols = [c for f in (*fields, *((minus,) if minus else ())) if (c := self.floats(f)) is not None]
        if len(cols) != len(fields) + bool(minus):
            return None
        out = cols[0]
        for c in cols[1 : len(fields)]:
            out = out + c
        if minus:
            out = out - cols[-1]
        return out


def as_array(values: Sequence[Any]) -> np.ndarray:
    """A column of plain values as the numpy array a pandas frame built from the same rows holds
    (`pd.DataFrame(rows)[name].to_numpy()`), so aggregates are bit-identical either way: bools
    alone are bool, ints alone int64, numbers with missing values (None) float64 with NaN,
    anything else (strings, dicts, bools with None) object, a missing string NaN."""
    kinds = {type(v) for v in values}
    if int in kinds and any(type(v) is int and not -(2**63) <= v < 2**63 for v in values):
        kinds.add(object)  # an int beyond int64: pandas keeps the column as objects
    try:
        if kinds == {bool}:
            return np.array(values, dtype=bool)
        if kinds == {int}:
            return np.array(values, dtype=np.int64)
        if kinds and kinds <= {int, float, type(None)} and kinds != {type(None)}:
            return np.array([math.nan if v is None else v for v in values], dtype=float)
    except OverflowError:  # an int beyond int64: pandas keeps such a column as objects too
        pass
    out = np.empty(len(values), dtype=object)
    if type(None) in kinds and kinds - {type(None)} == {str}:  # pandas' strings: None is NaN
        out[:] = [math.nan if v is None else v for v in values]
    else:
        out[:] = list(values)
    return out


def _column(df: pd.DataFrame, name: str) -> pd.Series | None:
    return df[name] if name in df.columns else None


def _series(df: pd.DataFrame, fields: tuple[str, ...], minus: str | None = None) -> pd.Series | None:
    """`Columns.values` as a pandas Series (for the per-task groupings of an interval)."""
    cols = [c for f in (*fields, *((minus,) if minus else ())) if (c := _column(df, f)) is not None]
    if len(cols) != len(fields) + bool(minus):
        return None
    out = cols[0].astype(float)
    for c in cols[1 : len(fields)]:
        out = out + c.astype(float)
    if minus:
        out = out - cols[-1].astype(float)
    return out


def _ratio(num: Any, den: Any) -> float | None:
    return float(num) / float(den) if den else None


def _where(df: pd.DataFrame, name: str | None) -> pd.DataFrame:
    """The episodes whose column `name` is true (all of them when `name` is None)."""
    if name is None:
        return df
    if name not in df.columns:
        return df.iloc[0:0]
    return df[df[name].fillna(False).astype(bool)]


def _over(where: str | None) -> str:
    return f" over episodes with {where}" if where else ""


class Aggregation:
    """How a suite value comes out of its episodes' values. `where` (a boolean episode field,
    e.g. `success`) restricts it to the episodes where that field is true."""

    fields: tuple[str, ...] = ()
    where: str | None = None
    interval_kind: IntervalKind | None = None  # how the report resamples tasks for an interval
    gate_kind: GateKind | None = None  # how the gate pairs per-task values; None: not gateable
    derived = False  # computed from other suite metrics, not from the episodes

    def point(self, cols: Columns | None, done: Mapping[str, Any]) -> Any:
        """The suite value over the episodes of `cols`; `done` holds the metrics computed before."""
        raise NotImplementedError

    def empty(self) -> Any:
        """The value over no episode at all."""
        return None

    def describe(self) -> str:
        raise NotImplementedError

    def interval(self, df: pd.DataFrame, seed: int) -> tuple[float | None, float | None]:
        return (None, None)


@dataclass(frozen=True)
class Mean(Aggregation):
    """Mean over episodes of one field (or of the sum of several, or of a difference).

    Episodes where the value is missing are skipped; with `unknown_if_missing` one missing value
    makes the mean unknown instead (a cost with no price is not a free episode)."""

    fields: tuple[str, ...]
    minus: str | None = None
    unknown_if_missing: bool = False
    where: str | None = None
    interval_kind: IntervalKind | None = "mean"
    gate_kind: GateKind | None = "mean"

    def point(self, cols: Columns | None, done: Mapping[str, Any]) -> float | None:
        cols = cols.where(self.where) if cols is not None else None
        v = cols.values(self.fields, self.minus) if cols is not None else None
        if v is None:
            return None
        missing = np.isnan(v)
        if self.unknown_if_missing and missing.any():
            return None
        v = v[~missing]
        return float(np.mean(v)) if v.size else None

    def describe(self) -> str:
        what = " + ".join(self.fields) + (f" - {self.minus}" if self.minus else "")
        return f"mean over episodes of {what}" + _over(self.where)

    def interval(self, df: pd.DataFrame, seed: int) -> tuple[float | None, float | None]:
        df = _where(df, self.where)
        v = _series(df, self.fields, self.minus)
        if v is None:
            return (None, None)
        per_task = v.groupby(df["task_id"], sort=True).mean().dropna()
        return _finite_pair(bootstrap_ci(per_task.to_numpy(), seed=seed))


@dataclass(frozen=True)
class Ratio(Aggregation):
    """Micro-averaged ratio: the sum of a numerator over the sum of a denominator (null when 0)."""

    num: str
    den: str
    where: str | None = None
    interval_kind: IntervalKind | None = "ratio"
    gate_kind: GateKind | None = "ratio"

    @property
    def fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.num, self.den)

    def point(self, cols: Columns | None, done: Mapping[str, Any]) -> float | None:
        if cols is None:
            return None
        if self.where is None:
            n, d = cols.get(self.num), cols.get(self.den)
            return None if n is None or d is None else _ratio(n.sum(), d.sum())
        sub = cols.where(self.where)
        nf, df = (sub.floats(self.num), sub.floats(self.den)) if sub is not None else (None, None)
        if nf is None or df is None:
            return None
        keep = ~(np.isnan(nf) | np.isnan(df))  # an episode without the value (an old line) is left out
        return _ratio(nf[keep].sum(), df[keep].sum())

    def describe(self) -> str:
        return f"sum({self.num}) / sum({self.den})" + _over(self.where)

    def interval(self, df: pd.DataFrame, seed: int) -> tuple[float | None, float | None]:
        df = _where(df, self.where)
        if self.where is not None and not df.empty and self.num in df.columns and self.den in df.columns:
            df = df[df[self.num].notna() & df[self.den].notna()]
        if df.empty or self.num not in df.columns or self.den not in df.columns:
            return (None, None)
        sums = df.groupby("task_id", sort=True)[[self.num, self.den]].sum()
        return _finite_pair(
            bootstrap_ratio_ci(sums[self.num].to_numpy(), sums[self.den].to_numpy(), seed=seed)
        )


@dataclass(frozen=True)
class Percentile(Aggregation):
    """Percentile over episodes (linear interpolation); the gate's p50 is the median of per-task means."""

    field: str
    q: float
    where: str | None = None
    interval_kind: IntervalKind | None = None

    @property
    def fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return (self.field,)

    @property
    def gate_kind(self) -> GateKind | None:  # type: ignore[override]
        return "median" if self.q == 50 else None

    def point(self, cols: Columns | None, done: Mapping[str, Any]) -> float | None:
        cols = cols.where(self.where) if cols is not None else None
        v = cols.floats(self.field) if cols is not None else None
        if v is None:
            return None
        v = v[~np.isnan(v)]
        return float(np.percentile(v, self.q)) if v.size else None

    def describe(self) -> str:
        return f"p{self.q:g} over episodes of {self.field}" + _over(self.where)


@dataclass(frozen=True)
class Sum(Aggregation):
    """Total over episodes; an integer for counts, unknown when one value is missing."""

    fields: tuple[str, ...]
    integer: bool = True

    def point(self, cols: Columns | None, done: Mapping[str, Any]) -> float | int | None:
        if cols is None:
            return None
        if self.integer:  # exact integer sums
            total = 0
            for f in self.fields:
                part = cols.get(f)
                if part is not None and part.dtype.kind not in "iub":
                    part = np.asarray(part, dtype=float)
                    if np.isnan(part).any():
                        part = None
                if part is None:
                    return None
                total += int(part.sum())
            return total
        v = cols.values(self.fields)
        return None if v is None or np.isnan(v).any() else float(v.sum())

    def empty(self) -> int | None:
        return 0 if self.integer else None

    def describe(self) -> str:
        return f"sum over episodes of {' + '.join(self.fields)}"


@dataclass(frozen=True)
class Count(Aggregation):
    """Episodes, or episodes whose `field` equals `value`."""

    field: str | None = None
    value: Any = None

    def point(self, cols: Columns | None, done: Mapping[str, Any]) -> int | None:
        if cols is None:
            return None
        if self.field is None:
            return cols.n
        v = cols.get(self.field)
        return None if v is None else int((v == self.value).sum())

    def empty(self) -> int:
        return 0

    def describe(self) -> str:
        return "episodes" if self.field is None else f"episodes with {self.field} = {self.value!r}"


@dataclass(frozen=True)
class Reduce(Aggregation):
    """One field reduced over the episodes: how many distinct values (tasks), or whether any
    episode has it set (estimated usage)."""

    field: str
    how: Literal["distinct", "any"]

    def point(self, cols: Columns | None, done: Mapping[str, Any]) -> int | bool | None:
        v = cols.get(self.field) if cols is not None else None
        if v is None:
            return None
        return len(set(v.tolist())) if self.how == "distinct" else bool(v.any())

    def empty(self) -> int | bool:
        return 0 if self.how == "distinct" else False

    def describe(self) -> str:
        return f"distinct {self.field}" if self.how == "distinct" else f"any episode with {self.field}"


@dataclass(frozen=True)
class Quotient(Aggregation):
    """One suite metric over another (both declared before this one)."""

    num: str
    den: str
    derived = True

    def point(self, cols: Columns | None, done: Mapping[str, Any]) -> float | None:
        n, d = done.get(self.num), done.get(self.den)
        return n / d if n is not None and d else None

    def describe(self) -> str:
        return f"{self.num} / {self.den}"


@dataclass(frozen=True)
class Total(Aggregation):
    """The sum of suite metrics declared before this one (unknown when one is)."""

    names: tuple[str, ...]
    derived = True

    def point(self, cols: Columns | None, done: Mapping[str, Any]) -> float | None:
        values = [v for n in self.names if (v := done.get(n)) is not None]
        return sum(values) if len(values) == len(self.names) else None

    def describe(self) -> str:
        return " + ".join(self.names)


def _finite_pair(pair: tuple[float, float]) -> tuple[float | None, float | None]:
    lo, hi = pair
    return (None if math.isnan(lo) else lo, None if math.isnan(hi) else hi)


def clean(v: Any) -> Any:
    """Plain JSON-able Python values: no numpy scalars, NaN as None."""
    if v is None:
        return None
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, float | np.floating):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, np.integer):
        return int(v)
    return v
