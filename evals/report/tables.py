"""Leaderboard and per-pattern rows: the numbers every output format (HTML, Markdown, CSV, JSON) shares.

Values and intervals are the registry's (`evals.metrics`): the same aggregation as summary.json,
so a report never disagrees with the run it reads. Intervals resample tasks (all epochs of a task
stay together), as each metric declares.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from ..metrics import METRICS, Metric, aggregate, aggregate_by
from ..metrics import intervals as metric_intervals
from .load import RunData

# Column order of leaderboard.csv / leaderboard.json as published: a public interface, append
# only. Metrics added to the registry later are appended after these, in declaration order.
_PUBLISHED_COLUMNS = [
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
_PUBLISHED_PATTERN_COLUMNS = [
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
LEADERBOARD_COLUMNS = METRICS.columns(_PUBLISHED_COLUMNS, "summary", "board", "patterns")
PATTERN_COLUMNS = METRICS.columns(_PUBLISHED_PATTERN_COLUMNS, "patterns")
# Every metric a report row carries (the page, the CSV and the JSON pick their columns from it).
REPORTED: list[Metric] = [m for m in METRICS if m.show & {"summary", "board", "patterns"}]

DEFAULT_SORT = "success_rate desc, wall_s_p50 asc, then model and suite"
BOOTSTRAP_SEED = 0


def intervals(df: pd.DataFrame, seed: int = BOOTSTRAP_SEED) -> dict[str, tuple[Any, Any]]:
    """95% bootstrap intervals over tasks of each metric that declares one (None when undefined)."""
    return metric_intervals(df, REPORTED, seed)


def _row(run: RunData) -> dict[str, Any]:
    cfg, df = run.config, run.episodes
    row: dict[str, Any] = {
        "model": cfg.model,
        "suite": cfg.suite,
        "run_id": cfg.run_id,
        **aggregate(df, REPORTED),
        "suite_hash": cfg.suite_hash,
        "prompt_hash": cfg.prompt_hash,
        "clock": cfg.runtime.clock,
        "inference_profile": cfg.runtime.profile_label,
        "latency_profile": cfg.runtime.latency_profile,
        "latency_scale": cfg.runtime.latency_scale,
        "fan_out_cap": cfg.runtime.fan_out_cap,
        "seed": cfg.runtime.seed,
        "epochs": cfg.epochs,
        "harness_version": cfg.harness_version,
        "price_table_version": cfg.price_table_version,
        "created": cfg.created,
        "status": cfg.status,
    }
    for metric, (lo, hi) in intervals(df).items():
        row[f"{metric}_lo"], row[f"{metric}_hi"] = lo, hi
    return {k: row.get(k) for k in LEADERBOARD_COLUMNS}


def sort_default(rows: list[dict]) -> list[dict]:
    """The documented default order: success rate desc, wall-clock p50 asc, then model, suite, run."""

    def key(r: dict[str, Any]) -> tuple[float, float, str, str, str]:
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


def by_pattern(runs: list[RunData]) -> list[dict[str, Any]]:
    """One row per run and dependency pattern, sorted by suite, pattern, model."""
    out = []
    for r in runs:
        head = {"model": r.config.model, "suite": r.config.suite, "run_id": r.config.run_id}
        for pattern, values in aggregate_by(r.episodes, "pattern", REPORTED).items():
            out.append(head | {"pattern": pattern} | values)
    out.sort(key=lambda x: (x["suite"], x["pattern"], x["model"], x["run_id"]))
    return out


def fan_out_widths(run: RunData) -> dict[int, int]:
    """How many batches (turns that issued calls) had each width, from the traces."""
    counts: dict[int, int] = {}
    for tr in run.traces:
        for t in tr.turns:
            if t.n_calls > 0:
                counts[t.n_calls] = counts.get(t.n_calls, 0) + 1
    return dict(sorted(counts.items()))
