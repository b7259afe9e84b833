"""The source benchmarks' verdicts on Fanout episodes: BFCL's valid/invalid against verdicts written
down from BFCL's `ast_checker` rules, and TaskBench's node/edge F1 on records with known scores."""

from __future__ import annotations

import asyncio
import json

import pytest

from evals.fixtures import load_suite
from evals.groundtruth import resolve
from evals.importers.base import import_suite
from evals.importers.verdicts import ToolGraph, bfcl_valid, edge_f1, f1, node_f1, taskbench_graph
from evals.models.base import Model, ModelRequest, ModelResponse, ToolCall
from evals.models.policies import PolicyModel
from evals.runtime import run_episode
from evals.scoring import score
from evals.settings import RuntimeSettings

WEATHER = {
    "name": "weather.get",
    "description": "Current weather.",
    "parameters": {
        "type": "dict",
        "properties": {
            "city": {"type": "string", "description": "City"},
            "unit": {"type": "string", "description": "Unit", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
    },
}
AREA = {
    "name": "circle_area",
    "description": "Area of a circle.",
    "parameters": {
        "type": "dict",
        "properties": {"radius": {"type": "float", "description": "Radius"}},
        "required": ["radius"],
    },
}
STOCK = {
    "name": "get_stock_price",
    "description": "Closing price.",
    "parameters": {
        "type": "dict",
        "properties": {"company": {"type": "string"}, "date": {"type": "string"}},
        "required": ["company", "date"],
    },
}
COUNT = {
    "name": "count_items",
    "description": "Count.",
    "parameters": {
        "type": "dict",
        "properties": {"n": {"type": "integer"}, "region": {"type": "string"}},
        "required": ["n", "region"],
    },
}
ENTRIES = [
    (
        "parallel_0",
        "Weather in Boston and in Paris?",
        [WEATHER],
        [
            {"weather.get": {"city": ["Boston, MA", "Boston"], "unit": ["", "fahrenheit"]}},
            {"weather.get": {"city": ["Paris"], "unit": ["", "fahrenheit"]}},
        ],
    ),
    (
        "parallel_1",
        "Areas of circles of radius 2 and 3.5?",
        [AREA],
        [{"circle_area": {"radius": [2.0]}}, {"circle_area": {"radius": [3.5]}}],
    ),
    (
        "parallel_178",
        "Prices of Microsoft and Apple on 2022-01-01?",
        [STOCK],
        [
            {"get_stock_price": {"company": ["Microsoft", "Apple"], "date": ["2022-01-01"]}},
            {"get_stock_price": {"company": ["Apple"], "date": ["2022-01-01"]}},
        ],
    ),
    (
        "parallel_88",
        "Count 3 items in the EU and 4 anywhere.",
        [COUNT],
        [
            {"count_items": {"n": [3], "region": ["EU"]}},
            {"count_items": {"n": [4], "region": [""]}},
        ],
    ),
]

W, A, S, C = "weather.get", "circle_area", "get_stock_price", "count_items"
# (entry, the model's responses (a list of call batches), BFCL's verdict by its ast_checker rules, why)
RECORDED = [
    (
        "parallel_0",
        [[(W, {"city": "Boston"}), (W, {"city": "Paris"})]],
        True,
        'both calls, unit omitted ("")',
    ),
    (
        "parallel_0",
        [[(W, {"city": "Paris", "unit": "fahrenheit"}), (W, {"city": "Boston, MA"})]],
        True,
        "any order",
    ),
    ("parallel_0", [[(W, {"city": "boston,MA"}), (W, {"city": " paris"})]], True, "standardize_string"),
    ("parallel_0", [[(W, {"city": "Boston"})]], False, "wrong count: a call missing"),
    (
        "parallel_0",
        [[(W, {"city": "Boston"}), (W, {"city": "Paris"}), (W, {"city": "Paris"})]],
        False,
        "wrong count",
    ),
    (
        "parallel_0",
        [[(W, {"city": "Boston", "unit": "celsius"}), (W, {"city": "Paris"})]],
        False,
        "value not listed",
    ),
    (
        "parallel_0",
        [[(W, {"city": "Boston", "country": "US"}), (W, {"city": "Paris"})]],
        False,
        "unexpected param",
    ),
    (
        "parallel_0",
        [[(W, {"city": "Boston"})], [(W, {"city": "Paris"})]],
        False,
        "only the first response counts",
    ),
    ("parallel_0", [[(W, {"city": "Boston"}), (W, {"city": "Rome"})]], False, "no answer accepts Rome"),
    ("parallel_1", [[(A, {"radius": 2}), (A, {"radius": 3.5})]], True, "int accepted for a float"),
    ("parallel_1", [[(A, {"radius": 2.0}), (A, {"radius": "3.5"})]], False, "a string is not a float"),
    (
        "parallel_88",
        [[(C, {"n": 3, "region": "EU"}), (C, {"n": 4, "region": ""})]],
        True,
        'required given as ""',
    ),
    ("parallel_88", [[(C, {"n": 3, "region": "EU"}), (C, {"n": 4})]], False, "missing required parameter"),
    (
        "parallel_88",
        [[(C, {"n": 3.0, "region": "EU"}), (C, {"n": 4, "region": ""})]],
        False,
        "a float is not an int",
    ),
    (
        "parallel_178",
        [
            [
                (S, {"company": "Microsoft", "date": "2022-01-01"}),
                (S, {"company": "Apple", "date": "2022-01-01"}),
            ]
        ],
        True,
        "first fit finds it",
    ),  # fmt: skip
]
# BFCL's answer-order first fit gives answer 1 the Apple call, then finds nothing for answer 2 and
# rejects a response with a valid one-to-one assignment; Fanout accepts it (docs/importing.md).
DEVIATIONS = [
    (
        "parallel_178",
        [
            [
                (S, {"company": "Apple", "date": "2022-01-01"}),
                (S, {"company": "Microsoft", "date": "2022-01-01"}),
            ]
        ],
        False,
        "first fit",
    ),  # fmt: skip
]


class Scripted(Model):
    def __init__(self, batches: list[list[tuple[str, dict]]]):
        self.batches = batches

    async def generate(self, request: ModelRequest) -> ModelResponse:
        turn = sum(m.role == "assistant" for m in request.messages)
        if turn >= len(self.batches):
            return ModelResponse(text="done", finish_reason="stop")
        tcs = [
            ToolCall(id=f"c{turn}_{i}", name=n, arguments=json.dumps(a))
            for i, (n, a) in enumerate(self.batches[turn])
        ]
        return ModelResponse(text=None, tool_calls=tcs, finish_reason="tool_calls")


@pytest.fixture(scope="module")
def bfcl_suite(tmp_path_factory):
    data = tmp_path_factory.mktemp("bfcl") / "data"
    (data / "possible_answer").mkdir(parents=True)
    qs = [{"id": e, "question": [[{"role": "user", "content": q}]], "function": f} for e, q, f, _ in ENTRIES]
    ans = [{"id": e, "ground_truth": g} for e, _, _, g in ENTRIES]
    (data / "BFCL_v4_parallel.json").write_text("\n".join(map(json.dumps, qs)))
    (data / "possible_answer" / "BFCL_v4_parallel.json").write_text("\n".join(map(json.dumps, ans)))
    out = data.parent / "suite"
    assert import_suite("bfcl", out, source=str(data), categories="parallel").total == len(ENTRIES)
    return load_suite(out)


def shown(task, name: str) -> str:
    """The name the model calls BFCL's function by (providers take no '.')."""
    return next(t.name for t in task.tools if getattr(t, "shown_name", t.name) == name.replace(".", "_"))


def episode(task, batches):
    model = Scripted([[(shown(task, n), a) for n, a in b] for b in batches])
    trace = asyncio.run(run_episode(model, task, RuntimeSettings()))
    gt = resolve(task, 0)
    score(gt, trace)
    return gt, trace


@pytest.mark.parametrize("entry, batches, verdict, why", RECORDED, ids=[f"{r[0]}:{r[3]}" for r in RECORDED])
def test_bfcl_valid_agrees_with_bfcl_s_checker(bfcl_suite, entry, batches, verdict, why):
    gt, trace = episode(bfcl_suite.by_id[entry], batches)
    assert bfcl_valid(gt, trace) is verdict


@pytest.mark.parametrize("entry, batches, verdict, why", DEVIATIONS)
def test_documented_deviation_from_bfcl(bfcl_suite, entry, batches, verdict, why):
    gt, trace = episode(bfcl_suite.by_id[entry], batches)
    assert bfcl_valid(gt, trace) is (not verdict)


def test_bfcl_valid_of_the_reference_policies(bfcl_suite):
    """The oracle issues every node at turn 1: valid. `lazy` skips one: invalid. Not a BFCL task: None."""
    cfg = RuntimeSettings()
    for policy, expected in (("oracle", True), ("lazy", False), ("redundant", False), ("sequential", False)):
        model = PolicyModel(policy, [bfcl_suite])
        for t in bfcl_suite.tasks:
            trace = asyncio.run(run_episode(model, t, cfg))
            gt = resolve(t, 0)
            score(gt, trace)
            assert bfcl_valid(gt, trace) is expected, (policy, t.id)
    core = load_suite("core")
    t = core.tasks[0]
    trace = asyncio.run(run_episode(PolicyModel("oracle", [core]), t, cfg))
    assert bfcl_valid(resolve(t, 0), trace) is None


# -- TaskBench --------------------------------------------------------------------------------------
def test_f1_is_taskbench_s_pooled_binary_f1():
    # sample 1: gold {a, b, c}, predicted {a, b, d}: TP 2, FN 1, FP 1; sample 2: gold {a}, predicted {a}
    pairs = [(frozenset("abc"), frozenset("abd")), (frozenset("a"), frozenset("a"))]
    assert f1(pairs) == pytest.approx(2 * 3 / (2 * 3 + 1 + 1))
    assert f1([(frozenset(), frozenset())]) is None
    assert f1([(frozenset("a"), frozenset())]) == 0.0


TOOLS = {
    "nodes": [
        {"id": "Video Search", "desc": "Find.", "input-type": ["text"], "output-type": ["video"]},
        {"id": "Video-to-Audio", "desc": "Audio.", "input-type": ["video"], "output-type": ["audio"]},
        {"id": "Video-to-Text", "desc": "Text.", "input-type": ["video"], "output-type": ["text"]},
        {"id": "Text-to-Speech", "desc": "Speak.", "input-type": ["text"], "output-type": ["audio"]},
    ]
}
RECORD = {
    "id": "1",
    "type": "dag",
    "instruction": "Find a video about owls, then get both its audio and its transcript.",
    "task_nodes": [
        {"task": "Video Search", "arguments": ["owls"]},
        {"task": "Video-to-Audio", "arguments": ["<node-0>"]},
        {"task": "Video-to-Text", "arguments": ["<node-0>"]},
    ],
    "task_links": [
        {"source": "Video Search", "target": "Video-to-Audio"},
        {"source": "Video Search", "target": "Video-to-Text"},
    ],
}


@pytest.fixture(scope="module")
def tb_task(tmp_path_factory):
    src = tmp_path_factory.mktemp("tb") / "data_multimedia"
    src.mkdir()
    (src / "tool_desc.json").write_text(json.dumps(TOOLS))
    (src / "data.json").write_text(json.dumps(RECORD))
    out = src.parent / "suite"
    import_suite("taskbench", out, source=str(src))
    suite = load_suite(out)
    return suite, suite.tasks[0]


def test_taskbench_graph_of_the_oracle_is_the_gold_graph(tb_task):
    suite, task = tb_task
    trace = asyncio.run(run_episode(PolicyModel("oracle", [suite]), task, RuntimeSettings()))
    g = taskbench_graph(resolve(task, 0), trace)
    assert g.gold_nodes == {"Video_Search", "Video-to-Audio", "Video-to-Text"}
    assert g.gold_links == {("Video_Search", "Video-to-Audio"), ("Video_Search", "Video-to-Text")}
    assert (g.pred_nodes, g.pred_links) == (g.gold_nodes, g.gold_links)
    assert node_f1([g]) == 1.0 and edge_f1([g]) == 1.0


def test_taskbench_graph_with_a_known_score(tb_task):
    """The model searches and transcribes the video it found, but never extracts the audio; it also
    calls a tool the task does not offer and one nobody knows. Nodes TP 2, FN 1 (F1 4/5); links
    TP 1, FN 1 (F1 2/3). Names outside the tool list count neither way, as in TaskBench."""
    suite, task = tb_task
    gt = resolve(task, 0)
    video = gt.outputs["n0"]["video"]
    batches = [
        [("Video_Search", {"text": "owls"})],
        [("Video-to-Text", {"video": video}), ("Text-to-Speech", {"text": "hoot"}), ("Dance", {})],
    ]
    model = Scripted(batches)
    trace = asyncio.run(run_episode(model, task, RuntimeSettings()))
    g = taskbench_graph(gt, trace)
    assert g.pred_nodes == {"Video_Search", "Video-to-Text"}  # Text-to-Speech is not exposed here
    assert g.pred_links == {("Video_Search", "Video-to-Text")}
    assert node_f1([g]) == pytest.approx(2 * 2 / (2 * 2 + 0 + 1))
    assert edge_f1([g]) == pytest.approx(2 / 3)


def test_ordering_links_follow_the_turns():
    """DailyLife's links are order only: u before v predicts u -> v, the reverse the reversed link."""
    g = ToolGraph(frozenset("ab"), frozenset("ab"), frozenset({("a", "b")}), frozenset({("b", "a")}))
    assert edge_f1([g]) == 0.0


def test_not_a_taskbench_task(tb_task):
    core = load_suite("core")
    t = core.tasks[0]
    trace = asyncio.run(run_episode(PolicyModel("oracle", [core]), t, RuntimeSettings()))
    assert taskbench_graph(resolve(t, 0), trace) is None


def test_registered_suite_metrics_match_the_verdicts(tb_task, bfcl_suite):
    """The summary's bfcl_accuracy and TaskBench F1 (evals/metrics.py) are the verdict functions'
    values: F1 pooled as sklearn pools it, accuracy the share of BFCL-valid episodes."""
    from evals.aggregate import frame, summarize
    from evals.importers.verdicts import edge_f1, node_f1

    cfg = RuntimeSettings()
    suite, task = tb_task
    rows, graphs = [], []
    for policy in ("oracle", "lazy", "greedy"):
        trace = asyncio.run(run_episode(PolicyModel(policy, [suite]), task, cfg))
        gt = resolve(task, 0)
        rows.append({**score(gt, trace).model_dump(), "epoch": len(rows)})
        graphs.append(taskbench_graph(gt, trace))
    s = summarize(frame(rows))
    assert s["taskbench_node_f1"] == pytest.approx(node_f1(graphs))
    assert s["taskbench_edge_f1"] == pytest.approx(edge_f1(graphs))
    assert s["bfcl_accuracy"] is None
    rows = []
    for policy in ("oracle", "lazy"):
        for t in bfcl_suite.tasks:
            trace = asyncio.run(run_episode(PolicyModel(policy, [bfcl_suite]), t, cfg))
            rows.append({**score(resolve(t, 0), trace).model_dump(), "epoch": len(rows)})
    s = summarize(frame(rows))
    assert s["bfcl_accuracy"] == 0.5 and s["taskbench_node_f1"] is None


def import_one(tmp_path, domain: str, tools: dict, record: dict):
    src = tmp_path / domain
    src.mkdir()
    (src / "tool_desc.json").write_text(json.dumps(tools))
    (src / "data.json").write_text(json.dumps(record))
    import_suite("taskbench", tmp_path / "suite", source=str(src))
    suite = load_suite(tmp_path / "suite")
    return suite, suite.tasks[0]


def test_a_link_without_an_argument_is_no_gold_link_in_a_resource_domain(tmp_path):
    """TaskBench's evaluate.py (default `--dependency_type resource`) takes the gold links from the
    `<node-j>` arguments only: a task_link no argument stands behind (imported as an `after` edge,
    which still orders the calls) is neither a gold link nor predicted from the call order."""
    record = {
        "id": "2",
        "type": "chain",
        "instruction": "Find a video about owls and transcribe it; then say 'hoot'.",
        "task_nodes": [
            {"task": "Video Search", "arguments": ["owls"]},
            {"task": "Video-to-Text", "arguments": ["<node-0>"]},
            {"task": "Text-to-Speech", "arguments": ["hoot"]},
        ],
        "task_links": [
            {"source": "Video Search", "target": "Video-to-Text"},
            {"source": "Video-to-Text", "target": "Text-to-Speech"},
        ],
    }
    suite, task = import_one(tmp_path, "data_multimedia", TOOLS, record)
    assert task.node_by_id["n2"].spec.after == ["n1"]
    gt = resolve(task, 0)
    trace = asyncio.run(run_episode(PolicyModel("oracle", [suite]), task, RuntimeSettings()))
    g = taskbench_graph(gt, trace)
    assert g.gold_links == {("Video_Search", "Video-to-Text")}
    assert g.pred_links == g.gold_links and edge_f1([g]) == 1.0
    # speaking first changes nothing TaskBench reads: no argument links the two
    video = gt.outputs["n0"]["video"]
    batches = [
        [("Video_Search", {"text": "owls"}), ("Text-to-Speech", {"text": "hoot"})],
        [("Video-to-Text", {"video": video})],
    ]
    trace = asyncio.run(run_episode(Scripted(batches), task, RuntimeSettings()))
    g = taskbench_graph(gt, trace)
    assert g.pred_links == {("Video_Search", "Video-to-Text")} and edge_f1([g]) == 1.0


DAILY = {
    "nodes": [
        {
            "id": "get_weather",
            "desc": "Weather.",
            "parameters": [{"name": "city", "type": "string", "desc": "c"}],
        },
        {
            "id": "send_email",
            "desc": "Mail.",
            "parameters": [{"name": "content", "type": "string", "desc": "c"}],
        },
    ]
}


def test_dailylife_links_are_its_task_links(tmp_path):
    """DailyLife (`--dependency_type temporal`): evaluate.py reads `task_links` themselves, all of
    them order only; Fanout predicts u -> v when u was called in an earlier turn than v."""
    record = {
        "id": "d2",
        "type": "chain",
        "instruction": "Check the weather in Oslo, then email me 'umbrella'.",
        "task_nodes": [
            {"task": "get_weather", "arguments": [{"name": "city", "value": "Oslo"}]},
            {"task": "send_email", "arguments": [{"name": "content", "value": "umbrella"}]},
        ],
        "task_links": [{"source": "get_weather", "target": "send_email"}],
    }
    suite, task = import_one(tmp_path, "data_dailylifeapis", DAILY, record)
    gt = resolve(task, 0)
    trace = asyncio.run(run_episode(PolicyModel("oracle", [suite]), task, RuntimeSettings()))
    g = taskbench_graph(gt, trace)
    assert g.gold_links == {("get_weather", "send_email")} and g.pred_links == g.gold_links
    both = [[("get_weather", {"city": "Oslo"}), ("send_email", {"content": "umbrella"})]]
    g = taskbench_graph(gt, asyncio.run(run_episode(Scripted(both), task, RuntimeSettings())))
    assert g.pred_links == set() and edge_f1([g]) == 0.0
