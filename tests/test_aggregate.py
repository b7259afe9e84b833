"""Suite aggregates are micro-averaged and independent of episode order."""

from __future__ import annotations

import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st
from run_builders import scores

from evals.aggregate import ScoreRows, frame, summaries, summarize, summarize_by_pattern
from evals.aggregations import as_array


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


# -- the run's own summary path (ScoreRows, no pandas) gives the frame's numbers, bit for bit ----

_FLOATS = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)
_MAYBE = st.one_of(st.none(), _FLOATS)


@st.composite
def _rows(draw: st.DrawFn) -> list[dict]:
    n = draw(st.integers(min_value=0, max_value=40))
    out = []
    for _ in range(n):
        r = row(
            f"t{draw(st.integers(0, 12))}",
            epoch=draw(st.integers(0, 3)),
            pattern=draw(st.sampled_from(["p", "q", "r"])),
            wall_s=draw(_FLOATS),
            serial_wall_s=draw(_FLOATS),
            rejoin_s=draw(_MAYBE),
            cost_usd=draw(_MAYBE),
            fan_out_recall=draw(_MAYBE),
            success=draw(st.booleans()),
            on_time=draw(st.integers(0, 5)),
            parallelizable=draw(st.integers(0, 5)),
            n_calls=draw(st.integers(0, 9)),
            prompt_tokens=draw(st.integers(0, 10**7)),
            stop=draw(st.sampled_from(["answer", "error", "max_turns"])),
        )
        if draw(st.booleans()):
            r["straggler_wait_s"] = draw(_MAYBE)  # a computed metric, present on some rows only
        out.append(r)
    return out


@settings(max_examples=150, deadline=None)
@given(_rows())
def test_score_rows_summarise_exactly_as_the_frame(rows):
    kept = ScoreRows()
    for r in rows:
        kept.add(r)
    summary, by_pattern = summaries(kept)
    df = frame(rows)
    assert json.dumps(summary, sort_keys=True) == json.dumps(summarize(df), sort_keys=True)
    assert json.dumps(by_pattern, sort_keys=True) == json.dumps(summarize_by_pattern(df), sort_keys=True)


def test_as_array_gives_the_frames_dtypes():
    import pandas as pd

    cases = [[True, False], [1, 2], [1, 2.5], [1.0, None], [None, None], [True, None], ["a", "b"], [2**70, 1]]
    for values in cases:
        ref = pd.DataFrame({"c": values})["c"].to_numpy()
        got = as_array(values)
        assert got.dtype == ref.dtype, values


_KINDS = [
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),  # counts: int64, as numpy holds them
    _FLOATS,
    st.one_of(st.integers(-5, 5), _FLOATS),
    st.sampled_from(["a", "b"]),
    st.just({"correct": 1}),
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_KINDS).flatmap(lambda kind: st.lists(st.one_of(st.none(), kind), max_size=12)))
def test_a_compact_column_holds_what_the_frame_would(values):
    """Each kind a score field can have (one type, or int and float), with missing values."""
    import numpy as np
    import pandas as pd

    from evals.aggregate import _Column

    col = _Column()
    for v in values:
        col.append(v)
    ref = pd.DataFrame([{"c": v} for v in values])["c"].to_numpy() if values else as_array([])
    got = col.array()
    assert got.dtype == ref.dtype
    if got.dtype == object:
        assert repr(got.tolist()) == repr(ref.tolist())  # repr: NaN equals NaN, None does not
    else:
        assert np.array_equal(got, ref, equal_nan=got.dtype.kind == "f")
