"""The metric registry: one declaration reaches every output; straggler_wait_s exactly."""

from __future__ import annotations

import asyncio
import math

import pandas as pd
import pytest
from helpers import graph_suite
from hypothesis import given
from hypothesis import strategies as st
from run_builders import scores, tasks, write_run

from evals.aggregate import SUMMARY_KEYS, frame, summarize
from evals.compare import HEADER as COMPARE_HEADER
from evals.episodes import parse
from evals.gate import METRICS as GATE_METRICS
from evals.gate import gate
from evals.groundtruth import resolve
from evals.metrics import (
    METRICS,
    EpisodeValue,
    EpisodeView,
    Mean,
    Metric,
    Ratio,
    Registry,
    aggregate,
    straggler_wait,
)
from evals.models.policies import PolicyModel
from evals.report.html import LEADERBOARD, PATTERN_METRICS
from evals.report.tables import LEADERBOARD_COLUMNS, PATTERN_COLUMNS
from evals.runtime import run_episode
from evals.scoring import score
from evals.settings import RuntimeSettings
from evals.timing import InferenceProfile
from evals.trace import Trace
from evals.whatif import METRIC_COLUMNS, Effective, retime

ONE_SECOND = InferenceProfile(name="one-second", ttft_s=1.0, prefill_tps=math.inf, decode_tps=math.inf)
# docs/scoring.md, "Straggler wait": three lookups of 0.25, 1.0 and 0.5 s fan out, then a join of 0.75 s.
WORKED = graph_suite(
    {"join": {"a": [], "b": [], "c": [], "d": ["a", "b", "c"]}},
    latency_s={"a": 0.25, "b": 1.0, "c": 0.5, "d": 0.75},
)


def oracle(**cfg):
    rt = RuntimeSettings(inference_profile=ONE_SECOND, **cfg)
    task = WORKED.by_id["join"]
    trace = asyncio.run(run_episode(PolicyModel("oracle", [WORKED]), task, rt))
    return trace, score(resolve(task, 0), trace), rt


def test_worked_example_straggler_wait_is_exact():
    trace, sc, _ = oracle()
    # batch 1 runs from 1.0 s: the calls end at 1.25, 2.0 and 1.5; everything waited 2.0 - 1.5 for b.
    assert [(c.start_s, c.end_s) for c in trace.calls[:3]] == [(1.0, 1.25), (1.0, 2.0), (1.0, 1.5)]
    assert sc.model_dump()["straggler_wait_s"] == 0.5  # batch 2 (d alone) adds 0
    assert sc.wall_s == 4.75


def test_worked_example_under_a_fan_out_cap():
    trace, sc, _ = oracle(fan_out_cap=2)
    # c queues behind a: it runs 1.25-1.75, so b (ending at 2.0) is waited for alone for 0.25 s.
    assert [(c.start_s, c.end_s) for c in trace.calls[:3]] == [(1.0, 1.25), (1.0, 2.0), (1.25, 1.75)]
    assert sc.model_dump()["straggler_wait_s"] == 0.25


def test_whatif_recomputes_the_straggler_wait_on_its_own_timeline():
    trace, _, rt = oracle()
    capped = Effective(rt.replace(fan_out_cap=2), "one-second", resample=False)
    assert retime(trace, capped)["straggler_wait_s"] == 0.25  # the capped run's value
    assert retime(trace, Effective(rt, "one-second", resample=False))["straggler_wait_s"] == 0.5


def view(batches: list[list[tuple[float, float]]]) -> EpisodeView:
    return EpisodeView(Trace(task_id="t", suite="s", model="m"), batches)


def test_ties_and_batches_of_one_wait_for_nobody():
    assert straggler_wait(view([[(0.0, 1.0)], [(1.0, 2.0), (1.0, 2.0)], []])) == 0.0


spans = st.lists(
    st.tuples(st.floats(0, 100, allow_nan=False), st.floats(0, 100, allow_nan=False)).map(
        lambda p: (p[0], p[0] + p[1])
    ),
    min_size=1,
    max_size=8,
)


@given(st.lists(spans, max_size=5), st.randoms())
def test_straggler_wait_is_the_gap_between_the_two_last_ends(batches, rnd):
    expected = sum(sorted(e for _, e in b)[-1] - sorted(e for _, e in b)[-2] for b in batches if len(b) >= 2)
    assert straggler_wait(view(batches)) == pytest.approx(expected)
    shuffled = [rnd.sample(b, len(b)) for b in batches]  # issue order within a batch does not matter
    assert straggler_wait(view(shuffled)) == straggler_wait(view(batches))
    longest = sum(max(e for _, e in b) - min(s for s, _ in b) for b in batches)
    assert 0.0 <= straggler_wait(view(batches)) <= longest + 1e-9


# -- the registry reaches every output ---------------------------------------------------------


def test_each_surface_lists_the_registry_metrics_it_shows():
    assert set(SUMMARY_KEYS) == {m.name for m in METRICS.on("summary")}
    for m in METRICS:
        if "summary" in m.show or "board" in m.show:
            assert m.name in LEADERBOARD_COLUMNS, m.name
        if m.interval and ("summary" in m.show or "board" in m.show):
            assert {f"{m.name}_lo", f"{m.name}_hi"} <= set(LEADERBOARD_COLUMNS)
        if "patterns" in m.show:
            assert m.name in PATTERN_COLUMNS and (m.name in PATTERN_METRICS or m.name == "tasks")
        if "board" in m.show:
            assert m.name in [c.key for c in LEADERBOARD]
        if "whatif" in m.show:
            assert m.name in METRIC_COLUMNS
        if "compare" in m.show:
            assert m.per_episode in COMPARE_HEADER
        if m.gate:
            assert GATE_METRICS[m.rule] is m
    assert set(METRIC_COLUMNS) == {m.name for m in METRICS.on("whatif")}


def test_straggler_wait_appears_everywhere_metrics_appear():
    m = METRICS["straggler_wait_s_mean"]
    assert {"summary", "board", "patterns", "whatif", "compare"} <= m.show and m.gate and m.interval
    assert m.episode is not None and m.per_episode == "straggler_wait_s"


def test_published_column_orders_only_append():
    assert LEADERBOARD_COLUMNS[:5] == ["model", "suite", "run_id", "episodes", "tasks"]
    assert LEADERBOARD_COLUMNS.index("status") < LEADERBOARD_COLUMNS.index("straggler_wait_s_mean")
    # columns added since are appended after the ones published before them
    order = ["straggler_wait_s_mean", "runtime_concurrency", "runtime_lost_s_mean"]
    assert [METRIC_COLUMNS.index(c) for c in order] == sorted(METRIC_COLUMNS.index(c) for c in order)


def test_a_metric_that_applies_nowhere_is_null_not_zero():
    rows = [{"task_id": "a", "x": None}, {"task_id": "b", "x": None}]
    m = Metric("x_mean", "X", "x", Mean(("x",)), "seconds")
    assert aggregate(frame(rows), [m]) == {"x_mean": None}
    assert aggregate(frame([{"task_id": "a"}]), [m]) == {"x_mean": None}  # never recorded
    assert aggregate(pd.DataFrame(), [m]) == {"x_mean": None}


def test_an_episode_value_is_none_where_it_does_not_apply():
    ev = EpisodeValue("only_bfcl", lambda v: 1.0, applies=lambda v: v.trace.suite == "bfcl")
    assert ev(view([])) is None
    assert EpisodeValue("x", lambda v: 1.0)(view([])) == 1.0


def test_declarations_are_checked():
    reg = Registry()
    reg.add(Metric("a", "A", "a", Ratio("n", "d"), "rate", "higher", gate=True))
    with pytest.raises(ValueError, match="declared twice"):
        reg.add(Metric("a", "A", "a", Ratio("n", "d"), "rate"))
    with pytest.raises(ValueError, match="direction"):
        Metric("b", "B", "b", Ratio("n", "d"), "rate", None, gate=True)
    with pytest.raises(ValueError, match="unknown surfaces"):
        Metric("c", "C", "c", Ratio("n", "d"), "rate", show=frozenset({"everywhere"}))  # type: ignore[arg-type]


def test_summary_of_no_episode_counts_zero_and_knows_nothing_else():
    s = summarize(pd.DataFrame())
    assert s["episodes"] == 0 and s["errors"] == 0 and s["prompt_tokens"] == 0
    assert s["success_rate"] is None and s["straggler_wait_s_mean"] is None


def test_the_gate_rules_on_the_new_metric(tmp_path):
    rules = tmp_path / "gate.toml"
    rules.write_text("defaults = false\n[rules.straggler_wait_s_mean]\nmax_rise = 0.1\n")
    base = write_run(tmp_path / "b", [scores(t) for t in tasks(30)])
    worse = write_run(tmp_path / "c", [scores(t, straggler_wait_s=0.5) for t in tasks(30)])
    (r,) = gate(base, worse, rules).results
    assert (r.status, r.baseline, r.candidate, r.diff) == ("fail", 0.0, 0.5, 0.5)


def test_lines_written_before_the_metric_get_it_from_their_trace():
    trace, sc, _ = oracle()
    old = {"task_id": "join", "epoch": 0, "pattern": "synthetic"}  # a version-1 line: flat settings
    old["scores"] = {k: v for k, v in sc.model_dump().items() if k != "straggler_wait_s"}
    old["trace"] = trace.model_dump(exclude_none=True, exclude={"runtime"}) | {"seed": 0, "fan_out_cap": None}
    rec = parse(old, RuntimeSettings(inference_profile=ONE_SECOND))
    assert rec.schema_version == 2 and rec.scores.model_dump()["straggler_wait_s"] == 0.5
    assert rec.trace.runtime.inference_profile == ONE_SECOND  # completed from run.json


def test_the_page_hides_on_narrow_screens_what_the_declaration_says():
    for c in LEADERBOARD:
        if c.metric is not None:
            assert c.optional is (not c.metric.narrow), c.key
    hidden = {c.key for c in LEADERBOARD if c.optional}
    assert hidden == {
        "straggler_wait_s_mean",
        "tokens_per_task",
        "cost_per_task_usd",
        "errors",
        "successful_episodes",
    }
