"""The runtime concurrency metric: exact values on hand-made traces, and what it says about the
harness's own runtime (fully concurrent, or serial under a fan-out cap of 1)."""

from __future__ import annotations

import asyncio

import pytest
from helpers import graph_suite
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.agents.concurrency import aggregate, batch_timings, runtime_concurrency
from evals.models.policies import PolicyModel
from evals.runtime import RuntimeConfig, run_episode
from evals.trace import CallRecord, Trace, TurnRecord


def trace(calls: list[tuple[int, float, float]], errors: dict[int, str] | None = None) -> Trace:
    """Calls as (turn, start, end)."""
    t = Trace(task_id="t", suite="s", model="m", clock="real")
    for i, (turn, s, e) in enumerate(calls):
        t.calls.append(
            CallRecord(
                index=i,
                turn=turn,
                position=i,
                name="x",
                raw_arguments="{}",
                start_s=s,
                end_s=e,
                error=(errors or {}).get(i),
            )
        )
    return t


def test_serial_batch_is_1_and_loses_all_but_the_longest_call():
    rc = runtime_concurrency(trace([(1, 0.0, 1.0), (1, 1.0, 2.0), (1, 2.0, 3.0)]))
    assert rc.runtime_concurrency == pytest.approx(1.0)
    assert rc.runtime_concurrency_ideal == pytest.approx(3.0)
    assert rc.runtime_lost_s == pytest.approx(2.0)
    assert rc.concurrent_batches == 1


def test_concurrent_batch_of_equal_calls_measures_its_width():
    rc = runtime_concurrency(trace([(1, 0.0, 1.0)] * 4))
    assert rc.runtime_concurrency == pytest.approx(4.0)
    assert rc.runtime_concurrency_ideal == pytest.approx(4.0)
    assert rc.runtime_lost_s == 0.0


def test_unequal_durations_and_partial_overlap():
    # Calls of 1 s and 2 s started together: concurrency (1+2)/2 = 1.5, the most possible.
    rc = runtime_concurrency(trace([(1, 0.0, 1.0), (1, 0.0, 2.0)]))
    assert rc.runtime_concurrency == pytest.approx(1.5)
    assert rc.runtime_concurrency_ideal == pytest.approx(1.5)
    # Two 1 s calls, the second starting half-way: span 1.5, lost 0.5.
    rc = runtime_concurrency(trace([(1, 0.0, 1.0), (1, 0.5, 1.5)]))
    assert rc.runtime_concurrency == pytest.approx(2.0 / 1.5)
    assert rc.runtime_lost_s == pytest.approx(0.5)


def test_ratio_of_sums_over_batches_and_what_is_left_out():
    t = trace(
        [
            (0, 0.0, 0.5),  # the agent's own call before any response: no batch
            (1, 1.0, 2.0),  # batch 1: two serial 1 s calls
            (1, 2.0, 3.0),
            (2, 4.0, 5.0),  # batch 2: three concurrent 1 s calls, plus one never executed
            (2, 4.0, 5.0),
            (2, 4.0, 5.0),
            (2, 4.0, 4.0),
            (3, 6.0, 7.0),  # batch 3: a single call counts for lost time only
        ],
        errors={6: "not_executed"},
    )
    assert [(b.turn, b.calls) for b in batch_timings(t)] == [(1, 2), (2, 3), (3, 1)]
    rc = runtime_concurrency(t)
    assert rc.runtime_concurrency == pytest.approx((2 + 3) / (2 + 1))
    assert rc.runtime_concurrency_ideal == pytest.approx((2 + 3) / (1 + 1))
    assert rc.runtime_lost_s == pytest.approx(1.0)
    assert rc.concurrent_batches == 2
    suite = aggregate([rc, runtime_concurrency(trace([(1, 0.0, 1.0)] * 2))])
    assert suite["runtime_concurrency"] == pytest.approx((5 + 2) / (3 + 1))
    assert suite["runtime_lost_s_mean"] == pytest.approx(0.5)
    assert suite["episodes"] == 2


def test_dispatch_delay_from_response_to_first_call():
    t = trace([(1, 1.25, 2.0), (1, 1.5, 2.0), (2, 3.0, 3.5)])
    t.turns = [TurnRecord(index=1, start_s=0.0, end_s=1.0), TurnRecord(index=2, start_s=2.5, end_s=2.9)]
    assert [b.dispatch_s for b in batch_timings(t)] == [pytest.approx(0.25), pytest.approx(0.1)]
    rc = runtime_concurrency(t)
    assert rc.runtime_dispatch_s == pytest.approx(0.35) and rc.dispatched_batches == 2
    assert aggregate([rc])["runtime_dispatch_s_mean"] == pytest.approx(0.175)


def test_no_batch_of_two_calls_is_undefined():
    rc = runtime_concurrency(trace([(1, 0.0, 1.0), (2, 1.0, 2.0)]))
    assert rc.runtime_concurrency is None and rc.runtime_concurrency_ideal is None
    assert rc.runtime_lost_s == 0.0
    assert aggregate([])["runtime_concurrency"] is None


@pytest.mark.parametrize(("cap", "expected", "lost"), [(None, 4.0, 0.0), (1, 1.0, 1.5), (2, 2.0, 0.5)])
def test_the_harness_runtime_on_the_virtual_clock(cap, expected, lost):
    """Four equal independent calls: the runtime runs them on `cap` slots, and the metric says so."""
    suite = graph_suite({"w": {"a": [], "b": [], "c": [], "d": []}}, latency_s=0.5)
    model = PolicyModel("oracle", [suite])
    tr = asyncio.run(run_episode(model, suite.tasks[0], RuntimeConfig(fan_out_cap=cap)))
    rc = runtime_concurrency(tr)
    assert rc.runtime_concurrency == pytest.approx(expected)
    assert rc.runtime_concurrency_ideal == pytest.approx(4.0)
    assert rc.runtime_lost_s == pytest.approx(lost)  # span 0.5 * 4 / cap, minus the 0.5 s call


batches = st.lists(
    st.lists(st.tuples(st.floats(0, 10), st.floats(0.001, 5)), min_size=1, max_size=6), min_size=1, max_size=5
)


def laid_out(bs: list[list[tuple[float, float]]], shift: float = 0.0, scale: float = 1.0) -> Trace:
    return trace([(t, shift + scale * s, shift + scale * (s + d)) for t, b in enumerate(bs, 1) for s, d in b])


@settings(max_examples=200, deadline=None)
@given(batches, st.floats(-100, 100), st.floats(0.1, 10))
def test_properties(bs, shift, scale):
    rc = runtime_concurrency(laid_out(bs))
    if rc.runtime_concurrency is not None:
        assert rc.runtime_concurrency > 0  # below 1.0 when the runtime idles between calls
        assert rc.runtime_concurrency <= rc.runtime_concurrency_ideal * (1 + 1e-9)
        assert rc.runtime_concurrency_ideal <= max(len(b) for b in bs) + 1e-9
    assert rc.runtime_lost_s >= 0
    moved = runtime_concurrency(laid_out(bs, shift, scale))  # a unit or an origin changes nothing
    assert moved.concurrent_batches == rc.concurrent_batches
    if rc.runtime_concurrency is not None:
        assert moved.runtime_concurrency == pytest.approx(rc.runtime_concurrency, rel=1e-6)
    assert moved.runtime_lost_s == pytest.approx(scale * rc.runtime_lost_s, rel=1e-6, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.floats(0.001, 5), min_size=2, max_size=6), min_size=1, max_size=5))
def test_all_at_once_is_ideal_and_end_to_end_is_one(durations):
    together = [[(0.0, d) for d in b] for b in durations]
    rc = runtime_concurrency(laid_out(together))
    assert rc.runtime_concurrency == pytest.approx(rc.runtime_concurrency_ideal) and rc.runtime_lost_s == 0
    chained = [[(sum(b[:i]), d) for i, d in enumerate(b)] for b in durations]
    rc = runtime_concurrency(laid_out(chained))
    assert rc.runtime_concurrency == pytest.approx(1.0)
    assert rc.runtime_lost_s == pytest.approx(sum(sum(b) - max(b) for b in durations))
