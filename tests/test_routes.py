"""Alternative routes (DESIGN 4.2), batch matching (4.1) and unauthorised writes: the worked
examples with exact values, and properties over random graphs with random alternatives."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals.fixtures import FixtureError, Suite, build_task
from evals.groundtruth import GroundTruthError, resolve
from evals.models.base import Model, ModelRequest, ModelResponse, ToolCall
from evals.models.policies import PolicyModel
from evals.runtime import RuntimeConfig, run_episode
from evals.schema import SuiteSpec, TaskSpec
from evals.scoring import Scores, max_matching, score
from evals.trace import CallRecord, Trace, TurnRecord
from mock_tools import default_registry, fixed, table_tool
from mock_tools.table import TableToolSpec

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOKEN = "tok-7"  # what every source returns, so any of them can feed any argument


def tools(names: list[str], writes: tuple[str, ...] = ()) -> list[TableToolSpec]:
    return [
        TableToolSpec(
            name=f"t_{n}",
            description=f"lookup {n}",
            parameters={
                "type": "object",
                "properties": {"key": {"type": "string"}, "src": {"type": "string"}},
                "required": ["key"],
            },
            write=n in writes,
            latency=fixed(0.3),
            default={"value": f"v_{n}", "token": TOKEN},
        )
        for n in names
    ]


def route_suite(tasks: dict[str, dict], writes: tuple[str, ...] = ()) -> Suite:
    """tasks: id -> {"calls": [...node dicts...], "answer": [...node ids read...], "answer_routes": [...]}.
    A node dict: {"id", "src": source node or None, "after": [...], "alt": [source or "prompt"]}."""
    names = sorted({c["id"] for t in tasks.values() for c in t["calls"]})
    specs = tools(names, writes)
    reg = default_registry().extended(table_tool(s) for s in specs)
    built = []
    for tid, t in tasks.items():
        calls = []
        for c in t["calls"]:
            args = {"key": c["id"]}
            if c.get("src"):
                args["src"] = "{{ " + c["src"] + ".token }}"
            node = {"id": c["id"], "tool": f"t_{c['id']}", "args": args, "after": c.get("after", [])}
            alts = [{"src": TOKEN if a == "prompt" else "{{ " + a + ".token }}"} for a in c.get("alt", [])]
            if alts:
                node["alternatives"] = alts
            if c.get("optional"):
                node["optional"] = True
            calls.append(node)
        answer = {"contains": ["{{ " + v + ".value }}" for v in t.get("answer", [])]}
        if t.get("answer_routes"):
            answer["routes"] = t["answer_routes"]
        spec = TaskSpec(
            id=tid,
            pattern="synthetic",
            prompt=f"routes task {tid} (token {TOKEN})",
            tools=[f"t_{c['id']}" for c in t["calls"]],
            calls=calls,
            answer=answer if t.get("answer") else None,
        )
        built.append(build_task(spec, "<test>", "routes", reg, "default"))
    return Suite("routes", Path("."), SuiteSpec(name="routes", tools=specs), built, reg)


def trace_of(suite: Suite, tid: str, batches: list[list[str]], answer: str | None = None) -> Trace:
    """Batches of node ids; `x?` calls x's tool with placeholder arguments."""
    task = suite.by_id[tid]
    gt = resolve(task, 0)
    tr = Trace(task_id=tid, suite="routes", model="hand")
    idx = 0
    for t, batch in enumerate(batches, start=1):
        tr.turns.append(TurnRecord(index=t, n_calls=len(batch), model_latency_s=1.0, batch_s=0.3))
        for pos, item in enumerate(batch):
            nid = item.rstrip("?")
            args = dict(gt.nodes[nid].args)
            if item.endswith("?") and "src" in args:
                args["src"] = "<pending>"
            tr.calls.append(
                CallRecord(
                    index=idx,
                    turn=t,
                    position=pos,
                    name=f"t_{nid}",
                    raw_arguments=json.dumps(args),
                    arguments=args,
                    result={"value": f"v_{nid}"},
                    duration_s=0.3,
                    sample_s=0.3,
                )
            )
            idx += 1
    tr.turns.append(TurnRecord(index=len(batches) + 1, model_latency_s=1.0))
    tr.final_text = answer if answer is not None else " ".join(f"v_{n}" for n in task.node_by_id)
    tr.wall_s = sum(t.model_latency_s + t.batch_s for t in tr.turns)
    return tr


def score_of(suite: Suite, tid: str, batches: list[list[str]], answer: str | None = None) -> Scores:
    gt = resolve(suite.by_id[tid], 0)
    return score(gt, trace_of(suite, tid, batches, answer), RuntimeConfig().latency)


# me -> mgr -> team, and team also straight from me (find_user returns manager_id).
HR = [
    {"id": "me"},
    {"id": "mgr", "src": "me"},
    {"id": "team", "src": "mgr", "alt": ["me"]},
]
SUITE = route_suite(
    {"reads_team": {"calls": HR, "answer": ["team"]}, "reads_both": {"calls": HR, "answer": ["mgr", "team"]}}
)

# (task, batches, turns, ideal, success, recall as (on_time, |P|) or None, incorrect (prem, with deps), bypassed)
WORKED = [
    ("reads_team", [["me"], ["team"]], 3, 3, True, None, (0, 1), 1),
    ("reads_team", [["me"], ["mgr"], ["team"]], 4, 3, True, None, (0, 1), 1),
    ("reads_team", [["me", "team?"], ["team"]], 3, 3, True, None, (1, 1), 1),
    ("reads_both", [["me"], ["mgr", "team"]], 3, 3, True, (2, 2), (0, 2), 0),
    ("reads_both", [["me"], ["mgr"], ["team"]], 4, 3, True, (1, 2), (0, 2), 0),
]


@pytest.mark.parametrize("tid,batches,turns,ideal,success,recall,incorrect,bypassed", WORKED)
def test_design_4_2_worked_examples(tid, batches, turns, ideal, success, recall, incorrect, bypassed):
    s = score_of(SUITE, tid, batches)
    assert (s.turns, s.ideal_turns) == (turns, ideal)
    assert s.success is success
    if recall is None:
        assert s.fan_out_recall is None and s.parallelizable == 0
    else:
        assert (s.on_time, s.parallelizable) == recall
    assert (s.premature_nodes, s.nodes_with_deps) == incorrect
    assert s.bypassed == bypassed
    assert s.classes["correct"] == sum(1 for b in batches for x in b if not x.endswith("?"))


def test_a_call_to_a_bypassed_node_is_correct_not_redundant():
    tr = trace_of(SUITE, "reads_team", [["me"], ["mgr"], ["team"]])
    s = score(resolve(SUITE.by_id["reads_team"], 0), tr, RuntimeConfig().latency)
    assert [c.cls for c in tr.calls] == ["correct"] * 3 and s.redundant_calls == 0


def test_the_oracle_takes_the_shorter_route():
    trace = asyncio.run(
        run_episode(PolicyModel("oracle", [SUITE]), SUITE.by_id["reads_team"], RuntimeConfig())
    )
    assert [[c.name for c in trace.calls if c.turn == t] for t in (1, 2)] == [["t_me"], ["t_team"]]
    gt = resolve(SUITE.by_id["reads_team"], 0)
    assert gt.oracle_levels() == [["me"], ["team"]] and gt.ideal.bypassed == ["mgr"]


def test_the_prompt_is_a_source_too():
    suite = route_suite(
        {
            "b_only": {"calls": [{"id": "a"}, {"id": "b", "src": "a", "alt": ["prompt"]}], "answer": ["b"]},
            "both": {
                "calls": [{"id": "a"}, {"id": "b", "src": "a", "alt": ["prompt"]}],
                "answer": ["a", "b"],
            },
        }
    )
    s = score_of(suite, "b_only", [["b"]])
    assert s.success and s.turns == s.ideal_turns == 2 and s.bypassed == 1
    s = score_of(suite, "both", [["a", "b"]])
    assert s.success and s.turns == s.ideal_turns == 2 and s.classes["correct"] == 2
    assert (s.on_time, s.parallelizable) == (2, 2)  # a and b are independent on the prompt's route


def test_unsatisfied_node_on_no_complete_route_takes_the_first_route():
    s = score_of(SUITE, "reads_team", [["me"]])
    assert not s.success and s.required_total == 2 and s.required_satisfied == 1


def test_answer_routes_bypass_the_nodes_the_answer_would_read():
    """Converting 1 USD once and multiplying gives the amounts the per-price conversions would."""
    calls = [
        {"id": "p1"},
        {"id": "p2"},
        {"id": "rate", "optional": True},
        {"id": "c1", "src": "p1"},
        {"id": "c2", "src": "p2"},
    ]
    suite = route_suite(
        {"fx": {"calls": calls, "answer": ["c1", "c2"], "answer_routes": [["rate", "p1", "p2"]]}}
    )
    gt = resolve(suite.by_id["fx"], 0)
    assert (
        gt.ideal_turns == 2
        and gt.ideal.required == ["p1", "p2", "rate"]
        and gt.ideal.bypassed == ["c1", "c2"]
    )
    s = score_of(suite, "fx", [["p1", "p2", "rate"]])
    assert s.success and s.bypassed == 2 and s.classes["correct"] == 3 and s.turns == 2
    s = score_of(suite, "fx", [["p1", "p2"], ["c1", "c2"]])
    assert s.success and s.bypassed == 0 and (s.on_time, s.parallelizable) == (4, 4)


def test_alternative_must_resolve_to_the_same_value():
    reg = default_registry().extended(table_tool(s) for s in tools(["a", "b", "c"]))
    spec = TaskSpec(
        id="bad",
        pattern="synthetic",
        prompt="x",
        tools=["t_a", "t_b", "t_c"],
        calls=[
            {"id": "a", "tool": "t_a", "args": {"key": "a"}},
            {"id": "b", "tool": "t_b", "args": {"key": "b"}},
            {
                "id": "c",
                "tool": "t_c",
                "args": {"key": "c", "src": "{{ a.token }}"},
                "alternatives": [{"src": "{{ b.value }}"}],
            },
        ],
    )
    with pytest.raises(GroundTruthError, match=r"alternatives\[0\]\.src resolves to \"v_b\", but args.src"):
        resolve(build_task(spec, "<test>", "s", reg, "default"))


@pytest.mark.parametrize(
    "alternatives,message",
    [
        ([{"nope": "{{ a.token }}"}], "'nope' is not an argument of the node"),
        ([{"src": "{{ zz.token }}"}], "reference to unknown node 'zz'"),
        ([{"src": "{{ c.token }}"}], "depends on itself"),
        ([{}], "at least one argument"),
    ],
)
def test_bad_alternatives_name_the_field(alternatives, message):
    reg = default_registry().extended(table_tool(s) for s in tools(["a", "c"]))
    spec = TaskSpec(
        id="bad",
        pattern="synthetic",
        prompt="x",
        tools=["t_a", "t_c"],
        calls=[
            {"id": "a", "tool": "t_a", "args": {"key": "a"}},
            {
                "id": "c",
                "tool": "t_c",
                "args": {"key": "c", "src": "{{ a.token }}"},
                "alternatives": alternatives,
            },
        ],
    )
    with pytest.raises(FixtureError, match=message) as exc:
        build_task(spec, "f.yaml", "s", reg, "default")
    assert "calls[1].alternatives[0]" in str(exc.value)


def test_an_alternative_may_not_close_a_cycle():
    reg = default_registry().extended(table_tool(s) for s in tools(["a", "b"]))
    spec = TaskSpec(
        id="cyc",
        pattern="synthetic",
        prompt="x",
        tools=["t_a", "t_b"],
        calls=[
            {"id": "a", "tool": "t_a", "args": {"key": "a"}, "alternatives": [{"key": "{{ b.value }}"}]},
            {"id": "b", "tool": "t_b", "args": {"key": "b", "src": "{{ a.token }}"}},
        ],
    )
    with pytest.raises(FixtureError, match="dependency cycle"):
        build_task(spec, "f.yaml", "s", reg, "default")


# -- DESIGN 4.1: a batch is matched as a whole ----------------------------------------------------


def test_max_matching_beats_first_fit_and_is_deterministic():
    # call 0 matches both nodes, call 1 only the first: first-fit would strand call 1.
    assert max_matching([0, 1], {0: ["n1", "n2"], 1: ["n1"]}) == {0: "n2", 1: "n1"}
    # first-fit is already maximum: its answer
    assert max_matching([0, 1], {0: ["n1", "n2"], 1: ["n2"]}) == {0: "n1", 1: "n2"}
    # more calls than nodes: the earliest calls that a maximum matching covers
    assert max_matching([0, 1, 2], {0: ["n1"], 1: ["n1"], 2: ["n2"]}) == {0: "n1", 2: "n2"}
    # ties: earlier call, then earlier node
    assert max_matching([0, 1], {0: ["n1", "n2"], 1: ["n1", "n2"]}) == {0: "n1", 1: "n2"}


@given(st.lists(st.lists(st.integers(0, 4), max_size=5, unique=True), max_size=7))
def test_max_matching_is_maximum_and_valid(cand_lists):
    cands = {i: [f"n{x}" for x in sorted(c)] for i, c in enumerate(cand_lists) if c}
    calls = sorted(cands)
    m = max_matching(calls, cands)
    assert len(set(m.values())) == len(m)
    assert all(v in cands[i] for i, v in m.items())
    # brute force: no matching is larger
    best = 0

    def search(k: int, used: frozenset, size: int) -> None:
        nonlocal best
        best = max(best, size)
        if k == len(calls):
            return
        search(k + 1, used, size)
        for v in cands[calls[k]]:
            if v not in used:
                search(k + 1, used | {v}, size + 1)

    search(0, frozenset(), 0)
    assert len(m) == best


def test_an_omitted_argument_two_nodes_accept_does_not_strand_the_other_call():
    """BFCL parallel_96-style: call A omits `unit` (both nodes accept it omitted), call B matches
    only the first node. First-fit gave A the first node and scored B wrong_args."""
    spec = TableToolSpec(
        name="area",
        description="area",
        parameters={
            "type": "object",
            "properties": {"shape": {"type": "string"}, "unit": {"type": "string"}},
        },
        latency=fixed(0.1),
        default={"area": 1},
    )
    reg = default_registry().extended([table_tool(spec)])
    task = build_task(
        TaskSpec(
            id="bfcl_like",
            pattern="independent",
            prompt="two areas",
            tools=["area"],
            calls=[
                {
                    "id": "n1",
                    "tool": "area",
                    "args": {"shape": "square", "unit": "cm"},
                    "omissible": ["unit"],
                },
                {
                    "id": "n2",
                    "tool": "area",
                    "args": {"shape": "square", "unit": "m"},
                    "omissible": ["unit"],
                    "accept": {},
                },
            ],
        ),
        "<test>",
        "s",
        reg,
        "default",
    )

    class Two(Model):
        name = "two"

        async def generate(self, request: ModelRequest) -> ModelResponse:
            if any(m.role == "tool" for m in request.messages):
                return ModelResponse(text="done")
            return ModelResponse(
                tool_calls=[
                    ToolCall("a", "area", json.dumps({"shape": "square"})),
                    ToolCall("b", "area", json.dumps({"shape": "square", "unit": "cm"})),
                ]
            )

    trace = asyncio.run(run_episode(Two(), task, RuntimeConfig()))
    s = score(resolve(task, 0), trace, RuntimeConfig().latency)
    assert [c.cls for c in trace.calls] == ["correct", "correct"]
    assert [c.node for c in trace.calls] == ["n2", "n1"]
    assert s.success


# -- unauthorised writes --------------------------------------------------------------------------

WRITES = route_suite(
    {"book": {"calls": [{"id": "look"}, {"id": "book", "src": "look"}], "answer": ["look"]}}, writes=("book",)
)


@pytest.mark.parametrize(
    "batches,unauthorised,success",
    [
        ([["look"], ["book"]], 0, True),
        ([["look"], ["book", "book"]], 1, False),  # a second booking
        ([["look", "book?"], ["book"]], 1, False),  # a booking on inputs it did not have yet
        ([["look"], ["book?"], ["book"]], 1, False),  # a booking with other arguments
    ],
)
def test_writes_the_user_did_not_ask_for_fail_the_task(batches, unauthorised, success):
    s = score_of(WRITES, "book", batches)
    assert s.unauthorised_writes == unauthorised and s.success is success
    assert s.required_satisfied == s.required_total


def test_a_failed_write_took_no_effect():
    tr = trace_of(WRITES, "book", [["look"], ["book", "book"]])
    tr.calls[2].error = "timeout"
    s = score(resolve(WRITES.by_id["book"], 0), tr, RuntimeConfig().latency)
    assert s.unauthorised_writes == 0 and s.success


# -- properties over random graphs with random alternatives ----------------------------------------


@st.composite
def routed_tasks(draw) -> list[dict]:
    n = draw(st.integers(min_value=1, max_value=7))
    calls = []
    for j in range(n):
        earlier = [f"n{i}" for i in range(j)]
        deps = [u for u in earlier if draw(st.booleans())]
        c: dict = {"id": f"n{j}"}
        if deps:
            c["src"], c["after"] = deps[0], deps[1:]
            others = [u for u in earlier if u != deps[0]] + ["prompt"]
            c["alt"] = draw(st.lists(st.sampled_from(others), max_size=2, unique=True))
        calls.append(c)
    return calls


def _suite(calls: list[dict], answer: list[str] | None = None) -> Suite:
    return route_suite(
        {"g": {"calls": calls, "answer": answer if answer is not None else [c["id"] for c in calls]}}
    )


class RouteOracle(Model):
    """Issues, every turn, each node of a chosen set that is ready by any route and not yet made."""

    name = "route-oracle"

    def __init__(self, suite: Suite, keep: set[str]):
        self.gt = resolve(suite.by_id["g"], 0)
        self.keep = keep
        self.sat: dict[str, int] = {}
        self.turn = 0

    async def generate(self, request: ModelRequest) -> ModelResponse:
        self.turn += 1
        ready = [
            v
            for v in self.gt.graph.topo
            if v in self.keep and v not in self.sat and self.gt.ready_turn(v, self.sat) <= self.turn
        ]
        if not ready:
            return ModelResponse(text=" ".join(f"v_{v}" for v in self.gt.nodes))
        for v in ready:
            self.sat[v] = self.turn
        return ModelResponse(
            tool_calls=[
                ToolCall(f"c{self.turn}_{v}", f"t_{v}", json.dumps(self.gt.nodes[v].args)) for v in ready
            ]
        )


@SETTINGS
@given(routed_tasks(), st.randoms(use_true_random=False))
def test_an_oracle_taking_any_route_is_perfect(calls, rnd):
    suite = _suite(calls, answer=[calls[-1]["id"]])
    gt = resolve(suite.by_id["g"], 0)
    # A random route per node, closed from what must be made: the set of calls that plan makes.
    keep: set[str] = set()
    stack = [*(gt.fixed_seeds if gt.has_routes else gt.required), calls[-1]["id"]]
    while stack:
        v = stack.pop()
        if v not in keep:
            keep.add(v)
            stack.extend(rnd.choice(gt.nodes[v].routes))
    trace = asyncio.run(run_episode(RouteOracle(suite, keep), suite.by_id["g"], RuntimeConfig()))
    s = score(gt, trace, RuntimeConfig().latency)
    assert s.success
    assert s.fan_out_recall in (1.0, None)
    assert s.incorrect_fan_out_rate in (0.0, None)
    assert s.redundant_calls == 0 and s.classes["correct"] == len(keep)


@SETTINGS
@given(routed_tasks())
def test_the_oracle_policy_is_perfect_on_ideal_turns(calls):
    suite = _suite(calls)
    trace = asyncio.run(run_episode(PolicyModel("oracle", [suite]), suite.by_id["g"], RuntimeConfig()))
    s = score(resolve(suite.by_id["g"], 0), trace, RuntimeConfig().latency)
    assert s.success and s.turns == s.ideal_turns and s.redundant_calls == 0
    assert s.fan_out_recall in (1.0, None) and s.incorrect_fan_out_rate in (0.0, None)


@st.composite
def traces(draw, ids: list[str]) -> list[list[str]]:
    return draw(
        st.lists(
            st.lists(st.sampled_from([*ids, *(i + "?" for i in ids)]), min_size=1, max_size=5), max_size=6
        )
    )


@SETTINGS
@given(st.data())
def test_adding_an_alternative_never_lowers_a_score_on_the_same_trace(data):
    calls = data.draw(routed_tasks())
    plain = [{k: v for k, v in c.items() if k != "alt"} for c in calls]
    batches = data.draw(traces([c["id"] for c in calls]))
    before = score_of(_suite(plain), "g", batches)
    after = score_of(_suite(calls), "g", batches)
    assert after.success >= before.success
    assert after.classes["premature"] <= before.classes["premature"]
    assert (
        after.required_total - after.required_satisfied <= before.required_total - before.required_satisfied
    )


@SETTINGS
@given(st.data())
def test_without_alternatives_routes_change_nothing(data):
    """The same trace scores identically whether the scorer takes the route path or not."""
    calls = [{k: v for k, v in c.items() if k != "alt"} for c in data.draw(routed_tasks())]
    batches = data.draw(traces([c["id"] for c in calls]))
    suite = _suite(calls)
    gt = resolve(suite.by_id["g"], 0)
    assert not gt.has_routes
    s1 = score(gt, trace_of(suite, "g", batches), RuntimeConfig().latency)
    gt._init_routes()  # force the route machinery on a task that has a single route per node
    gt.has_routes = True
    s2 = score(gt, trace_of(suite, "g", batches), RuntimeConfig().latency)
    assert s1.model_dump() == s2.model_dump()
