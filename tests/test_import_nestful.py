"""NESTFUL import: the v1 files in ../shared/data (not copied into the project) and a v2 JSONL sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.fixtures import load_suite
from evals.groundtruth import resolve
from evals.importers.common import ImportError_
from evals.importers.nestful import import_nestful
from evals.validate import validate_suite

NESTFUL = Path(__file__).parents[2] / "shared" / "data" / "nestful_v1"
needs_data = pytest.mark.skipif(
    not (NESTFUL / "executable-data.json").exists(), reason=f"NESTFUL v1 data not found at {NESTFUL}"
)


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
    with pytest.raises(ImportError_, match="does not exist"):
        import_nestful(tmp_path / "missing", tmp_path / "o")
    (tmp_path / "x-data.json").write_text("[]")
    with pytest.raises(ImportError_, match="x-spec.json are not beside it"):
        import_nestful(tmp_path / "x-data.json", tmp_path / "o")
