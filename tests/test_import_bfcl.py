"""BFCL import from a small wheel written here with the real bfcl-eval layout, and how the scorer
assigns calls where BFCL's first-fit would not."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path

import pytest

from evals.cli import main
from evals.fixtures import build_task, load_suite
from evals.groundtruth import resolve
from evals.importers.bfcl import import_bfcl
from evals.importers.common import ImportError_
from evals.models.base import Model, ModelRequest, ModelResponse, ToolCall
from evals.runtime import run_episode
from evals.schema import TaskSpec
from evals.scoring import score
from evals.validate import validate_suite

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
        "properties": {
            "radius": {"type": "float", "description": "Radius"},
            "dims": {"type": "tuple", "items": {"type": "integer"}, "description": "d"},
        },
        "required": ["radius"],
    },
}
STOCK = {
    "name": "get_stock_price",
    "description": "Closing price.",
    "parameters": {
        "type": "dict",
        "properties": {
            "company": {"type": "string", "description": "c"},
            "date": {"type": "string", "description": "d"},
        },
        "required": ["company", "date"],
    },
}
DRINK = {
    "name": "change_drink",
    "description": "Change a drink.",
    "parameters": {
        "type": "dict",
        "properties": {
            "drink_id": {"type": "string", "description": "id"},
            "prefs": {
                "type": "dict",
                "description": "preferences",
                "properties": {"size": {"type": "string"}, "milk": {"type": "string"}},
            },
        },
        "required": ["drink_id", "prefs"],
    },
}


def q(eid: str, text: str, functions: list[dict]) -> dict:
    return {"id": eid, "question": [[{"role": "user", "content": text}]], "function": functions}


QUESTIONS = {
    "parallel": [
        q("parallel_0", "Weather in Boston and in Paris?", [WEATHER]),
        q("parallel_1", "Areas of circles of radius 2 and 3.5?", [AREA]),
        q("parallel_2", "Two identical draws please.", [AREA]),
        q("parallel_3", "Prices of Microsoft and Apple on 2022-01-01?", [STOCK]),
        q("parallel_4", "Weather in Boston and in Paris?", [WEATHER]),
    ],
    "live_parallel_multiple": [
        q(
            "live_parallel_multiple_0-0-0",
            "Large drink 12 with oat milk, and weather in Oslo.",
            [DRINK, WEATHER],
        ),
        q("live_parallel_multiple_1-1-0", "Broken entry.", [WEATHER]),
    ],
}
ANSWERS = {
    "parallel": [
        {
            "id": "parallel_0",
            "ground_truth": [
                {"weather.get": {"city": ["Boston, MA", "Boston"], "unit": ["", "fahrenheit"]}},
                {"weather.get": {"city": ["Paris"], "unit": ["", "fahrenheit"]}},
            ],
        },
        {
            "id": "parallel_1",
            "ground_truth": [
                {"circle_area": {"radius": [2], "dims": [[1, 2], ""]}},
                {"circle_area": {"radius": [3.5]}},
            ],
        },
        {
            "id": "parallel_2",
            "ground_truth": [{"circle_area": {"radius": [1.0]}}, {"circle_area": {"radius": [1.0]}}],
        },
        # BFCL's data bug shape (parallel_178): the first answer also accepts the second's company.
        {
            "id": "parallel_3",
            "ground_truth": [
                {"get_stock_price": {"company": ["Microsoft", "Apple"], "date": ["2022-01-01"]}},
                {"get_stock_price": {"company": ["Apple"], "date": ["2022-01-01"]}},
            ],
        },
        {
            "id": "parallel_4",
            "ground_truth": [{"weather.get": {"city": ["Boston"]}}, {"weather.get": {"city": ["Paris"]}}],
        },
    ],
    "live_parallel_multiple": [
        {
            "id": "live_parallel_multiple_0-0-0",
            "ground_truth": [
                {"change_drink": {"drink_id": ["12"], "prefs": [{"size": ["large"], "milk": ["oat", ""]}]}},
                {"weather.get": {"city": ["Oslo"], "unit": [""]}},
            ],
        },
        {"id": "live_parallel_multiple_1-1-0", "ground_truth": [{"weather.get": {"town": ["Oslo"]}}]},
    ],
}


def write_wheel(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for cat, recs in QUESTIONS.items():
            z.writestr(f"bfcl_eval/data/BFCL_v4_{cat}.json", "\n".join(json.dumps(r) for r in recs))
            z.writestr(
                f"bfcl_eval/data/possible_answer/BFCL_v4_{cat}.json",
                "\n".join(json.dumps(r) for r in ANSWERS[cat]),
            )
        z.writestr("bfcl_eval/data/unused_datasets/question/BFCL_v4_parallel.json", "not json")
        z.writestr("bfcl_eval/__init__.py", "")
    return path


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bfcl")
    wheel = write_wheel(tmp / "bfcl_eval-0.0.0-py3-none-any.whl")
    out = tmp / "bfcl"
    report = import_bfcl(wheel, out, ("parallel", "live_parallel_multiple"))
    return report, out


def test_counts_and_skip_reasons(imported):
    report, _ = imported
    assert dict(report.counts) == {"parallel": 5, "live_parallel_multiple": 1}
    reasons = {s.entry: s.reason for s in report.skipped}
    assert set(reasons) == {"live_parallel_multiple_1-1-0"}
    assert "'town' is not in the schema" in reasons["live_parallel_multiple_1-1-0"]
    assert [n.entry for n in report.notes] == ["parallel_4"]  # same prompt as parallel_0, tagged


def test_imported_suite_validates_and_oracle_succeeds(imported):
    _, out = imported
    suite = load_suite(out)
    assert suite.spec.matching == "bfcl"
    assert validate_suite(suite) == []
    assert suite.by_id["parallel_4"].prompt.endswith("(Request parallel_4.)")


def test_schemas_and_nodes(imported):
    _, out = imported
    suite = load_suite(out)
    area = suite.registry["circle_area"].parameters
    assert area["type"] == "object"
    assert area["properties"]["radius"] == {
        "type": "number",
        "description": "Radius This is a float type value.",
        "format": "float",
    }
    assert area["properties"]["dims"]["type"] == "array"
    assert "weather_get" in suite.registry  # '.' is not allowed in provider tool names
    t = suite.by_id["parallel_1"]
    c1 = t.node_by_id["c1"].spec
    assert c1.args == {"radius": 2.0, "dims": [1, 2]}  # a float parameter's value written as a float
    assert c1.accept == {"dims": [[]]} and c1.omissible == ["dims"]
    drink = suite.by_id["live_parallel_multiple_0-0-0"].node_by_id["c1"].spec
    assert drink.args["prefs"] == {"size": "large", "milk": "oat"}
    assert drink.accept["prefs"] == [{"size": "large"}]
    oslo = suite.by_id["live_parallel_multiple_0-0-0"].node_by_id["c2"].spec
    assert oslo.args == {"city": "Oslo"} and oslo.accept == {"unit": [""]}


class Scripted(Model):
    """Issues the given calls in one response, then answers."""

    def __init__(self, calls: list[tuple[str, dict]]):
        self.calls = calls

    async def generate(self, request: ModelRequest) -> ModelResponse:
        if any(m.role == "assistant" for m in request.messages):
            return ModelResponse(text="done", finish_reason="stop")
        tcs = [ToolCall(id=f"c{i}", name=n, arguments=json.dumps(a)) for i, (n, a) in enumerate(self.calls)]
        return ModelResponse(text=None, tool_calls=tcs, finish_reason="tool_calls")


def stock_calls(task) -> list[tuple[str, dict]]:
    tool = task.nodes[0].tool  # the suite's name for get_stock_price (a built-in mock tool may hold it)
    return [
        (tool, {"company": "Apple", "date": "2022-01-01"}),
        (tool, {"company": "Microsoft", "date": "2022-01-01"}),
    ]


def classes(task, calls):
    trace = asyncio.run(run_episode(Scripted(calls), task))
    sc = score(resolve(task, 0), trace)
    return [c.cls for c in trace.calls], [c.node for c in trace.calls], sc


def test_first_fit_case_in_bfcl_answer_order_is_accepted_by_matching(imported):
    """BFCL's checker takes answer c1 first and gives it the first output it accepts (Apple), then
    finds nothing for c2: it rejects a response that has a valid one-to-one assignment. The scorer
    matches a batch as a whole (DESIGN 4.1), so node order does not matter."""
    _, out = imported
    suite = load_suite(out)
    spec = suite.by_id["parallel_3"].spec.model_copy(deep=True)
    spec.calls.sort(key=lambda n: n.id)  # BFCL's answer order
    task = build_task(
        TaskSpec.model_validate(spec.model_dump()), "<test>", suite.name, suite.registry, "bfcl"
    )
    calls = stock_calls(task)
    cls, nodes, sc = classes(task, calls)
    assert cls == ["correct", "correct"] and sc.required_satisfied == 2
    apple = [i for i, (_, a) in enumerate(calls) if "apple" in str(a).lower()]
    assert [nodes[i] for i in apple] == ["c2"]  # Apple goes to the answer that accepts only Apple


def test_importer_orders_nodes_so_the_valid_assignment_is_found(imported):
    _, out = imported
    task = load_suite(out).by_id["parallel_3"]
    assert [n.id for n in task.nodes] == ["c2", "c1"]  # most specific first
    for calls in (stock_calls(task), stock_calls(task)[::-1]):
        cls, nodes, sc = classes(task, calls)
        assert cls == ["correct", "correct"] and sc.required_satisfied == 2


def test_cli_prints_counts_and_skips(tmp_path, capsys):
    wheel = write_wheel(tmp_path / "b.whl")
    rc = main(
        [
            "tasks",
            "import",
            "bfcl",
            "--source",
            str(wheel),
            "--out",
            str(tmp_path / "s"),
            "--categories",
            "parallel",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "parallel                         5 tasks     0 skipped" in out
    # refusing to overwrite, unknown category, missing source: clear messages, exit 2
    assert main(["tasks", "import", "bfcl", "--source", str(wheel), "--out", str(tmp_path / "s")]) == 2
    assert "pass --force" in capsys.readouterr().err
    assert (
        main(
            [
                "tasks",
                "import",
                "bfcl",
                "--source",
                str(wheel),
                "--out",
                str(tmp_path / "t"),
                "--categories",
                "irrelevance",
            ]
        )
        == 2
    )
    assert "unknown BFCL categories ['irrelevance']" in capsys.readouterr().err
    assert (
        main(
            ["tasks", "import", "bfcl", "--source", str(tmp_path / "nope.whl"), "--out", str(tmp_path / "u")]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_folder_source_and_missing_category(tmp_path):
    data = tmp_path / "data"
    (data / "possible_answer").mkdir(parents=True)
    (data / "BFCL_v4_parallel.json").write_text(json.dumps(QUESTIONS["parallel"][0]))
    (data / "possible_answer" / "BFCL_v4_parallel.json").write_text(json.dumps(ANSWERS["parallel"][0]))
    report = import_bfcl(data, tmp_path / "out", ("parallel",))
    assert report.total == 1
    with pytest.raises(ImportError_, match="no data for category 'simple'"):
        import_bfcl(data, tmp_path / "out2", ("simple",))


def test_one_call_expected_twice_is_kept_and_each_copy_satisfies_one_node(imported):
    """BFCL's parallel_158 asks for two draws from one distribution: two identical expected calls.
    Both copies are correct (each satisfies one node); a third copy is a duplicate."""
    _, out = imported
    suite = load_suite(out)
    assert suite.spec.allow_identical_calls
    task = suite.by_id["parallel_2"]
    (n1, a1), (n2, a2) = [(n.tool, n.spec.args) for n in task.nodes]
    assert (n1, a1) == (n2, a2)
    cls, nodes, sc = classes(task, [(n1, a1), (n1, a1)])
    assert cls == ["correct", "correct"] and sorted(nodes) == ["c1", "c2"] and sc.success
    cls, _, sc = classes(task, [(n1, a1), (n1, a1), (n1, a1)])
    assert cls == ["correct", "correct", "duplicate"] and sc.success
    cls, _, sc = classes(task, [(n1, a1)])
    assert not sc.success and sc.required_satisfied == 1
