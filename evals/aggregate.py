"""Suite aggregates of episode scores: the `summary` metrics of the registry (`evals.metrics`).

Rows are sorted by (task, epoch) before any sum so float results are byte-identical whatever
order the episodes finished in.

A run keeps its episodes' score rows as they finish (`ScoreRows`: one value list per column, a
few hundred bytes an episode, never a trace) and summarises them without pandas; reports, the
gate and what-if build a pandas frame (`frame`). Both give the same numbers: the columns become
the numpy arrays the frame would hold (`evals.aggregations.as_array`).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .aggregations import Columns, as_array
from .metrics import METRICS, aggregate, aggregate_by
from .reference import KEYS, complete, waits_for_run

if TYPE_CHECKING:
    import pandas as pd

SUMMARY_KEYS: tuple[str, ...] = tuple(m.name for m in METRICS.on("summary"))


def frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per episode from `scores` dicts (plus `epoch`), in canonical order."""
    import pandas as pd

    df = pd.DataFrame(list(rows))
    if df.empty:
        return df
    if "epoch" not in df:
        df["epoch"] = 0
    return df.sort_values(["task_id", "epoch"], kind="mergesort").reset_index(drop=True)


def summarize(df: pd.DataFrame | Columns) -> dict[str, Any]:
    """The summary.json metrics for a set of episodes."""
    return aggregate(df, METRICS.on("summary"))


def summarize_by_pattern(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return aggregate_by(df, "pattern", METRICS.on("summary"))


_REFERENCE_FIELDS = frozenset((*KEYS, "wall_s"))  # what `ScoreRows.complete_references` reads


def _summary_fields() -> frozenset[str]:
    """The score columns the summary metrics read, and the ones it sorts and groups by."""
    out = {"task_id", "epoch", "pattern"}
    for m in METRICS.on("summary"):
        agg = m.agg
        out.update(agg.fields)
        for name in ("minus", "field"):
            v = getattr(agg, name, None)
            if isinstance(v, str):
                out.add(v)
    return frozenset(out)


class _Column:
    """One column's values, stored as compactly as their kind allows (8 bytes a number, 1 a
    bool) until a value of another kind arrives; `array()` gives the numpy array a pandas frame
    would hold for the same values (`evals.aggregations.as_array`). Score fields have one type
    each (numbers may mix int and float, any may be missing); a column that mixed numbers with
    other values would keep its numbers as floats."""

    __slots__ = ("kind", "data", "nones")

    def __init__(self) -> None:
        self.kind = "none"  # none (only Nones so far) | bool | int | float | obj
        self.data: Any = None
        self.nones = 0

    def append(self, v: Any) -> None:
        kind, t = self.kind, type(v)
        if kind == "bool" and t is bool:
            self.data.append(v)
        elif kind == "int" and t is int and -(2**63) <= v < 2**63:
            self.data.append(v)
        elif kind == "float" and (t is float or v is None or (t is int and -(2**63) <= v < 2**63)):
            self.data.append(math.nan if v is None else float(v))
        elif kind == "obj":
            self.data.append(v)
        elif kind == "none":
            self._first(v)
        else:
            self._widen(v)

    def _first(self, v: Any) -> None:
        if v is None:
            self.nones += 1
            return
        t, n = type(v), self.nones
        number = t is float or (t is int and -(2**63) <= v < 2**63)
        if n:  # missing values first: numbers make a float column (NaN), anything else objects
            if number:
                self.kind, self.data = "float", array("d", [math.nan] * n)
                self.data.append(float(v))
            else:
                self.kind, self.data = "obj", [None] * n + [v]
        elif t is bool:
            self.kind, self.data = "bool", array("b", [v])
        elif t is int and number:
            self.kind, self.data = "int", array("q", [v])
        elif t is float:
            self.kind, self.data = "float", array("d", [v])
        else:
            self.kind, self.data = "obj", [v]

    def _widen(self, v: Any) -> None:
        t = type(v)
        if self.kind == "int" and (t is float or v is None):
            self.kind, self.data = "float", array("d", self.data)
            self.data.append(math.nan if v is None else v)
            return
        values = self.values()
        self.kind, self.data = "obj", values + [v]

    def values(self) -> list[Any]:
        if self.kind == "none":
            return [None] * self.nones
        if self.kind == "bool":
            return [bool(x) for x in self.data]
        return list(self.data)

    def array(self) -> np.ndarray:
        if self.kind == "bool":
            return np.frombuffer(self.data, dtype=np.int8).astype(bool)
        if self.kind == "int":
            return np.frombuffer(self.data, dtype=np.int64).copy()
        if self.kind == "float":
            return np.frombuffer(self.data, dtype=np.float64).copy()
        return as_array(self.values())


class ScoreRows:
    """The score rows of a run, column by column, in the order they were added; only the columns
    the summary reads, each stored compactly (`_Column`), so a run's memory does not grow with its
    episodes (about 250 bytes an episode)."""

    def __init__(self) -> None:
        self.columns: dict[str, _Column] = {}
        self.n = 0
        self.fields = _summary_fields() | _REFERENCE_FIELDS
        # Turn latencies of the episodes whose references wait for the run's median turn latency
        # (measured turns, `evals.reference`): 8 bytes a turn, only for such episodes.
        self.latencies = array("d")

    def add_record(self, rec: Any) -> None:
        """An episode record's row (`EpisodeRecord`); its trace is read here and not kept."""
        sc = rec.scores
        if waits_for_run(sc):
            self.latencies.extend(t.model_latency_s for t in rec.trace.turns)
        self.add(rec.scores_row())

    def complete_references(self) -> None:
        """Fill in the reference figures of the measured episodes at the run's median turn latency
        (`evals.reference.complete`); a no-op when every episode's turns are profile-timed."""
        cols = self.columns
        if not self.latencies or "oracle_turns" not in cols or "wall_s" not in cols:
            return
        names = [k for k in (*KEYS, "wall_s") if k in cols]
        values = {k: [_none(v) for v in cols[k].values()] for k in names}
        rows = [{k: values[k][i] for k in names} for i in range(self.n)]
        complete(rows, self.latencies)
        for k in (k for k in KEYS if k in cols):
            col = cols[k] = _Column()
            for r in rows:
                col.append(r.get(k))

    def add(self, row: Mapping[str, Any]) -> None:
        """One episode's scores (`EpisodeRecord.scores_row()`); a key the earlier rows lacked is
        missing (None) for them, as in a frame."""
        cols, n = self.columns, self.n
        seen = 0
        for k in self.fields:
            if k not in row:
                continue
            col = cols.get(k)
            if col is None:
                col = cols[k] = _Column()
                for _ in range(n):
                    col.append(None)
            col.append(row[k])
            seen += 1
        self.n = n + 1
        if seen != len(cols):
            for col in cols.values():
                if _length(col) < n + 1:
                    col.append(None)

    def __len__(self) -> int:
        return self.n

    def pairs(self) -> set[tuple[Any, Any]]:
        """The (task, epoch) pairs of the rows."""
        tasks = self.columns["task_id"].values() if "task_id" in self.columns else [None] * self.n
        epochs = self.columns["epoch"].values() if "epoch" in self.columns else [0] * self.n
        return set(zip(tasks, epochs, strict=True))

    def sorted_columns(self) -> Columns:
        """The columns in canonical (task, epoch) order, as `frame` sorts them."""
        n = self.n
        tasks = self.columns["task_id"].values() if "task_id" in self.columns else [None] * n
        epochs = self.columns["epoch"].values() if "epoch" in self.columns else [0] * n
        order = np.array(sorted(range(n), key=lambda i: (tasks[i], epochs[i])), dtype=np.intp)
        arrays = {k: col.array()[order] if n else col.array() for k, col in self.columns.items()}
        if "epoch" not in arrays:
            arrays["epoch"] = np.zeros(n, dtype=np.int64)
        return Columns.from_lists(arrays, n)


def _none(v: Any) -> Any:
    """A stored missing number (NaN in a float column) as the None the row had."""
    return None if isinstance(v, float) and math.isnan(v) else v


def _length(col: _Column) -> int:
    return col.nones if col.kind == "none" else len(col.data)


def summaries(rows: ScoreRows) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(summary, summary per pattern) of a run's rows: what `summarize(frame(...))` and
    `summarize_by_pattern(frame(...))` give for the same rows."""
    metrics = METRICS.on("summary")
    cols = rows.sorted_columns()
    summary = aggregate(cols, metrics)
    if rows.n == 0:
        return summary, {}
    groups: dict[Any, list[int]] = {}
    patterns = cols.get("pattern")
    for i, k in enumerate([] if patterns is None else patterns.tolist()):
        if k is not None:
            groups.setdefault(k, []).append(i)
    by = {
        str(k): aggregate(cols.take(np.array(ix, dtype=np.intp)), metrics) for k, ix in sorted(groups.items())
    }
    return summary, by
