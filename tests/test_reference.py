"""Reference schedules (DESIGN 5): ideal_wall_s is the oracle's own schedule (its retries of timed-out
calls included, longest call first under a cap), speedup_vs_sequential the sequential schedule over
the wall, both at one fixed turn latency per model and run; speed figures over successful episodes;
and the parallel-success headline, which redundant or premature calls cannot game."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from helpers import graph_suite, score_batches
from hypothesis import given
from test_properties import SETTINGS, dags
from test_properties import run as run_policy

from evals.aggregate import frame, summarize
from evals.fixtures import Suite, build_task
from evals.groundtruth import ground_truth, resolve
from evals.models.base import Model, ModelError, ModelRequest, ModelResponse, ToolCall
from evals.models.policies import POLICIES, PolicyModel
from evals.reference import reference
from evals.runs import execute, load_records, start_run
from evals.runtime import run_episode
from evals.schema import SuiteSpec, TaskSpec
from evals.scoring import score
from evals.settings import RuntimeSettings
from mock_tools import LatencyModel, default_registry, table_tool
from mock_tools.table import TableToolSpec


class Measured(Model):
    """A reference policy that reports a measured latency per turn, as a provider does."""

    remote = False

    def __init__(self, policy: str, suite: Suite, latencies: list[float]):
        self.inner = PolicyModel(policy, [suite])
        self.name = f"measured/{policy}"
        self.latencies = latencies
        self.turn = 0

    async def generate(self, request: ModelRequest) -> ModelResponse:
        resp = self.inner.respond(request.messages)
        resp.latency_s = self.latencies[min(self.turn, len(self.latencies) - 1)]
        self.turn += 1
        return resp


# a, b, c -> d with fixed latencies: the straggler example of docs/scoring.md.
LAT = {"a": 0.25, "b": 1.0, "c": 0.5, "d": 0.75}


def abcd() -> Suite:
    return graph_suite({"g": {"a": [], "b": [], "c": [], "d": ["a", "b", "c"]}}, latency_s=LAT)


def test_measured_turns_use_the_runs_median_turn(tmp_path):
    """Worked example (docs/scoring.md): every turn measured at 1.0 s. Oracle {a,b,c} {d} answer:
    wall 3 x 1.0 + 1.0 + 0.75 = 4.75 = ideal. The sequential schedule: 5 turns + 0.25 + 1.0 + 0.5
    + 0.75 = 7.5 s, so the oracle's speedup vs sequential is 7.5 / 4.75."""
    suite = abcd()
    out = {}
    for policy in ("oracle", "sequential"):
        run_dir, cfg = start_run(f"measured/{policy}", suite, tmp_path)
        asyncio.run(execute(run_dir, cfg, Measured(policy, suite, [1.0]), suite, progress=False))
        (rec,) = load_records(run_dir)[1]
        assert rec.scores.reference_turn_s is None  # measured: known once the run is read whole
        out[policy] = json.loads((run_dir / "summary.json").read_text())
    oracle, seq = out["oracle"], out["sequential"]
    assert oracle["wall_s_p50"] == 4.75 and oracle["ideal_wall_s_mean"] == 4.75
    assert oracle["wall_over_ideal"] == 1.0
    assert oracle["speedup_vs_sequential"] == 7.5 / 4.75
    assert seq["wall_s_p50"] == 7.5 and seq["ideal_wall_s_mean"] == 4.75
    assert seq["speedup_vs_sequential"] == 1.0 and seq["wall_over_ideal"] == 7.5 / 4.75


class FailsOn(Measured):
    """Measured, but the first request of one task fails (a provider error after the retries)."""

    def __init__(self, policy: str, suite: Suite, latencies: list[float], task_id: str):
        super().__init__(policy, suite, latencies)
        self.fail_task = task_id

    async def generate(self, request: ModelRequest) -> ModelResponse:
        if self.fail_task in str(request.messages[-1]):
            raise ModelError("500 after the retries")
        return await super().generate(request)


def test_an_episode_that_failed_before_its_first_turn_waits_for_the_runs_median(tmp_path):
    """A measured run's episode whose first request failed has no turn: its references take the
    run's median turn (1.0 s) like every other episode of the run, not the default profile's
    (which once put typical-profile seconds into a measured run's ideal_wall_s_mean)."""
    suite = graph_suite(
        {
            "g": {"a": [], "b": [], "c": [], "d": ["a", "b", "c"]},
            "h": {"a": [], "b": [], "c": [], "d": ["a", "b", "c"]},
        },
        latency_s=LAT,
    )
    run_dir, cfg = start_run("measured/oracle", suite, tmp_path)
    model = FailsOn("oracle", suite, [1.0], "synthetic task h")
    asyncio.run(execute(run_dir, cfg, model, suite, progress=False))
    recs = {r.task_id: r for r in load_records(run_dir)[1]}
    assert recs["h"].trace.stop == "error" and recs["h"].trace.turns == []
    assert recs["h"].scores.reference_turn_s is None  # waits for the run, as measured episodes do
    s = json.loads((run_dir / "summary.json").read_text())
    assert s["errors"] == 1 and s["ideal_wall_s_mean"] == 4.75  # both at the median turn, 1.0 s


def test_the_reference_turn_is_the_runs_median_not_the_episodes_own(tmp_path):
    """A model whose turns take 1, 1, 3 s: its run's median turn is 1 s, so its own slow last turn
    moves its wall, not its baseline."""
    suite = abcd()
    run_dir, cfg = start_run("measured/oracle", suite, tmp_path)
    asyncio.run(execute(run_dir, cfg, Measured("oracle", suite, [1.0, 1.0, 3.0]), suite, progress=False))
    s = json.loads((run_dir / "summary.json").read_text())
    assert s["wall_s_p50"] == 1.0 + 1.0 + 1.0 + 0.75 + 3.0
    assert s["ideal_wall_s_mean"] == 4.75  # at the median turn, 1.0 s


def test_profile_timed_references_are_the_policies_own_walls():
    """Under an inference profile the ideal is exactly the oracle's wall and the sequential
    reference exactly the sequential policy's: the oracle's wall / ideal and the sequential
    policy's speedup are 1, bit for bit, and every model gets the same references on a task."""
    suite = graph_suite({"g": {"a": [], "b": [], "c": ["a"], "d": ["b", "c"]}}, latency_s=LAT | {"c": 0.4})
    task = suite.by_id["g"]
    gt = resolve(task, 0)
    s = RuntimeSettings(inference_profile="typical")
    refs = set()
    for policy in POLICIES:
        trace = asyncio.run(run_episode(PolicyModel(policy, [suite]), task, s))
        sc = score(gt, trace)
        refs.add((sc.ideal_wall_s, sc.sequential_wall_s))
        if policy == "oracle":
            assert (
                sc.wall_s == sc.ideal_wall_s and sc.speedup_vs_sequential == sc.sequential_wall_s / sc.wall_s
            )
        if policy == "sequential":
            assert sc.wall_s == sc.sequential_wall_s and sc.speedup_vs_sequential == 1.0
    assert len(refs) == 1


def test_under_a_cap_the_ideal_runs_the_longest_call_first():
    """a 0.5, b 0.5, c 1.0 s, fan-out cap 2: the oracle issues a, b, c (in declaration order):
    makespan 1.5 s (c waits for a slot); longest first: c with a, then b, 1.0 s."""
    suite = graph_suite({"g": {"a": [], "b": [], "c": []}}, latency_s={"a": 0.5, "b": 0.5, "c": 1.0})
    gt = resolve(suite.by_id["g"], 0)
    ref = reference(gt, RuntimeSettings(fan_out_cap=2))
    assert ref.oracle.batches == (1.0, 0.0)
    trace = asyncio.run(
        run_episode(PolicyModel("oracle", [suite]), suite.by_id["g"], RuntimeSettings(fan_out_cap=2))
    )
    assert trace.turns[0].batch_s == 1.5
    sc = score(gt, trace)
    assert sc.wall_s - sc.ideal_wall_s == pytest.approx(0.5, abs=1e-12)


def _straggling_suite() -> tuple[Suite, int]:
    """One lookup that straggles (x10) on its first attempt only, and the seed where it does."""
    lm = LatencyModel(kind="fixed", median_s=0.1, sigma=0.0, straggler_p=0.5, straggler_mult=10.0)
    spec = TableToolSpec(
        name="t_slow",
        description="lookup",
        parameters={"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]},
        latency=lm,
        default={"value": "v"},
    )
    reg = default_registry().extended([table_tool(spec)])
    calls = [{"id": "a", "tool": "t_slow", "args": {"key": "a"}}]
    task = build_task(
        TaskSpec(id="g", pattern="single", prompt="look it up", tools=["t_slow"], calls=calls),
        "<test>",
        "synthetic",
        reg,
        "default",
    )
    canon = json.dumps({"key": "a"}, sort_keys=True, separators=(",", ":"))
    for seed in range(200):
        if lm.is_straggler(seed, "g", "t_slow", canon, 0) and not lm.is_straggler(
            seed, "g", "t_slow", canon, 1
        ):
            return Suite("synthetic", Path("."), SuiteSpec(name="synthetic", tools=[spec]), [task], reg), seed
    raise AssertionError("no seed straggles on attempt 0 only")


def test_the_ideal_includes_the_oracles_retries_of_timed_out_calls():
    """Timeout 0.5 s: attempt 0 (1.0 s) times out at 0.5 s, the retry (0.1 s) succeeds. The oracle
    takes one more turn than the graph's ideal turns, and the ideal is its wall, retry included."""
    suite, seed = _straggling_suite()
    s = RuntimeSettings(seed=seed, tool_timeout=0.5, inference_profile="typical")
    task = suite.by_id["g"]
    gt = ground_truth(task, seed)
    trace = asyncio.run(run_episode(PolicyModel("oracle", [suite], seed=seed), task, s))
    assert [c.timed_out for c in trace.calls] == [True, False]
    sc = score(gt, trace)
    assert (sc.turns, sc.ideal_turns, sc.oracle_turns) == (3, 2, 3)
    assert sc.ideal_wall_s == sc.wall_s
    assert sc.oracle_tool_s == pytest.approx(0.5 + 0.1, abs=1e-12)
    assert sc.parallel_success  # the oracle's own retry is no failure of the headline


def test_a_timeout_costs_the_oracle_no_headline_on_the_core_suite(core_suite):
    """docs/scoring.md: the oracle scores 1 on every task, timeouts included. Its fanned-out calls
    that time out are retried a turn later, and fan-out recall counts the turn it first issued
    them (the timeout is the tool's). The scores equal those of a run without timeouts."""
    s = RuntimeSettings(tool_timeout=1.5, hedge_after=0.5)
    model = PolicyModel("oracle", [core_suite])
    fanned_out_timeouts = 0

    async def run_all() -> None:
        nonlocal fanned_out_timeouts
        for task in core_suite.tasks:
            trace = await run_episode(model, task, s)
            sc = score(ground_truth(task, s.seed), trace)
            assert sc.success and sc.parallel_success, task.id
            assert sc.on_time == sc.parallelizable, task.id
            fanned_out_timeouts += sum(1 for c in trace.calls if c.timed_out and len(trace.calls) > 1)

    asyncio.run(run_all())
    assert fanned_out_timeouts >= 10  # the property is exercised, not vacuous


def test_speed_figures_count_successful_episodes_only(tmp_path, core_suite):
    """`lazy` skips a required call: only its answer-only episodes succeed, and its speed figures
    are theirs, with their count beside them (the raw mean still covers every episode)."""
    run_dir, cfg = start_run("policy/lazy", core_suite, tmp_path)
    asyncio.run(execute(run_dir, cfg, PolicyModel("lazy", [core_suite]), core_suite, progress=False))
    recs = load_records(run_dir)[1]
    df = frame(r.scores_row() for r in recs)
    s = summarize(df)
    ok = df[df["success"]]
    assert s["successful_episodes"] == len(ok) < len(df)
    assert s["wall_s_p50"] == float(ok["wall_s"].median())
    assert s["speedup_vs_sequential"] == float(ok["sequential_wall_s"].sum() / ok["wall_s"].sum())
    assert s["wall_s_mean"] == float(df["wall_s"].mean())


# -- the headline ---------------------------------------------------------------------------


class Spoiled(Model):
    """The oracle, plus one spoiling call in its first batch: a duplicate of its first call, a call
    to an unknown tool, or a call to a dependent node's tool issued too early."""

    remote = False

    def __init__(self, suite: Suite, kind: str):
        self.inner = PolicyModel("oracle", [suite])
        self.name = f"spoiled/{kind}"
        self.kind = kind
        self.done = False

    async def generate(self, request: ModelRequest) -> ModelResponse:
        resp = self.inner.respond(request.messages)
        if not self.done and resp.tool_calls:
            first = resp.tool_calls[0]
            extra = {
                "duplicate": ToolCall(id="x", name=first.name, arguments=first.arguments),
                "extraneous": ToolCall(id="x", name="no_such_tool", arguments="{}"),
            }.get(self.kind)
            if self.kind == "premature":
                extra = self.premature
            if extra is not None:
                resp.tool_calls = [*resp.tool_calls, extra]
                self.done = True
        return resp


@SETTINGS
@given(dags())
def test_parallel_success_cannot_be_gamed_by_redundant_or_premature_calls(graph):
    gt, _, oracle = run_policy("oracle", graph)
    assert oracle.parallel_success
    suite = graph_suite({"g": graph})
    dependent = [v for v in gt.graph.topo if gt.nodes[v].deps]
    for kind in ("duplicate", "extraneous", "premature"):
        model = Spoiled(suite, kind)
        if kind == "premature":
            if not dependent:
                continue
            v = dependent[0]
            model.premature = ToolCall(id="x", name=gt.nodes[v].tool, arguments=json.dumps({"key": v}))
        _, _, s = run_policy(model, graph)
        assert not s.parallel_success, kind
    for policy in ("sequential", "greedy", "redundant", "lazy"):
        _, _, s = run_policy(policy, graph)
        if s.parallel_success:  # only where the policy's behaviour is the oracle's
            assert s.turns <= oracle.turns and s.redundant_calls == 0 and s.success
            assert s.classes["premature"] == 0 and s.on_time == s.parallelizable


def test_optional_calls_made_on_time_keep_parallel_success():
    """An optional step the model chooses to take (looking up the owner it names) is not a longer
    route: the turn limit covers it when it is issued at the first turn it was ready. a -> b, b
    optional: the oracle answers after a (2 turns); a, then b, then the answer is 3 turns and keeps
    the headline. c optional with no dependency is ready at turn 1: issuing it a turn late fails."""
    suite = graph_suite({"ab": {"a": [], "b": ["a"]}, "ac": {"a": [], "c": []}}, optional=frozenset("bc"))
    ab = score_batches(suite, "ab", [["a"], ["b"]])
    assert ab.success and ab.oracle_turns == 2 and ab.turns == 3 and ab.optional_turns == 3
    assert ab.parallel_success
    assert score_batches(suite, "ab", [["a"]]).parallel_success  # the oracle's own route
    assert score_batches(suite, "ab", [["a"]]).optional_turns is None
    late = score_batches(suite, "ac", [["a"], ["c"]])
    assert late.success and late.optional_turns == 2 and late.turns == 3 and not late.parallel_success
    assert score_batches(suite, "ac", [["a", "c"]]).parallel_success
