"""The core suite as a whole: size, pattern coverage, graph shapes, and the reference policies'
known behaviour on it (the oracle is perfect; greedy reads stale data beside a write; every call
on a no-tool task is redundant; conditional branches occur both ways)."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter

import pytest

from evals.fixtures import Suite, Task, load_suite
from evals.groundtruth import GroundTruth, resolve
from evals.models.base import Model, ModelRequest, ModelResponse, ToolCall
from evals.models.policies import PolicyModel
from evals.runtime import RuntimeConfig, run_episode
from evals.scoring import Scores, score

PATTERNS = (
    "single",
    "independent",
    "wide",
    "chain",
    "fan_out_join",
    "fan_in_write",
    "multi_wave",
    "write_then_read",
    "distractor",
    "conditional",
    "straggler",
    "no_tool",
)
PART_B = ("multi_wave", "write_then_read", "distractor", "conditional", "straggler", "no_tool")
REDUNDANT = ("duplicate", "extraneous")


@pytest.fixture(scope="module")
def suite() -> Suite:
    return load_suite("core")


def by_pattern(suite: Suite, pattern: str) -> list[Task]:
    return [t for t in suite.tasks if t.pattern == pattern]


def width(gt: GroundTruth) -> int:
    return max((len(level) for level in gt.oracle_levels()), default=0)


class ScriptModel(Model):
    """Issues fixed batches of calls, one per turn, then a fixed answer: a hand-written behaviour
    run through the real runtime, so the scorer sees exactly the calls a model would make."""

    name = "script"

    def __init__(self, batches: list[list[tuple[str, dict]]], answer: str):
        self.batches, self.answer = batches, answer

    async def generate(self, request: ModelRequest) -> ModelResponse:
        turn = sum(1 for m in request.messages if m.role == "assistant")
        if turn < len(self.batches):
            calls = [
                ToolCall(id=f"c{turn}_{i}", name=n, arguments=json.dumps(a))
                for i, (n, a) in enumerate(self.batches[turn])
            ]
            return ModelResponse(tool_calls=calls, finish_reason="tool_calls")
        return ModelResponse(text=self.answer, finish_reason="stop")


def run(model: Model, task: Task, seed: int = 0) -> Scores:
    cfg = RuntimeConfig(seed=seed)
    trace = asyncio.run(run_episode(model, task, cfg))
    return score(resolve(task, seed), trace, cfg.latency)


def placeholder_args(task: Task, tool_name: str) -> dict:
    """Schema-shaped arguments for a tool: enough for a well-formed call."""
    params = task.tool_by_name[tool_name].parameters
    out: dict = {}
    for k in params.get("required", []):
        prop = params["properties"].get(k, {})
        if "enum" in prop:
            out[k] = prop["enum"][0]
        elif prop.get("type") in ("integer", "number"):
            out[k] = max(1, prop.get("minimum", 1))
        else:
            out[k] = "x"
    return out


# -- shape of the suite -------------------------------------------------------------------------
def test_suite_size_and_patterns(suite: Suite) -> None:
    counts = Counter(t.pattern for t in suite.tasks)
    assert len(suite.tasks) >= 150
    assert set(PATTERNS) <= set(counts), f"missing patterns: {set(PATTERNS) - set(counts)}"
    low = {p: counts[p] for p in PATTERNS if counts[p] < 10}
    assert not low, f"patterns with fewer than 10 tasks: {low}"
    assert set(counts) <= set(PATTERNS), f"unknown patterns: {set(counts) - set(PATTERNS)}"


def test_part_b_patterns_have_at_least_13_tasks_with_answer_checks(suite: Suite) -> None:
    for p in PART_B:
        tasks = by_pattern(suite, p)
        assert len(tasks) >= 13, p
        for t in tasks:
            assert t.spec.answer is not None and (t.spec.answer.contains or t.spec.answer.contains_any), t.id


def test_task_ids_name_domain_pattern_and_number(suite: Suite) -> None:
    bad = [t.id for t in suite.tasks if not re.fullmatch(rf"[a-z]+_{t.pattern}_\d{{2}}", t.id)]
    assert not bad, f"ids not of the form <domain>_<pattern>_<NN>: {bad}"


def test_independent_and_wide_widths(suite: Suite) -> None:
    indep = {width(resolve(t, 0)) for t in by_pattern(suite, "independent")}
    wide = {width(resolve(t, 0)) for t in by_pattern(suite, "wide")}
    assert set(range(2, 9)) <= indep <= set(range(2, 9)), sorted(indep)
    assert set(range(9, 17)) <= wide <= set(range(9, 17)), sorted(wide)


def test_chain_depths(suite: Suite) -> None:
    depths = {resolve(t, 0).ideal_turns - 1 for t in by_pattern(suite, "chain")}
    assert set(range(2, 5)) <= depths <= set(range(2, 5)), sorted(depths)


def test_write_then_read_reads_wait_on_writes_without_data(suite: Suite) -> None:
    """Every write_then_read task has a read ordered after a write by `after` alone."""
    for t in by_pattern(suite, "write_then_read"):
        pairs = [
            (n.id, a)
            for n in t.nodes
            for a in n.spec.after
            if t.tool_by_name[t.node_by_id[a].tool].write and not t.tool_by_name[n.tool].write
        ]
        assert pairs, t.id


def test_straggler_tasks_have_a_slow_or_heavy_tailed_call(suite: Suite) -> None:
    cfg = RuntimeConfig()
    for t in by_pattern(suite, "straggler"):
        gt = resolve(t, 0)
        assert width(gt) >= 2, t.id
        models = [cfg.latency.model_for(t.tool_by_name[n.tool], t.spec.latency) for n in gt.nodes.values()]
        slow = [m for m in models if m.median_s >= 1.0 or (m.straggler_p > 0 and m.straggler_mult >= 4)]
        fast = [m for m in models if m.median_s < 1.0]
        assert slow and fast, t.id


# -- reference policies -------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_oracle_is_perfect_on_every_task(suite: Suite, seed: int) -> None:
    oracle = PolicyModel("oracle", [suite], seed=seed)
    failures = []
    for t in suite.tasks:
        s = run(oracle, t, seed)
        if not (s.success and s.fan_out_recall in (None, 1.0) and s.incorrect_fan_out_rate in (None, 0.0)):
            failures.append((t.id, s.success, s.fan_out_recall, s.incorrect_fan_out_rate))
    assert not failures


def test_greedy_reads_beside_the_write_on_write_then_read(suite: Suite) -> None:
    greedy = PolicyModel("greedy", [suite], seed=0)
    for t in by_pattern(suite, "write_then_read"):
        s = run(greedy, t)
        assert s.incorrect_fan_out_rate is not None and s.incorrect_fan_out_rate > 0, t.id
        assert s.classes["premature"] >= 1, t.id


def test_every_call_on_a_no_tool_task_is_redundant(suite: Suite) -> None:
    redundant = PolicyModel("redundant", [suite], seed=0)
    for t in by_pattern(suite, "no_tool"):
        assert not t.nodes, t.id
        gt = resolve(t, 0)
        s = run(redundant, t)
        assert s.success and s.redundant_calls == s.n_calls, t.id
        # A model that reaches for every exposed tool (twice, to hit both redundant classes).
        calls = [(tool.name, placeholder_args(t, tool.name)) for tool in t.tools]
        s = run(ScriptModel([calls, calls[:1]], "; ".join(gt.answer_contains)), t)
        assert s.n_calls == len(t.tools) + 1 and s.redundant_calls == s.n_calls, t.id
        assert s.classes["extraneous"] == len(t.tools) and s.classes["duplicate"] == 1, t.id
        assert s.redundant_rate == 1.0 and s.ideal_turns == 1, t.id


def test_conditional_branches_occur_both_ways_and_an_inactive_call_is_redundant(suite: Suite) -> None:
    """A call in an inactive branch is redundant; if it is a write that took effect, the user did
    not ask for it and the episode fails (DESIGN section 4, success)."""
    active = inactive = 0
    checked = writes = 0
    for seed in (0, 1):
        for t in by_pattern(suite, "conditional"):
            gated = [n.id for n in t.nodes if n.spec.when]
            assert gated, t.id
            gt = resolve(t, seed)
            active += sum(v in gt.nodes for v in gated)
            off = [v for v in gated if v in gt.inactive]
            inactive += len(off)
            if not off or seed:
                continue
            # Oracle's batches, then the inactive branch called anyway on the last turn.
            node = t.node_by_id[off[0]]
            extra = (node.tool, node.args_fn(gt.outputs))
            levels = [[(gt.nodes[v].tool, gt.nodes[v].args) for v in lvl] for lvl in gt.oracle_levels()]
            s = run(ScriptModel([*levels[:-1], [*levels[-1], extra]], _oracle_answer(gt)), t)
            write = t.tool_by_name[node.tool].write
            assert s.success is not write, t.id
            assert s.unauthorised_writes == int(write), t.id
            assert s.redundant_calls == 1 and s.n_calls == len(gt.nodes) + 1, t.id
            checked += 1
            writes += write
    assert active > 0 and inactive > 0
    assert checked >= 3 and 0 < writes < checked


def _oracle_answer(gt: GroundTruth) -> str:
    return " ; ".join(gt.answer_contains + [g[0] for g in gt.answer_any])
