"""Suite aggregates of episode scores: the `summary` metrics of the registry (`evals.metrics`).

Rows are sorted by (task, epoch) before any sum so float results are byte-identical whatever
order the episodes finished in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .metrics import METRICS, aggregate, aggregate_by

SUMMARY_KEYS: tuple[str, ...] = tuple(m.name for m in METRICS.on("summary"))


def frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per episode from `scores` dicts (plus `epoch`), in canonical order."""
    df = pd.DataFrame(list(rows))
    if df.empty:
        return df
    if "epoch" not in df:
        df["epoch"] = 0
    return df.sort_values(["task_id", "epoch"], kind="mergesort").reset_index(drop=True)


def summarize(df: pd.DataFrame) -> dict[str, Any]:
    """The summary.json metrics for a set of episodes."""
    return aggregate(df, METRICS.on("summary"))


def summarize_by_pattern(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return aggregate_by(df, "pattern", METRICS.on("summary"))
