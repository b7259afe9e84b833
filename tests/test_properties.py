"""Property tests over random DAGs: the scorer and the reference policies agree with
independent computations, classes partition the calls, and results are deterministic."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from helpers import graph_suite
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals.groundtruth import resolve
from evals.models.base import Model, ModelRequest, ModelResponse, ToolCall
from evals.models.policies import PolicyModel
from evals.runtime import run_episode
from evals.scoring import CLASSES, score
from evals.settings import RuntimeSettings

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def dags(draw) -> dict[str, list[str]]:
    n = draw(st.integers(min_value=1, max_value=7))
    graph = {}
    for j in range(n):
        deps = [f"n{i}" for i in range(j) if draw(st.booleans())]
        graph[f"n{j}"] = deps
    return graph


def run(policy: str | Model, graph: dict[str, list[str]], seed: int = 0):
    suite = graph_suite({"g": graph})
    model = PolicyModel(policy, [suite], seed=seed) if isinstance(policy, str) else policy
    cfg = RuntimeSettings(seed=seed)
    trace = asyncio.run(run_episode(model, suite.by_id["g"], cfg))
    gt = resolve(suite.by_id["g"], seed)
    return gt, trace, score(gt, trace)


def reachable(graph: dict[str, list[str]], src: str, dst: str) -> bool:
    """Is src an ancestor of dst? Plain DFS over the dependency lists."""
    stack, seen = list(graph[dst]), set()
    while stack:
        u = stack.pop()
        if u == src:
            return True
        if u not in seen:
            seen.add(u)
            stack.extend(graph[u])
    return False


def parallelizable(graph) -> set[str]:
    return {
        u
        for u in graph
        if any(w != u and not reachable(graph, u, w) and not reachable(graph, w, u) for w in graph)
    }


def longest_path(graph) -> int:
    memo: dict[str, int] = {}

    def depth(v: str) -> int:
        if v not in memo:
            memo[v] = 1 + max((depth(u) for u in graph[v]), default=0)
        return memo[v]

    return max(depth(v) for v in graph)


@SETTINGS
@given(dags())
def test_oracle_is_perfect(graph):
    gt, trace, s = run("oracle", graph)
    P = parallelizable(graph)
    assert s.success
    assert s.fan_out_recall == (1.0 if P else None)
    has_deps = any(graph[v] for v in graph)
    assert s.incorrect_fan_out_rate == (0.0 if has_deps else None)
    assert s.turns == s.ideal_turns == longest_path(graph) + 1
    assert s.redundant_calls == 0
    assert s.wall_s == pytest.approx(s.ideal_wall_s, rel=1e-12)


@SETTINGS
@given(dags())
def test_sequential_recall_matches_independent_count(graph):
    gt, trace, s = run("sequential", graph)
    P = parallelizable(graph)
    sat: dict[str, int] = {}
    on_time = 0
    turn = 1
    order = gt.graph.topo
    while len(sat) < len(graph):
        v = next(x for x in order if x not in sat and all(u in sat for u in graph[x]))
        ready = 1 + max((sat[u] for u in graph[v]), default=0)
        sat[v] = turn
        if v in P and turn == ready:
            on_time += 1
        turn += 1
    assert s.turns == len(graph) + 1
    assert s.on_time == on_time and s.parallelizable == len(P)
    assert s.fan_out_recall == (on_time / len(P) if P else None)
    assert s.incorrect_fan_out_rate in (0.0, None)


@SETTINGS
@given(dags(), st.sampled_from(["greedy", "redundant", "lazy", "sequential"]))
def test_classes_partition_calls(graph, policy):
    gt, trace, s = run(policy, graph)
    assert sum(s.classes.values()) == s.n_calls == len(trace.calls)
    assert all(c.cls in CLASSES for c in trace.calls)
    assert s.redundant_calls == s.classes["duplicate"] + s.classes["extraneous"]
    assert s.premature_nodes <= s.nodes_with_deps
    if policy == "greedy" and any(graph[v] for v in graph):
        assert s.incorrect_fan_out_rate > 0
    if policy == "lazy":
        assert not s.success


class ChaosModel(Model):
    """Seeded random batches: right and wrong arguments, repeats, unknown tools, bad JSON."""

    name = "chaos"

    def __init__(self, graph: dict[str, list[str]], seed: int):
        self.nodes = list(graph)
        self.rng = random.Random(seed)
        self.turn = 0

    async def generate(self, request: ModelRequest) -> ModelResponse:
        self.turn += 1
        if self.turn > 5:
            return ModelResponse(text="done")
        calls = []
        for i in range(self.rng.randint(1, 5)):
            kind = self.rng.random()
            node = self.rng.choice(self.nodes)
            if kind < 0.6:
                args = json.dumps({"key": node})
            elif kind < 0.75:
                args = json.dumps({"key": "wrong"})
            elif kind < 0.85:
                args = "{not json"
            else:
                args = json.dumps({"key": node})
                node = "no_such"
            calls.append(ToolCall(id=f"c{self.turn}_{i}", name=f"t_{node}", arguments=args))
        return ModelResponse(tool_calls=calls)


@SETTINGS
@given(dags(), st.integers(0, 10_000))
def test_arbitrary_behaviour_is_scored_consistently(graph, seed):
    gt, trace, s = run(ChaosModel(graph, seed), graph)
    assert sum(s.classes.values()) == s.n_calls
    assert s.fan_out_recall is None or 0.0 <= s.fan_out_recall <= 1.0
    assert s.incorrect_fan_out_rate is None or 0.0 <= s.incorrect_fan_out_rate <= 1.0
    assert s.required_satisfied <= s.required_total
    for c in trace.calls:
        if c.arguments is None:
            assert c.cls == "extraneous"
        if c.cls == "premature":
            assert c.node in gt.nodes and gt.nodes[c.node].deps
    _, trace2, s2 = run(ChaosModel(graph, seed), graph)
    assert s2.model_dump() == s.model_dump()
    assert trace2.model_dump_json() == trace.model_dump_json()


@SETTINGS
@given(dags(), st.sampled_from(["oracle", "sequential", "greedy", "redundant", "lazy"]), st.integers(0, 3))
def test_scores_identical_across_repeated_runs(graph, policy, seed):
    _, t1, s1 = run(policy, graph, seed)
    _, t2, s2 = run(policy, graph, seed)
    assert json.dumps(s1.model_dump(), sort_keys=True) == json.dumps(s2.model_dump(), sort_keys=True)
    assert t1.model_dump_json() == t2.model_dump_json()


@SETTINGS
@given(dags(), st.integers(0, 10_000))
def test_a_memoised_classification_is_what_classifying_afresh_gives(graph, seed):
    """`classify`'s memo key holds everything classification reads of the calls: the same calls
    with other results and times get from the memo what classifying them afresh gives."""
    from evals.scoring import _classify, classify

    suite = graph_suite({"g": graph})
    task = suite.by_id["g"]
    gt = resolve(task, 0)
    first = asyncio.run(run_episode(ChaosModel(graph, seed), task, RuntimeSettings()))
    classify(gt, first)
    again = asyncio.run(run_episode(ChaosModel(graph, seed), task, RuntimeSettings()))
    for c in again.calls:
        c.result = {"value": "something else"} if c.error is None else c.result
        c.start_s, c.end_s, c.duration_s = c.start_s + 1.0, c.end_s + 2.0, c.duration_s + 1.0
    assert classify(gt, again) == _classify(gt, again)
    assert len(gt.classified) == 1  # the second came from the memo
    # What the key holds: a call that failed, or came a turn later, is classified afresh.
    if again.calls:
        failed = again.model_copy(deep=True)
        failed.calls[0].error = None if failed.calls[0].error else "boom"
        later = again.model_copy(deep=True)
        for c in later.calls:
            c.turn += 1
        for t in (failed, later):
            assert classify(gt, t) == _classify(gt, t)
