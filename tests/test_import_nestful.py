"""NESTFUL import: the v1 files in ../shared/data (not copied into the project) and a v2 JSONL sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.fixtures import load_suite
from evals.groundtruth import resolve
from evals.importers.base import import_suite
from evals.importers.common import SourceError
from evals.validate import validate_suite

NESTFUL = Path(__file__).parents[2] / "shared" / "data" / "nestful_v1"
needs_data = pytest.mark.skipif(
    not (NESTFUL / "executable-data.json").exists(), reason=f"NESTFUL v1 data not found at {NESTFUL}"
)


def import_nestful(source: Path, out: Path):
    return import_suite("nestful", out, source=str(source))


@pytest.fixture(scope="module")
def v1_suite(tmp_path_factory):
    out = tmp_path_factory.mktemp("nestful") / "nestful"
    report = import_nestful(NESTFUL, out)
    return report, out


@needs_data
def test_v1_counts_and_skips(v1_suite):
    report, _ = v1_suite
    assert dict(report.counts) == {"executable": 85, "non-executable-glaive": 159, "non-executable-sgd": 46}
    assert len(report.skipped) == 10
    assert all(s.reason.endswith("has no spec") for s in report.skipped)
    assert {s.entry for s in report.skipped} >= {"non-executable-glaive_4", "non-executable-glaive_81"}


@needs_data
def test_v1_executable_validates(tmp_path):
    out = tmp_path / "exe"
    import_nestful(NESTFUL / "executable-data.json", out)
    suite = load_suite(out)
    assert len(suite.tasks) == 85
    assert validate_suite(suite) == []


@needs_data
def test_references_become_dependencies(v1_suite):
    _, out = v1_suite
    suite = load_suite(out)
    t = suite.by_id["executable_0"]  # two airports and a location feed a flight and a hotel search
    assert {n.id: n.deps for n in t.nodes} == {
        "var1": (),
        "var2": (),
        "var3": ("var1", "var2"),
        "var4": (),
        "var5": ("var4",),
    }
    gt = resolve(t, 0)
    assert gt.oracle_levels() == [["var1", "var2", "var4"], ["var3", "var5"]]
    assert gt.nodes["var3"].args["originSkyId"] == gt.outputs["var1"]["skyId"]
    # `5 * $var1.Exchange Rate$` into a string parameter: NESTFUL's text substitution, a number inside
    t14 = resolve(suite.by_id["executable_14"], 0)
    rate = t14.outputs["var1"]["Exchange Rate"]
    assert isinstance(rate, int) and t14.nodes["var2"].args == {"numbers": f"5 * {rate}"}
    # the answer must report what NESTFUL's var_result names
    assert t14.answer_any == [[str(rate)], [str(t14.outputs["var2"]["answer"])]]


@needs_data
def test_data_repairs_are_reported(v1_suite):
    report, out = v1_suite
    notes = {(n.entry, n.reason) for n in report.notes}
    assert ("executable_21", "repaired malformed reference 'var1.product_id$'") in notes
    assert any(e == "non-executable-glaive_45" and "label var3 reused" in r for e, r in notes)
    suite = load_suite(out)
    reused = suite.by_id["non-executable-glaive_45"]
    assert [n.id for n in reused.nodes] == ["var1", "var2", "var3", "var3_2"]


V2 = [
    {
        "sample_id": "s1",
        "input": "Find the user bob and list his two latest orders.",
        "output": [
            {"name": "find_user", "label": "$var_1", "arguments": {"name": "bob"}},
            {"name": "list_orders", "label": "$var_2", "arguments": {"user_id": "$var_1.id$", "limit": 2}},
            {"name": "get_order", "label": "$var_3", "arguments": {"order_id": "$var_2.orders[0].id$"}},
        ],
        "tools": [
            {
                "name": "find_user",
                "description": "Find a user.",
                "parameters": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                    "required": ["name"],
                },
            },
            {
                "name": "list_orders",
                "description": "Orders.",
                "parameters": {
                    "type": "object",
                    "properties": {"user_id": {"type": "integer"}, "limit": {"type": "integer"}},
                    "required": ["user_id"],
                },
            },
            {
                "name": "get_order",
                "description": "One order.",
                "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
            },
        ],
        "gold_answer": "whatever",
    },
    {
        "sample_id": "s2",
        "input": "Broken.",
        "output": [{"name": "find_user", "label": "$var_1", "arguments": {"name": "$var_9.x$"}}],
        "tools": [],
    },
    {"sample_id": "s3", "output": []},
]


def test_v2_jsonl(tmp_path):
    src = tmp_path / "nestful_v2.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in V2))
    report = import_nestful(src, tmp_path / "out")
    assert dict(report.counts) == {"nestful_v2": 1}
    reasons = {s.entry: s.reason for s in report.skipped}
    assert reasons["s2"] == "tool 'find_user' has no spec"
    assert reasons["s3"].startswith("malformed record: input")
    suite = load_suite(tmp_path / "out")
    assert validate_suite(suite) == []
    gt = resolve(suite.by_id["s1"], 0)
    assert isinstance(gt.outputs["var_1"]["id"], int)  # typed by the parameter that reads it
    assert gt.nodes["var_3"].args == {"order_id": gt.outputs["var_2"]["orders"][0]["id"]}
    assert gt.oracle_levels() == [["var_1"], ["var_2"], ["var_3"]]


def test_bad_sources(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        import_nestful(tmp_path / "missing", tmp_path / "o")
    (tmp_path / "x-data.json").write_text("[]")
    with pytest.raises(SourceError, match="x-spec.json are not beside it"):
        import_nestful(tmp_path / "x-data.json", tmp_path / "o")
    deep = tmp_path / "deep.jsonl"  # nested past the json module's recursion: bad data, not a traceback
    deep.write_text("[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(SourceError):
        import_nestful(deep, tmp_path / "o")


# -- regression tests, each from a minimal record in NESTFUL's shape --------------------------------
def math_tool(name: str, desc: str, arity: int = 2) -> dict:
    return {
        "name": name,
        "description": desc,
        "parameters": {f"arg_{i}": {"description": "a number", "type": "int or float"} for i in range(arity)},
        "output_parameter": {"result": {"description": "the result", "type": "int or float"}},
    }


CANDIDATES = [
    math_tool("add", "Add two numbers"),
    math_tool("subtract", "Subtract arg_1 from arg_0"),
    math_tool("multiply", "Multiply two numbers"),
    math_tool("divide", "Divide arg_0 by arg_1"),
    math_tool("inverse", "The reciprocal", 1),
    math_tool("power", "arg_0 to the power arg_1"),
    {
        "name": "mean",
        "description": "Mean of a list",
        "parameters": {"arg_0": {"description": "numbers", "type": "list of float"}},
        "output_parameter": {"result": {"description": "the mean", "type": "float"}},
    },
]


def v2_sample(sid: str, gold: str) -> dict:
    """The hub's shape: `tools`, `output` and `gold_answer` as text."""
    output = [
        {"name": "multiply", "label": "$var_1", "arguments": {"arg_0": 150, "arg_1": 2}},
        {"name": "subtract", "label": "$var_2", "arguments": {"arg_0": 430, "arg_1": "$var_1.result$"}},
        {"name": "var_result", "arguments": {"result": "$var_2.result$"}},
    ]
    return {
        "sample_id": sid,
        "input": f"A shop had 430 dollars and bought 150 pens at 2 dollars each ({sid}). How much is left?",
        "tools": json.dumps(CANDIDATES),
        "output": json.dumps(output),
        "gold_answer": gold,
    }


def test_v2_types_compute_and_gold_answer(tmp_path):
    """`multiply(150, 2)` used to return "result_6bce46" (the "int or float" type was read as a
    string), which fed `subtract(430, "result_6bce46")`; gold_answer was ignored and the answer check
    was a random token. The known arithmetic tools now compute, and the answer is gold_answer."""
    src = tmp_path / "nestful_v2.jsonl"
    src.write_text(json.dumps(v2_sample("a", "130.0")) + "\n")
    report = import_nestful(src, tmp_path / "out")
    assert report.total == 1 and report.notes == []
    suite = load_suite(tmp_path / "out")
    assert validate_suite(suite) == []
    t = suite.by_id["a"]
    assert suite.registry["multiply"].parameters["properties"]["arg_0"]["type"] == "number"
    assert suite.registry["mean"].parameters["properties"]["arg_0"] == {
        "type": "array",
        "description": "numbers",
        "items": {"type": "number"},
    }
    gt = resolve(t, 0)
    assert gt.outputs == {"var_1": {"result": 300}, "var_2": {"result": 130}}
    assert gt.answer_any == [["130"]]
    # every candidate is exposed; the unused ones are distractors, and they compute too
    assert [x.name for x in t.tools] == ["multiply", "subtract", "add", "divide", "inverse", "power", "mean"]
    from mock_tools import EpisodeState, ToolContext, World

    divide = t.tool_by_name["divide"]
    ctx = ToolContext(World(0), EpisodeState())
    assert divide.invoke({"arg_0": 7, "arg_1": 2}, ctx) == {"result": 3.5}
    assert divide.invoke({"arg_0": 7, "arg_1": 0}, ctx)["error"]["code"] == "invalid_arguments"


def test_v2_gold_answer_that_the_tools_do_not_reproduce_is_a_note(tmp_path):
    src = tmp_path / "nestful_v2.jsonl"
    src.write_text(json.dumps(v2_sample("b", "131")) + "\n")
    report = import_nestful(src, tmp_path / "out")
    assert [n.reason for n in report.notes] == [
        "gold_answer 131 is not what the imported tools compute (130); the answer checks the computed result"
    ]


SPEC = [
    {
        "name": "Dentist.FindProvider",
        "description": "Find a dentist",
        "arguments": {"city": {"description": "City", "required": True}},
        "output_parameters": {
            "dentist_name": {"description": "Name"},
            "offers_cosmetic_services": {"description": "flag", "possible_values": ["True", "False"]},
        },
    },
    {
        "name": "Dentist.Book",
        "description": "Book",
        "arguments": {
            "dentist_name": {"description": "Name", "required": True},
            "date": {"description": "Date", "required": True},
        },
        "output_parameters": {"date": {"description": "Date"}, "confirmed": {"type": "Boolean"}},
    },
    {
        "name": "calculate_pace",
        "description": "Running pace",
        "arguments": {"km": {"type": "number", "required": True}},
        "output_parameters": {"pace": {"type": "number"}},
    },
    {
        "name": "bmi_advice",
        "description": "Advice for a BMI",
        "arguments": {"bmi": {"type": "number", "required": True}},
        "output_parameters": {"advice": {"type": "string"}},
    },
]


def v1_source(tmp_path: Path, samples: list[dict]) -> Path:
    (tmp_path / "x-data.json").write_text(json.dumps(samples))
    (tmp_path / "x-spec.json").write_text(json.dumps(SPEC))
    return tmp_path / "x-data.json"


def test_v1_answer_values_only_a_tool_gives(tmp_path):
    """non-executable-sgd_34's shape: the check accepted any field of the last call, so a value the
    prompt holds or a boolean passed. Only values the model must get from a tool count now; when
    var_result names nothing usable the last call's output supplies them."""
    sample = {
        "input": "Find a dentist in New York and book one for 2024-03-10.",
        "output": [
            {"name": "Dentist.FindProvider", "arguments": {"city": "New York"}, "label": "var1"},
            {
                "name": "Dentist.Book",
                "arguments": {"dentist_name": "$var1.dentist_name$", "date": "2024-03-10"},
                "label": "var2",
            },
            {"name": "var_result", "arguments": {"flag": "$var1.offers_cosmetic_services$"}},
        ],
    }
    import_nestful(v1_source(tmp_path, [sample]), tmp_path / "out")
    t = load_suite(tmp_path / "out").by_id["x_0"]
    gt = resolve(t, 0)
    assert gt.outputs["var1"]["offers_cosmetic_services"] in ("True", "False")  # a value the spec allows
    assert t.spec.answer.contains_any == [['{{ var2["date"] }}']]  # `confirmed` is a boolean: left out
    assert gt.answer_any[0][0].startswith("date_")


def test_v1_reference_to_an_undeclared_output_is_a_note(tmp_path):
    """non-executable-glaive_42's shape: `$var1.BMI$` read from calculate_pace, which declares only
    `pace`. The field is still synthesized so the reference resolves, and the import says so."""
    sample = {
        "input": "I ran 10 km; what does my BMI say?",
        "output": [
            {"name": "calculate_pace", "arguments": {"km": 10}, "label": "var1"},
            {"name": "bmi_advice", "arguments": {"bmi": "$var1.BMI$"}, "label": "var2"},
        ],
    }
    report = import_nestful(v1_source(tmp_path, [sample]), tmp_path / "out")
    assert [n.reason for n in report.notes] == [
        "reads 'BMI' of var1 (calculate_pace), whose spec declares only pace: the field is added to its response"
    ]
    gt = resolve(load_suite(tmp_path / "out").by_id["x_0"], 0)
    assert gt.nodes["var2"].args == {"bmi": gt.outputs["var1"]["BMI"]}


@needs_data
def test_v1_answer_checks_all_check_something(v1_suite):
    from evals.answer_lint import answer_problem

    _, out = v1_suite
    suite = load_suite(out)
    for t in suite.tasks:
        gt = resolve(t, 0)
        assert answer_problem(t.prompt, gt.answer_contains, gt.answer_any) is None, t.id
        if t.spec.answer is None:
            assert "calls_only" in t.spec.tags


def test_a_jsonl_source_that_is_not_utf8_is_one_line(tmp_path):
    from evals.importers.common import SourceError

    f = tmp_path / "nestful.jsonl"
    f.write_bytes(b'{"sample_id": "a", "input": "\xc3"}\n')
    with pytest.raises(SourceError, match=r"nestful.jsonl: not UTF-8 text \(byte 0xc3"):
        import_suite("nestful", tmp_path / "o", source=str(f))
