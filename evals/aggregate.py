"""Suite aggregates of episode scores (micro-averaged: node counts are summed, not task rates).

Rows are sorted by (task, epoch) before any sum so float results are byte-identical whatever
order the episodes finished in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

SUMMARY_KEYS = (
    "success_rate",
    "fan_out_recall",
    "incorrect_fan_out_rate",
    "redundant_calls_per_task",
    "redundant_rate",
    "mean_turns",
    "mean_ideal_turns",
    "wall_s_mean",
    "wall_s_p50",
    "wall_s_p95",
    "parallel_speedup",
    "ideal_wall_s_mean",
    "rejoin_s_mean",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "cost_usd",
    "cost_per_task_usd",
    "episodes",
    "errors",
)


def frame(rows: Iterable[dict]) -> pd.DataFrame:
    """One row per episode from `scores` dicts (plus `epoch`), in canonical order."""
    df = pd.DataFrame(list(rows))
    if df.empty:
        return df
    if "epoch" not in df:
        df["epoch"] = 0
    return df.sort_values(["task_id", "epoch"], kind="mergesort").reset_index(drop=True)


def _ratio(num: float, den: float) -> float | None:
    return float(num) / float(den) if den else None


def _clean(v):
    if v is None:
        return None
    if isinstance(v, float | np.floating):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, np.integer):
        return int(v)
    return v


def summarize(df: pd.DataFrame) -> dict:
    """The summary.json metrics for a set of episodes."""
    if df.empty:
        return {k: None for k in SUMMARY_KEYS} | {"episodes": 0, "errors": 0}
    n = len(df)
    wall = df["wall_s"].to_numpy(dtype=float)
    costs = df["cost_usd"]
    cost_known = costs.notna().all()
    rejoin = df["rejoin_s"].dropna()
    out = {
        "success_rate": float(df["success"].mean()),
        "fan_out_recall": _ratio(df["on_time"].sum(), df["parallelizable"].sum()),
        "incorrect_fan_out_rate": _ratio(df["premature_nodes"].sum(), df["nodes_with_deps"].sum()),
        "redundant_calls_per_task": float(df["redundant_calls"].mean()),
        "redundant_rate": _ratio(df["redundant_calls"].sum(), df["n_calls"].sum()),
        "mean_turns": float(df["turns"].mean()),
        "mean_ideal_turns": float(df["ideal_turns"].mean()),
        "wall_s_mean": float(wall.mean()),
        "wall_s_p50": float(np.percentile(wall, 50)),
        "wall_s_p95": float(np.percentile(wall, 95)),
        "parallel_speedup": _ratio(df["serial_wall_s"].sum(), df["wall_s"].sum()),
        "ideal_wall_s_mean": float(df["ideal_wall_s"].mean()),
        "rejoin_s_mean": float(rejoin.mean()) if len(rejoin) else None,
        "prompt_tokens": int(df["prompt_tokens"].sum()),
        "completion_tokens": int(df["completion_tokens"].sum()),
        "cached_tokens": int(df["cached_tokens"].sum()),
        "tokens_estimated": bool(df["usage_estimated"].any()),
        "cost_usd": float(costs.sum()) if cost_known else None,
        "cost_per_task_usd": float(costs.mean()) if cost_known else None,
        "episodes": n,
        "errors": int((df["stop"] == "error").sum()),
        "calls": int(df["n_calls"].sum()),
        "timed_out_calls": int(df["timed_out_calls"].sum()),
        "error_results": int(df["errors_in_results"].sum()),
    }
    return {k: _clean(v) for k, v in out.items()}


def summarize_by_pattern(df: pd.DataFrame) -> dict[str, dict]:
    if df.empty:
        return {}
    return {str(p): summarize(g) for p, g in df.groupby("pattern", sort=True)}
