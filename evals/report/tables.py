"""Leaderboard and per-pattern rows: the numbers every output format (HTML, Markdown, CSV, JSON) shares.

Point values come from `evals.aggregate.summarize`, the same code that writes summary.json, so a
report never disagrees with the run it reads. Intervals resample tasks (all epochs of a task stay
together): rates that are means over tasks use `bootstrap_ci` on per-task means, micro-averaged
ratios use `bootstrap_ratio_ci` on per-task numerator and denominator sums.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..aggregate import summarize
from ..stats import bootstrap_ci, bootstrap_ratio_ci
from .load import RunData

# Column order of leaderboard.csv / leaderboard.json: a public interface, append only.
LEADERBOARD_COLUMNS = [
    "model",
    "suite",
    "run_id",
    "episodes",
    "tasks",
    "success_rate",
    "success_rate_lo",
    "success_rate_hi",
    "fan_out_recall",
    "fan_out_recall_lo",
    "fan_out_recall_hi",
    "incorrect_fan_out_rate",
    "incorrect_fan_out_rate_lo",
    "incorrect_fan_out_rate_hi",
    "redundant_calls_per_task",
    "redundant_calls_per_task_lo",
    "redundant_calls_per_task_hi",
    "redundant_rate",
    "redundant_rate_lo",
    "redundant_rate_hi",
    "mean_turns",
    "mean_ideal_turns",
    "turns_over_ideal",
    "wall_s_p50",
    "wall_s_p95",
    "wall_s_mean",
    "ideal_wall_s_mean",
    "parallel_speedup",
    "rejoin_s_mean",
    "tokens_per_task",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "tokens_estimated",
    "cost_per_task_usd",
    "cost_usd",
    "errors",
    "suite_hash",
    "prompt_hash",
    "clock",
    "inference_profile",
    "latency_profile",
    "latency_scale",
    "fan_out_cap",
    "seed",
    "epochs",
    "harness_version",
    "price_table_version",
    "created",
    "status",
]

PATTERN_COLUMNS = [
    "model",
    "suite",
    "run_id",
    "pattern",
    "episodes",
    "tasks",
    "success_rate",
    "fan_out_recall",
    "incorrect_fan_out_rate",
    "redundant_calls_per_task",
    "mean_turns",
    "mean_ideal_turns",
    "wall_s_p50",
    "parallel_speedup",
]

# Metrics that carry a 95% interval, and how: ("mean", per-task column) or ("ratio", num, den).
INTERVALS: dict[str, tuple[str, ...]] = {
    "success_rate": ("mean", "success"),
    "fan_out_recall": ("ratio", "on_time", "parallelizable"),
    "incorrect_fan_out_rate": ("ratio", "premature_nodes", "nodes_with_deps"),
    "redundant_calls_per_task": ("mean", "redundant_calls"),
    "redundant_rate": ("ratio", "redundant_calls", "n_calls"),
}

DEFAULT_SORT = "success_rate desc, wall_s_p50 asc, then model and suite"
BOOTSTRAP_SEED = 0


def _finite(v: float | None) -> float | None:
    if v is None:
        return None
    f = float(v)
    return None if math.isnan(f) else f


def intervals(df: pd.DataFrame, seed: int = BOOTSTRAP_SEED) -> dict[str, tuple[float | None, float | None]]:
    """95% bootstrap intervals over tasks for each metric of INTERVALS (None when undefined)."""
    if df.empty:
        return {k: (None, None) for k in INTERVALS}
    per_task = df.assign(success=df["success"].astype(float)).groupby("task_id", sort=True)
    means = per_task[["success", "redundant_calls"]].mean()
    sums = per_task[
        ["on_time", "parallelizable", "premature_nodes", "nodes_with_deps", "redundant_calls", "n_calls"]
    ].sum()
    out: dict[str, tuple[float | None, float | None]] = {}
    for metric, how in INTERVALS.items():
        if how[0] == "mean":
            lo, hi = bootstrap_ci(means[how[1]].to_numpy(), seed=seed)
        else:
            lo, hi = bootstrap_ratio_ci(sums[how[1]].to_numpy(), sums[how[2]].to_numpy(), seed=seed)
        out[metric] = (_finite(lo), _finite(hi))
    return out


def _row(run: RunData) -> dict:
    cfg, df = run.config, run.episodes
    s = summarize(df)
    n = s.get("episodes") or 0
    tokens = (s["prompt_tokens"] or 0) + (s["completion_tokens"] or 0)
    row: dict = {
        "model": cfg.model,
        "suite": cfg.suite,
        "run_id": cfg.run_id,
        "episodes": n,
        "tasks": int(df["task_id"].nunique()) if n else 0,
        "tokens_per_task": tokens / n if n else None,
        "tokens_estimated": bool(s.get("tokens_estimated", False)),
        "turns_over_ideal": (
            s["mean_turns"] / s["mean_ideal_turns"] if n and s["mean_ideal_turns"] else None
        ),
        "suite_hash": cfg.suite_hash,
        "prompt_hash": cfg.prompt_hash,
        "clock": cfg.clock,
        "inference_profile": cfg.inference_profile,
        "latency_profile": cfg.latency_profile,
        "latency_scale": cfg.latency_scale,
        "fan_out_cap": cfg.fan_out_cap,
        "seed": cfg.seed,
        "epochs": cfg.epochs,
        "harness_version": cfg.harness_version,
        "price_table_version": cfg.price_table_version,
        "created": cfg.created,
        "status": cfg.status,
    }
    for k in LEADERBOARD_COLUMNS:
        if k not in row and k in s:
            row[k] = s[k]
    for metric, (lo, hi) in intervals(df).items():
        row[f"{metric}_lo"], row[f"{metric}_hi"] = lo, hi
    return {k: row.get(k) for k in LEADERBOARD_COLUMNS}


def sort_default(rows: list[dict]) -> list[dict]:
    """The documented default order: success rate desc, wall-clock p50 asc, then model, suite, run."""

    def key(r: dict):
        sr = r["success_rate"]
        wall = r["wall_s_p50"]
        return (
            -(sr if sr is not None else -1.0),
            wall if wall is not None else math.inf,
            r["model"],
            r["suite"],
            r["run_id"],
        )

    return sorted(rows, key=key)


def leaderboard(runs: list[RunData]) -> list[dict]:
    """One row per run (model x suite), LEADERBOARD_COLUMNS keys, in the default order."""
    return sort_default([_row(r) for r in runs])


def by_pattern(runs: list[RunData]) -> list[dict]:
    """One row per run and dependency pattern, sorted by suite, pattern, model."""
    out = []
    for r in runs:
        df = r.episodes
        if df.empty:
            continue
        for pattern, g in df.groupby("pattern", sort=True):
            s = summarize(g)
            row = {
                "model": r.config.model,
                "suite": r.config.suite,
                "run_id": r.config.run_id,
                "pattern": str(pattern),
                "tasks": int(g["task_id"].nunique()),
            }
            out.append({k: row.get(k, s.get(k)) for k in PATTERN_COLUMNS})
    out.sort(key=lambda x: (x["suite"], x["pattern"], x["model"], x["run_id"]))
    return out


def fan_out_widths(run: RunData) -> dict[int, int]:
    """How many batches (turns that issued calls) had each width, from the traces."""
    counts: dict[int, int] = {}
    for tr in run.traces:
        for t in tr.get("turns", []):
            n = int(t.get("n_calls", 0) or 0)
            if n > 0:
                counts[n] = counts.get(n, 0) + 1
    return dict(sorted(counts.items()))


def clean(v):
    """Plain JSON-able Python values (no numpy scalars, NaN as None)."""
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return _finite(float(v))
    return v
