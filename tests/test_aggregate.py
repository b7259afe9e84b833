"""Suite aggregates are micro-averaged and independent of episode order."""

from __future__ import annotations

import json
import random

from run_builders import scores

from evals.aggregate import frame, summarize, summarize_by_pattern


def row(task: str, **kw) -> dict:
    """An episode with no parallelisable or dependent node unless `kw` says otherwise."""
    return scores(task, pattern="p", on_time=0, parallelizable=0, premature_nodes=0, nodes_with_deps=0) | kw


# a: 8 of 8 parallelisable nodes on time, 9 calls, half its serial time; b: 0 of 2 on time, its one
# dependent node called early, one redundant call of 3, a failure, of another pattern.
A = dict(on_time=8, parallelizable=8, nodes_with_deps=1, n_calls=9, wall_s=2.0, serial_wall_s=4.0)
B = dict(parallelizable=2, premature_nodes=1, nodes_with_deps=1, n_calls=3, redundant_calls=1, success=False)
ROWS = [row("a", **A), row("b", **B, wall_s=4.0, serial_wall_s=4.0, pattern="q")]


def test_micro_averages_count_nodes_not_tasks():
    s = summarize(frame(ROWS))
    assert s["fan_out_recall"] == 8 / 10  # not the mean of 1.0 and 0.0
    assert s["incorrect_fan_out_rate"] == 1 / 2
    assert s["redundant_rate"] == 1 / 12
    assert s["redundant_calls_per_task"] == 0.5
    assert s["success_rate"] == 0.5
    assert s["parallel_speedup"] == 8 / 6
    assert s["wall_s_p50"] == 2.0  # a speed figure: over the successful episode only (DESIGN 5)
    assert s["wall_s_mean"] == 3.0 and s["successful_episodes"] == 1
    assert s["cost_usd"] is None and s["episodes"] == 2 and s["errors"] == 0


def test_undefined_ratios_are_null_not_zero():
    s = summarize(frame([row("a")]))
    assert s["fan_out_recall"] is None and s["incorrect_fan_out_rate"] is None


def test_known_costs_sum_and_one_unknown_makes_the_total_unknown():
    assert summarize(frame([row("a", cost_usd=0.25), row("b", cost_usd=0.5)]))["cost_usd"] == 0.75
    assert summarize(frame([row("a", cost_usd=0.25), row("b")]))["cost_usd"] is None


def test_summary_is_byte_identical_whatever_the_episode_order():
    rows = [row(f"t{i}", wall_s=random.Random(i).random(), serial_wall_s=1.0) for i in range(50)]
    ref = json.dumps(summarize(frame(rows)), sort_keys=True)
    for seed in range(5):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        assert json.dumps(summarize(frame(shuffled)), sort_keys=True) == ref


def test_per_pattern_breakdown():
    by = summarize_by_pattern(frame(ROWS))
    assert set(by) == {"p", "q"} and by["q"]["success_rate"] == 0.0
