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
    "straggler_wait_s_mean",
    "straggler_wait_s_mean_lo",
    "straggler_wait_s_mean_hi",
    "calls",
    "timed_out_calls",
    "error_results",
    "reasoning_tokens",
    "runtime_concurrency",
    "runtime_concurrency_lo",
    "runtime_concurrency_hi",
    "runtime_concurrency_ideal",
    "runtime_lost_s_mean",
    "runtime_lost_s_mean_lo",
    "runtime_lost_s_mean_hi",
    "bfcl_accuracy",
    "bfcl_accuracy_lo",
    "bfcl_accuracy_hi",
    "taskbench_node_f1",
    "taskbench_edge_f1",
    "group",  # the comparability group of the run ("A", "B", ...; empty when all runs compare)
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
    "turns_over_ideal",
    "straggler_wait_s_mean",
    "straggler_wait_s_mean_lo",
    "straggler_wait_s_mean_hi",
    "runtime_concurrency",
    "runtime_concurrency_lo",
    "runtime_concurrency_hi",
    "runtime_lost_s_mean",
    "runtime_lost_s_mean_lo",
    "runtime_lost_s_mean_hi",
    "bfcl_accuracy",
    "bfcl_accuracy_lo",
    "bfcl_accuracy_hi",
    "taskbench_node_f1",
    "taskbench_edge_f1",
]
LEADERBOARD_COLUMNS = METRICS.columns(_PUBLISHED_COLUMNS, "summary", "board", "patterns")
PATTERN_COLUMNS = METRICS.columns(_PUBLISHED_PATTERN_COLUMNS, "patterns")
# Every metric a report row carries (the page, the CSV and the JSON pick their columns from it).
REPORTED: list[Metric] = [m for m in METRICS if m.show & {"summary", "board", "patterns"}]

HEADLINE = METRICS["parallel_success_rate"]  # the default order and the page's first figure
DEFAULT_SORT = (
    "parallel success (descending), then success rate (descending), speedup vs sequential "
    "(descending), model, suite and run id; runs that are not comparable are ranked in separate groups"
)
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


def _desc(v: Any) -> float:
    return -(v if v is not None else -math.inf)


def sort_default(rows: list[dict]) -> list[dict]:
    """The documented default order (DEFAULT_SORT): by comparability group, then parallel success,
    success rate and speedup vs sequential, all descending, then model, suite and run id."""

    def key(r: dict[str, Any]) -> tuple[str, float, float, float, str, str, str]:
        return (
            r.get("group") or "",
            _desc(r["parallel_success_rate"]),
            _desc(r["success_rate"]),
            _desc(r["speedup_vs_sequential"]),
            r["model"],
            r["suite"],
            r["run_id"],
        )

    return sorted(rows, key=key)


def leaderboard(runs: list[RunData], groups: dict[tuple[str, str, str], str] | None = None) -> list[dict]:
    """One row per run (model x suite), LEADERBOARD_COLUMNS keys, in the default order; `groups`
    (from `comparability`) names each run's group when the runs do not all compare."""
    rows = [_row(r) for r in runs]
    for r in rows:
        r["group"] = (groups or {}).get((r["model"], r["suite"], r["run_id"]))
    return sort_default(rows)


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
