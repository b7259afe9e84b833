"""Runtime policies on both clocks: fan-out cap, tool timeout and hedging of read tools."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals.cli import main
from evals.fixtures import Suite, build_task
from evals.groundtruth import resolve
from evals.models.policies import PolicyModel
from evals.runtime import run_episode
from evals.schema import SuiteSpec, TaskSpec
from evals.scoring import score
from evals.settings import RuntimeSettings
from evals.timing import InferenceProfile, batch_times, call_time
from mock_tools import default_registry, lognormal, table_tool
from mock_tools.canonical import normalized_key
from mock_tools.table import TableToolSpec

LM = lognormal(0.2, 1.0)
TASK = "hedge"
INSTANT = InferenceProfile(name="instant", ttft_s=0.005, prefill_tps=math.inf, decode_tps=math.inf)


def samples(tool: str, key: str) -> tuple[float, float]:
    c = normalized_key({"key": key})
    return LM.sample(0, TASK, tool, c, 0), LM.sample(0, TASK, tool, c, 1)


def pick(tool: str, ok) -> str:
    """The first key whose attempt-0/attempt-1 samples have the wanted shape (pure, so stable)."""
    return next(f"k{i}" for i in range(1000) if ok(*samples(tool, f"k{i}")))


# A read whose first request straggles and whose hedge is fast; a fast read; a slow write whose
# next attempt would be fast (so hedging it would pay, and must still never happen).
KA = pick("r_a", lambda s0, s1: 0.6 < s0 < 1.2 and s1 < 0.08)
KB = pick("r_b", lambda s0, s1: s0 < 0.1)
KW = pick("w_x", lambda s0, s1: 0.4 < s0 < 0.8 and s1 < 0.08)


def _suite() -> Suite:
    specs = [
        TableToolSpec(
            name=n,
            parameters={"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]},
            write=n.startswith("w_"),
            latency=LM,
            default={"ok": n},
        )
        for n in ("r_a", "r_b", "w_x")
    ]
    reg = default_registry().extended(table_tool(s) for s in specs)
    spec = TaskSpec(
        id=TASK,
        pattern="independent",
        prompt="Look up a and b and save x.",
        tools=["r_a", "r_b", "w_x"],
        calls=[
            {"id": "a", "tool": "r_a", "args": {"key": KA}},
            {"id": "b", "tool": "r_b", "args": {"key": KB}},
            {"id": "x", "tool": "w_x", "args": {"key": KW}},
        ],
    )
    task = build_task(spec, "<test>", "policies", reg, "default")
    return Suite("policies", Path("."), SuiteSpec(name="policies", tools=specs), [task], reg)


SUITE = _suite()


def run(clock: str = "virtual", **kw):
    cfg = RuntimeSettings(clock=clock, inference_profile=INSTANT, **kw)
    trace = asyncio.run(run_episode(PolicyModel("oracle", [SUITE]), SUITE.by_id[TASK], cfg))
    return trace, cfg


# -- the arithmetic ---------------------------------------------------------------------------


def test_call_time_hedge_is_first_answer_of_two_requests():
    assert call_time(1.0, None, 0.3, 0.2) == pytest.approx((0.5, False, True))
    assert call_time(1.0, None, 0.3, 0.9) == (1.0, False, True)  # hedge sent, but it loses
    assert call_time(0.25, None, 0.3, 0.01) == (0.25, False, False)  # answered before the bound
    assert call_time(1.0, None, 0.3, None) == (1.0, False, False)  # not hedgeable (a write)
    assert call_time(0.5, None, 0.3, 0.1) == pytest.approx((0.4, False, True))  # scaled requests


def test_call_time_timeout_bounds_the_whole_call_hedge_included():
    assert call_time(1.0, 0.4, 0.3, 0.05) == pytest.approx((0.35, False, True))
    assert call_time(1.0, 0.4, 0.3, 0.5) == (0.4, True, True)  # both requests too slow
    assert call_time(1.0, 0.3, 0.3, 0.01) == (0.3, True, False)  # times out before it could hedge
    assert call_time(0.2, 0.3) == (0.2, False, False)


def test_batch_times_queue_in_issue_order_on_the_cap():
    starts, ends, b = batch_times(10.0, [0.3, 0.1, 0.2, 0.05], 2)
    assert starts == [10.0, 10.0, 10.1, 10.3]
    assert ends == pytest.approx([10.3, 10.1, 10.3, 10.35])
    assert b == pytest.approx(0.35)
    assert batch_times(1.0, [0.3, 0.1], None)[2] == pytest.approx(0.3)


# -- virtual clock ----------------------------------------------------------------------------


def test_virtual_hedges_slow_reads_only_and_never_writes():
    h = 0.3
    trace, cfg = run(hedge_after=h)
    a, b, x = trace.calls
    (a0, a1), (b0, _), (x0, x1) = samples("r_a", KA), samples("r_b", KB), samples("w_x", KW)
    assert trace.runtime.hedge_after == h
    assert a.hedged and a.hedge_sample_s == a1 and a.duration_s == min(a0, h + a1) == h + a1
    assert not b.hedged and b.duration_s == b0 and b.hedge_sample_s == samples("r_b", KB)[1]
    assert x0 > h + x1  # a hedge would have won ...
    assert not x.hedged and x.hedge_sample_s is None and x.duration_s == x0  # ... but writes never hedge
    assert trace.turns[0].batch_s == pytest.approx(max(h + a1, b0, x0))
    assert [c.error for c in trace.calls] == [None, None, None]
    s = score(resolve(SUITE.by_id[TASK]), trace)
    assert s.success and s.errors_in_results == 0


def test_virtual_hedge_rides_its_calls_fan_out_slot():
    h = 0.3
    trace, _ = run(hedge_after=h, fan_out_cap=1)
    a, b, x = trace.calls
    t0 = trace.turns[0].end_s
    assert [c.start_s - t0 for c in trace.calls] == pytest.approx(
        [0, a.duration_s, a.duration_s + b.duration_s]
    )
    assert a.duration_s == pytest.approx(h + samples("r_a", KA)[1])


def test_virtual_timeout_is_a_graceful_error_and_counts_against_completeness():
    a1 = samples("r_a", KA)[1]
    timeout = 0.35
    trace, cfg = run(tool_timeout=timeout, max_turns=2)
    a, b, x = trace.calls[:3]
    assert (
        a.timed_out and a.error == "timeout" and a.duration_s == timeout and "within 0.35 s" in str(a.result)
    )
    assert x.timed_out and x.error == "timeout"
    assert not b.timed_out and b.error is None
    s = score(resolve(SUITE.by_id[TASK]), trace)
    assert s.timed_out_calls == 2 and s.errors_in_results == 2  # reported beside the time
    # The oracle retries both in turn 2; a retry draws the next attempt's sample, fast this time.
    assert [(c.name, c.attempt, c.timed_out) for c in trace.calls[3:]] == [
        ("r_a", 1, False),
        ("w_x", 1, False),
    ]
    assert s.required_satisfied == 3 and not s.success  # max_turns=2 leaves no turn to answer
    # Hedging the read rescues it inside the same bound; the write still times out.
    trace, cfg = run(tool_timeout=timeout, hedge_after=0.2, max_turns=2)
    a, _, x = trace.calls[:3]
    assert a.hedged and not a.timed_out and a.duration_s == 0.2 + a1 and a.error is None
    assert x.timed_out and not x.hedged


def test_config_rejects_a_negative_hedge():
    with pytest.raises(ValueError, match="hedge_after"):
        RuntimeSettings(hedge_after=-0.1)


# -- real clock -------------------------------------------------------------------------------

SCALE = 0.25  # real sleeps of 10-300 ms


def test_real_clock_hedge_races_and_cancels_the_loser():
    h = 0.04

    async def go():
        cfg = RuntimeSettings(clock="real", hedge_after=h, latency_scale=SCALE, inference_profile=INSTANT)
        trace = await run_episode(PolicyModel("oracle", [SUITE]), SUITE.by_id[TASK], cfg)
        leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return trace, leftover

    trace, leftover = asyncio.run(go())
    assert leftover == []  # the losing request was cancelled and awaited
    a, b, x = trace.calls
    (a0, a1), (x0, _) = samples("r_a", KA), samples("w_x", KW)
    took = {c.name: c.end_s - c.start_s for c in trace.calls}
    assert a.hedged and not a.timed_out and a.result == {"ok": "r_a"}
    assert h + a1 * SCALE - 0.002 <= took["r_a"] < a0 * SCALE - 0.05  # the hedge won, long before the first
    assert not b.hedged
    assert not x.hedged and took["w_x"] >= x0 * SCALE - 0.002  # the write waited its full latency
    assert trace.runtime_overhead_s is not None and 0 <= trace.runtime_overhead_s < 0.15


def test_real_clock_timeout_cuts_the_call_at_the_bound():
    timeout = 0.05
    trace, _ = run("real", tool_timeout=timeout, latency_scale=SCALE, max_turns=1)
    a, b, x = trace.calls
    took = [c.end_s - c.start_s for c in trace.calls]
    assert a.timed_out and a.error == "timeout" and x.timed_out and x.error == "timeout"
    assert not b.timed_out and b.error is None
    assert timeout - 0.002 <= took[0] < timeout + 0.04 and timeout - 0.002 <= took[2] < timeout + 0.04
    assert trace.turns[0].batch_s < 0.1  # not the 100+ ms the write would have taken


def test_real_clock_cap_queues_calls():
    trace, _ = run("real", fan_out_cap=1, latency_scale=SCALE, max_turns=1)
    a, b, x = trace.calls
    assert a.end_s <= b.start_s + 1e-6 and b.end_s <= x.start_s + 1e-6
    assert trace.turns[0].batch_s >= sum(c.duration_s for c in trace.calls) - 0.003


# -- recorded in run.json ---------------------------------------------------------------------


def test_run_json_records_the_policies(tmp_path, capsys):
    suite_dir = tmp_path / "suite"
    suite_dir.mkdir()
    (suite_dir / "suite.yaml").write_text(
        json.dumps({"name": "pol", "tools": [s.model_dump() for s in SUITE.spec.tools]})
    )
    (suite_dir / "t.yaml").write_text(json.dumps(SUITE.by_id[TASK].spec.model_dump(exclude_none=True)))
    rc = main(
        [
            "run",
            "--model",
            "policy/oracle",
            "--suite",
            str(suite_dir),
            "--out",
            str(tmp_path / "runs"),
            "--fan-out-cap",
            "2",
            "--tool-timeout",
            "0.35",
            "--hedge-after",
            "0.2",
            "--no-progress",
        ]
    )
    assert rc == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    cfg = json.loads((run_dir / "run.json").read_text())
    rt = cfg["runtime"]
    assert (rt["fan_out_cap"], rt["tool_timeout"], rt["hedge_after"]) == (2, 0.35, 0.2)
    (ep,) = [json.loads(line) for line in (run_dir / "episodes.jsonl").read_text().splitlines()]
    # the trace carries the settings it ran under, whole
    assert RuntimeSettings.model_validate(ep["trace"]["runtime"]) == RuntimeSettings.model_validate(rt)
    hedged = {c["name"]: c["hedged"] for c in ep["trace"]["calls"] if c["turn"] == 1}
    assert hedged == {"r_a": True, "r_b": False, "w_x": False}
    assert ep["scores"]["timed_out_calls"] >= 1  # the write times out: reported beside the time


def test_a_policy_decodes_each_json_text_once_and_its_memo_is_bounded():
    from evals.models.policies import Decoded

    d = Decoded(limit=2)
    first = d.result('{"v": 1}')
    assert d.result('{"v": 1}') is first and first == {"v": 1}
    assert d.result("not json") == {"error": {"code": "unparseable"}}
    assert d.result(None) is None
    assert d.result('{"v": 1}') == first  # the memo started again at its limit: decoded anew
    assert d.args('{"a": [1]}') == {"a": [1]} and d.args("[1") is None
    assert d.args({"a": 1}) == {"a": 1}  # an object sent as is


def test_a_policy_answers_a_conversation_it_has_seen_with_its_first_answer_each_time_a_fresh_copy():
    from helpers import graph_suite

    from evals.models.base import Message

    suite = graph_suite({"chain": {"a": [], "b": ["a"]}})
    model = PolicyModel("oracle", [suite])
    decided: list[int] = []
    decide = model._decide
    model._decide = lambda messages: decided.append(1) or decide(messages)  # type: ignore[method-assign]
    convo = [Message("system", "s"), Message("user", suite.tasks[0].prompt)]
    first, again = model.respond(convo), model.respond(list(convo))
    assert decided == [1] and first == again and first is not again
    # Each message's part of the key is kept on it; equal new messages make the same key.
    assert convo[1].policy_key == ("user", suite.tasks[0].prompt, None, None, ())
    model.respond([Message("system", "s"), Message("user", suite.tasks[0].prompt)])
    assert decided == [1]
    assert first.tool_calls is not again.tool_calls  # a caller may extend its own list
    first.text = "changed by a caller"
    assert model.respond(convo).text is None  # the memo keeps the response as decided
    tc = first.tool_calls[0]
    as_object = [*convo, Message("assistant", None, [type(tc)(tc.id, tc.name, {"key": "a"})])]
    model.respond(as_object)
    model.respond(as_object)
    assert decided == [1, 1, 1]  # arguments sent as objects: no key, decided each time
    traces = [asyncio.run(run_episode(model, suite.tasks[0], RuntimeSettings())) for _ in range(2)]
    assert traces[0] == traces[1]


@given(
    st.lists(st.text(alphabet="ab ", min_size=1, max_size=40), min_size=1, max_size=12),
    st.text(alphabet="ab c", max_size=20),
    st.text(alphabet="ab c", max_size=20),
    st.integers(min_value=0, max_value=11),
)
def test_the_task_index_finds_the_longest_prompt_a_wrapped_message_contains(prompts, before, after, pick):
    """The index (prompts filed by their first characters) finds what testing every prompt finds:
    the longest contained, the first declared among equal ones."""
    from types import SimpleNamespace

    from evals.models.base import Message
    from evals.models.policies import TaskIndex, UnknownTaskError, _norm

    tasks = [SimpleNamespace(prompt=p, n=i) for i, p in enumerate(prompts)]
    index = TaskIndex([SimpleNamespace(tasks=tasks)])  # type: ignore[list-item]
    user = before + " " + prompts[pick % len(prompts)] + " " + after
    key = _norm(user)
    by_prompt = {_norm(t.prompt): t for t in tasks}
    expected = None
    for p, t in by_prompt.items():
        if p in key and (expected is None or len(p) > len(expected[0])):
            expected = (p, t)
    messages = [Message("user", user)]
    if by_prompt.get(key) is not None:
        assert index.find(messages) is by_prompt[key]
    elif expected is None:
        with pytest.raises(UnknownTaskError):
            index.find(messages)
    else:
        assert index.find(messages) is expected[1]
