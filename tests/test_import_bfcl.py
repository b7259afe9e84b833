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
from evals.importers.base import import_suite
from evals.importers.common import SourceError
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
    report = import_suite("bfcl", out, source=str(wheel), categories=("parallel", "live_parallel_multiple"))
    return report, out


def test_counts_and_skip_reasons(imported):
    report, _ = imported
    assert dict(report.records) == {"parallel": 5, "live_parallel_multiple": 2}
    assert dict(report.counts) == {"parallel": 4, "live_parallel_multiple": 1}
    reasons = {s.entry: s.reason for s in report.skipped}
    assert set(reasons) == {"live_parallel_multiple_1-1-0", "parallel_4"}
    assert "'town' is not in the schema" in reasons["live_parallel_multiple_1-1-0"]
    assert reasons["parallel_4"].startswith("same prompt as parallel_0")
    assert report.notes == []


def test_imported_suite_validates_and_oracle_succeeds(imported):
    _, out = imported
    suite = load_suite(out)
    assert suite.spec.matching == "bfcl"
    assert validate_suite(suite) == []


def test_prompts_are_bfcl_s_own(imported):
    """A duplicate prompt is never reworded to make it unique (live_parallel_14-10-0 used to get
    "(Request live_parallel_14-10-0.)" appended): the later entry is skipped with the first's id."""
    _, out = imported
    suite = load_suite(out)
    assert "parallel_4" not in suite.by_id
    for t in suite.tasks:
        q = next(q for qs in QUESTIONS.values() for q in qs if q["id"] == t.id)
        assert t.prompt == q["question"][0][0]["content"]


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
    # `""` among the answers: BFCL's item type check passes anything, so floats equal to the ints too
    assert c1.accept == {"dims": [[1.0, 2.0], []]} and c1.omissible == ["dims"]
    drink = suite.by_id["live_parallel_multiple_0-0-0"].node_by_id["c1"].spec
    assert drink.args["prefs"] == {"size": "large", "milk": "oat"}
    assert drink.accept["prefs"] == [{"size": "large"}, {"size": "large", "milk": ""}]  # "" = absent or ""
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
    assert "parallel                         5 records     4 tasks     1 skipped" in out
    assert "skipped parallel/parallel_4: same prompt as parallel_0" in out
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
    report = import_suite("bfcl", tmp_path / "out", source=str(data), categories="parallel")
    assert report.total == 1
    with pytest.raises(SourceError, match="no data for category 'simple'"):
        import_suite("bfcl", tmp_path / "out2", source=str(data), categories=("simple",))


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


# -- regression tests, each from a minimal record in BFCL's shape ----------------------------------
def import_entries(tmp_path: Path, cat: str, entries: list[tuple[dict, dict]]):
    data = tmp_path / "data"
    (data / "possible_answer").mkdir(parents=True)
    (data / f"BFCL_v4_{cat}.json").write_text("\n".join(json.dumps(q) for q, _ in entries))
    (data / "possible_answer" / f"BFCL_v4_{cat}.json").write_text(
        "\n".join(json.dumps(a) for _, a in entries)
    )
    out = tmp_path / "suite"
    report = import_suite("bfcl", out, source=str(data), categories=(cat,))
    return report, load_suite(out)


LOOKUP = {
    "name": "lookup_company",
    "description": "Company facts.",
    "parameters": {
        "type": "dict",
        "properties": {
            "company": {"type": "string", "description": "name"},
            "region": {"type": "string", "description": "region"},
        },
        "required": ["company", "region"],
    },
}


def test_empty_answer_of_a_required_parameter_is_not_omissible(tmp_path):
    """parallel_88's shape: `""` among the answers of a schema-required parameter. BFCL's checker
    rejects a call without a required parameter before reading the answers, and so does the table
    tool; the matcher must agree (it used to score the call `correct` on a node it never satisfied).
    Giving the empty string is what BFCL accepts."""
    q = {
        "id": "parallel_88",
        "question": [[{"role": "user", "content": "Facts on Acme and Initech."}]],
        "function": [LOOKUP],
    }
    a = {
        "id": "parallel_88",
        "ground_truth": [
            {"lookup_company": {"company": ["Acme"], "region": ["", "EU"]}},
            {"lookup_company": {"company": ["Initech"], "region": [""]}},
        ],
    }
    report, suite = import_entries(tmp_path, "parallel", [(q, a)])
    assert report.total == 1
    task = suite.by_id["parallel_88"]
    c1, c2 = (task.node_by_id[n].spec for n in ("c1", "c2"))
    assert (
        c1.args == {"company": "Acme", "region": "EU"} and c1.accept == {"region": [""]} and not c1.omissible
    )
    assert c2.args == {"company": "Initech", "region": ""} and not c2.omissible
    assert validate_suite(suite) == []
    tool = task.nodes[0].tool
    cls, _, sc = classes(task, [(tool, {"company": "Acme"}), (tool, {"company": "Initech"})])
    assert cls == ["wrong_args", "wrong_args"] and sc.required_satisfied == 0  # omitted: BFCL rejects too
    cls, _, sc = classes(
        task, [(tool, {"company": "Acme", "region": ""}), (tool, {"company": "Initech", "region": ""})]
    )
    assert cls == ["correct", "correct"] and sc.success  # "" given: BFCL accepts, the tool answers


def test_required_parameter_bfcl_can_never_accept_is_skipped(tmp_path):
    fn = {
        "name": "set_level",
        "description": "Set a level.",
        "parameters": {
            "type": "dict",
            "properties": {"level": {"type": "integer", "description": "l"}},
            "required": ["level"],
        },
    }
    q = {"id": "parallel_9", "question": [[{"role": "user", "content": "Set it."}]], "function": [fn]}
    a = {"id": "parallel_9", "ground_truth": [{"set_level": {"level": [""]}}]}
    report, _ = import_entries(tmp_path, "parallel", [(q, a)])
    assert report.total == 0
    assert "required parameter 'level' of set_level has only \"\"" in report.skipped[0].reason


def test_variable_answers_follow_bfcl(tmp_path):
    """BFCL's "variable" case: a string answer for a non-string parameter is compared with the
    answers' type, so `""` among them is accepted for a boolean (answers `["", "True"]`) and the
    value must be the string, never the boolean or number it names."""
    fn = {
        "name": "plot_sales",
        "description": "Plot.",
        "parameters": {
            "type": "dict",
            "properties": {
                "y": {"type": "array", "items": {"type": "float"}, "description": "values"},
                "log": {"type": "boolean", "description": "log scale"},
                "n": {"type": "integer", "description": "points"},
            },
            "required": ["y"],
        },
    }
    q = {
        "id": "parallel_7",
        "question": [[{"role": "user", "content": "Plot the future sales."}]],
        "function": [fn],
    }
    a = {
        "id": "parallel_7",
        "ground_truth": [{"plot_sales": {"y": ["DATA['FUTURE_SALES']"], "log": ["", "True"], "n": ["", 5]}}],
    }
    _, suite = import_entries(tmp_path, "parallel", [(q, a)])
    task = suite.by_id["parallel_7"]
    node = task.nodes[0].spec
    assert node.args == {"y": "DATA['FUTURE_SALES']", "log": "True", "n": 5}
    assert node.accept == {"log": [""]}  # "" passes BFCL's check for string-typed answers; not for n
    assert sorted(node.omissible) == ["log", "n"]
    tool = task.nodes[0].tool
    ok = [(tool, {"y": "DATA['FUTURE_SALES']", "log": ""})]
    assert classes(task, ok)[0] == ["correct"]
    for bad in (
        {"y": ["DATA"], "log": ""},
        {"y": "DATA['FUTURE_SALES']", "log": True},
        {"y": "DATA['FUTURE_SALES']", "n": ""},
    ):
        assert classes(task, [(tool, bad)])[0] == ["wrong_args"], bad


def test_each_task_shows_bfcl_s_own_names(tmp_path):
    """BFCL reuses a name with different specs across entries (103 of 742 tools), and some names are
    Fanout built-ins: the suite keys them `calculate_bmi_v2`, `get_stock_price_v2`, but each task
    shows (and scores) the name BFCL shows (97 tasks used to see a suffixed name)."""

    def bmi(desc: str) -> dict:
        props = {"weight": {"type": "integer", "description": desc}, "height": {"type": "integer"}}
        return {
            "name": "calculate_bmi",
            "description": desc,
            "parameters": {"type": "dict", "properties": props, "required": ["weight", "height"]},
        }

    entries = []
    for i, desc in enumerate(["BMI.", "Body mass index."]):
        q = {
            "id": f"parallel_{i}",
            "question": [[{"role": "user", "content": f"BMI of 70/175 and 80/180, take {i}?"}]],
            "function": [bmi(desc), STOCK],
        }
        a = {
            "id": f"parallel_{i}",
            "ground_truth": [
                {"calculate_bmi": {"weight": [70], "height": [175]}},
                {"calculate_bmi": {"weight": [80], "height": [180]}},
            ],
        }
        entries.append((q, a))
    _, suite = import_entries(tmp_path, "parallel", entries)
    assert {"calculate_bmi", "calculate_bmi_v2", "get_stock_price_v2"} <= set(suite.registry.names())
    for t in suite.tasks:
        assert [s["name"] for s in t.tool_specs] == ["calculate_bmi", "get_stock_price"]
        calls = [
            ("calculate_bmi", {"weight": 70, "height": 175}),
            ("calculate_bmi", {"weight": 80, "height": 180}),
        ]
        cls, _, sc = classes(t, calls)
        assert cls == ["correct", "correct"] and sc.success
    assert validate_suite(suite) == []


CHANGE_DRINK = {
    "name": "ChaDri.change_drink",
    "description": "Change a drink order.",
    "parameters": {
        "type": "dict",
        "properties": {
            "drink_id": {"type": "string", "description": "id"},
            "new_preferences": {
                "type": "dict",
                "description": "preferences",
                "properties": {
                    "size": {"type": "string", "enum": ["small", "medium", "large"]},
                    "sweetness_level": {"type": "string", "enum": ["none", "light", "regular", "extra"]},
                    "shots": {"type": "integer"},
                    "special_instructions": {"type": "string"},
                },
            },
        },
        "required": ["drink_id", "new_preferences"],
    },
}


def test_dict_key_with_an_empty_answer_takes_the_empty_string_too(tmp_path):
    """live_parallel_multiple_0-0-0's shape: BFCL's `dict_checker` standardises the model's value and
    looks it up among the key's answers, so a key answered `["", "regular"]` or `[""]` may be left
    out *or* given as `""` (whatever the key's type: dict values have no type check)."""
    q = {
        "id": "live_parallel_multiple_0-0-0",
        "question": [[{"role": "user", "content": "Make drink 123 large, regular sweetness."}]],
        "function": [CHANGE_DRINK],
    }
    a = {
        "id": "live_parallel_multiple_0-0-0",
        "ground_truth": [
            {
                "ChaDri.change_drink": {
                    "drink_id": ["123"],
                    "new_preferences": [
                        {
                            "size": ["large"],
                            "sweetness_level": ["", "regular"],
                            "shots": ["", 2],
                            "special_instructions": [""],
                        }
                    ],
                }
            }
        ],
    }
    _, suite = import_entries(tmp_path, "live_parallel_multiple", [(q, a)])
    task = suite.by_id["live_parallel_multiple_0-0-0"]
    tool = task.nodes[0].tool
    base = {"drink_id": "123"}
    for prefs in (
        {"size": "large"},
        {"size": "large", "sweetness_level": "regular", "shots": 2},
        {"size": "large", "sweetness_level": "", "special_instructions": ""},
        {"size": "LARGE", "sweetness_level": "Regular", "shots": "", "special_instructions": ""},
    ):
        assert classes(task, [(tool, {**base, "new_preferences": prefs})])[0] == ["correct"], prefs
    for prefs in (
        {"size": "large", "sweetness_level": "extra"},
        {"size": "large", "special_instructions": "none"},
        {"size": "", "sweetness_level": "regular"},  # "size" has no "" answer
        {"size": "large", "shots": []},
    ):
        assert classes(task, [(tool, {**base, "new_preferences": prefs})])[0] == ["wrong_args"], prefs


def test_list_of_dicts_reuses_the_dict_expansion(tmp_path):
    fn = {
        "name": "db_query",
        "description": "Query.",
        "parameters": {
            "type": "dict",
            "properties": {
                "conditions": {
                    "type": "array",
                    "description": "c",
                    "items": {
                        "type": "dict",
                        "properties": {"field": {"type": "string"}, "note": {"type": "string"}},
                    },
                }
            },
            "required": ["conditions"],
        },
    }
    q = {
        "id": "simple_python_96",
        "question": [[{"role": "user", "content": "Age over 25."}]],
        "function": [fn],
    }
    a = {
        "id": "simple_python_96",
        "ground_truth": [{"db_query": {"conditions": [[{"field": ["age"], "note": ["", "adults"]}]]}}],
    }
    _, suite = import_entries(tmp_path, "simple", [(q, a)])
    task = suite.by_id["simple_python_96"]
    tool = task.nodes[0].tool
    for conds in ([{"field": "age"}], [{"field": "age", "note": ""}], [{"field": "age", "note": "Adults"}]):
        assert classes(task, [(tool, {"conditions": conds})])[0] == ["correct"], conds
    assert classes(task, [(tool, {"conditions": [{"field": "age", "note": "kids"}]})])[0] == ["wrong_args"]


def test_nested_list_rows_compare_numerically(tmp_path):
    """simple_python_122: `table` is an array of arrays of integers; BFCL type-checks the rows
    (lists) only and compares with `==`, so float cells equal to the answer's integers pass."""
    fn = {
        "name": "chi_squared_test",
        "description": "Chi-squared test.",
        "parameters": {
            "type": "dict",
            "properties": {
                "table": {"type": "array", "items": {"type": "array"}, "description": "2x2 table"},
                "alpha": {"type": "float", "description": "level"},
            },
            "required": ["table"],
        },
    }
    q = {"id": "simple_python_122", "question": [[{"role": "user", "content": "Test [[10,20],[30,40]]."}]]}
    q["function"] = [fn]
    a = {"id": "simple_python_122", "ground_truth": [{"chi_squared_test": {"table": [[[10, 20], [30, 40]]]}}]}
    a["ground_truth"][0]["chi_squared_test"]["alpha"] = [0.05, ""]
    _, suite = import_entries(tmp_path, "simple", [(q, a)])
    task = suite.by_id["simple_python_122"]
    tool = task.nodes[0].tool
    for table in ([[10, 20], [30, 40]], [[10.0, 20.0], [30.0, 40.0]], [[10, 20.0], [30, 40]]):
        assert classes(task, [(tool, {"table": table, "alpha": 0.05})])[0] == ["correct"], table
    for table in ([[10, 20], [40, 30]], [[10.5, 20], [30, 40]], [10, 20, 30, 40]):
        assert classes(task, [(tool, {"table": table})])[0] == ["wrong_args"], table


def test_float_lists_follow_bfcls_item_type_check(tmp_path):
    """BFCL type-checks each item of a list against the schema's item type *or* the type of the
    answer's first item (its "variable" case), then compares with `==`. So a float list answered in
    ints (parallel_multiple_187: `[23, 45, 12]`) takes any mix of ints and floats, while one
    answered in floats (simple_python_13: `[1.0, 3.0]`) takes floats only, and an integer list
    takes ints only."""
    fn = {
        "name": "array_sort",
        "description": "Sort numbers.",
        "parameters": {
            "type": "dict",
            "properties": {
                "list": {"type": "array", "items": {"type": "float"}, "description": "numbers"},
                "interval": {"type": "array", "items": {"type": "float"}, "description": "bounds"},
                "ranks": {"type": "array", "items": {"type": "integer"}, "description": "ranks"},
            },
            "required": ["list"],
        },
    }
    q = {"id": "parallel_multiple_187", "question": [[{"role": "user", "content": "Sort 23, 45, 12."}]]}
    q["function"] = [fn]
    a = {
        "id": "parallel_multiple_187",
        "ground_truth": [
            {"array_sort": {"list": [[23, 45, 12]], "interval": [[1.0, 3.0]], "ranks": [[1, 2]]}},
        ],
    }
    _, suite = import_entries(tmp_path, "parallel_multiple", [(q, a)])
    task = suite.by_id["parallel_multiple_187"]
    tool = task.nodes[0].tool
    good = {"list": [23, 45, 12], "interval": [1.0, 3.0], "ranks": [1, 2]}
    assert classes(task, [(tool, good)])[0] == ["correct"]
    for change in (
        {"list": [23.0, 45, 12]},
        {"list": [23, 45.0, 12.0]},
        {"list": [23.0, 45.0, 12.0]},
    ):
        assert classes(task, [(tool, {**good, **change})])[0] == ["correct"], change
    for change in (
        {"list": [23.0, 45, 13]},
        {"interval": [1, 3.0]},
        {"interval": [1, 3]},
        {"ranks": [1.0, 2]},
        {"ranks": [1.0, 2.0]},
    ):
        assert classes(task, [(tool, {**good, **change})])[0] == ["wrong_args"], change


def test_a_source_that_is_not_utf8_or_a_corrupt_archive_is_one_line(tmp_path, capsys):
    """A byte 0xff in a data file was a UnicodeDecodeError traceback; a bad CRC a BadZipFile one."""
    data = tmp_path / "src" / "data"
    (data / "possible_answer").mkdir(parents=True)
    (data / "BFCL_v4_parallel.json").write_bytes(b'{"id": "parallel_0", "question": "\xff"}\n')
    (data / "possible_answer" / "BFCL_v4_parallel.json").write_text('{"id": "parallel_0"}\n')
    assert (
        main(["tasks", "import", "bfcl", "--source", str(tmp_path / "src"), "--out", str(tmp_path / "o1")])
        == 2
    )
    err = capsys.readouterr().err
    assert "BFCL_v4_parallel.json: not UTF-8 text (byte 0xff" in err and "Traceback" not in err
    wheel = tmp_path / "bfcl_eval-0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_STORED) as z:
        z.writestr("bfcl_eval/data/BFCL_v4_parallel.json", '{"id": "parallel_0"}\n')
        z.writestr("bfcl_eval/data/possible_answer/BFCL_v4_parallel.json", '{"id": "parallel_0"}\n')
    raw = wheel.read_bytes()
    wheel.write_bytes(
        raw.replace(b'{"id": "parallel_0"}', b'{"id": "parallel_X"}', 1)
    )  # CRC no longer matches
    assert main(["tasks", "import", "bfcl", "--source", str(wheel), "--out", str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert "cannot read bfcl_eval/data/" in err and "Bad CRC-32" in err and "Traceback" not in err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()
