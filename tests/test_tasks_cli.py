"""`fanout tasks` run in-process: outputs and exit codes of list, show, validate, stats, export."""

from __future__ import annotations

import json

import pytest
import yaml

from evals.cli import main


def task(tid: str, pattern: str, prompt: str, calls: list[dict], answer: list[str] | None = None) -> dict:
    """A task over the built-in tools; `calls` are `{id, tool, args}` nodes (in order)."""
    tools = list(dict.fromkeys(c["tool"] for c in calls))
    return {"id": tid, "pattern": pattern, "prompt": prompt, "tools": tools, "calls": calls} | (
        {"answer": {"contains": answer}} if answer else {}
    )


def call(i: str, tool: str, **args: str) -> dict:
    return {"id": i, "tool": tool, "args": args}


ME = call("me", "find_user", email="dev@example.com")
GOOD = [
    task(
        "demo_pair_01",
        "independent",
        "Weather in Lisbon and in Paris, please.",
        [call("a", "get_weather", city="Lisbon"), call("b", "get_weather", city="Paris")],
        ["{{ a.condition }}", "{{ b.temp_c }}"],
    ),
    task(
        "demo_chain_01",
        "chain",
        "I'm dev@example.com. Who is my manager?",
        [ME, call("m", "get_manager", user_id="{{ me.id }}")],
        ["{{ m.name }}"],
    ),
]
GOOD[0]["tools"].append("get_local_time")  # exposed, never needed
BROKEN = [
    task("bad_field_01", "single", "Weather in Lisbon?", [call("a", "get_weather", town="Lisbon")]),
    task(
        "bad_ref_01",
        "chain",
        "Who manages dev?",
        [ME, call("m", "get_manager", user_id="{{ me.identifier }}")],
        ["{{ m.name }}"],
    ),
    task(
        "bad_dup_01",
        "independent",
        "Weather in Rome, twice.",
        [call("a", "get_weather", city="Rome"), call("b", "get_weather", city=" rome ")],
        ["{{ a.condition }}"],
    ),
    task("bad_noanswer_01", "single", "Local time in Oslo?", [call("t", "get_local_time", city="Oslo")]),
]


@pytest.fixture
def good(tmp_path):
    d = tmp_path / "demo"
    d.mkdir()
    (d / "tasks.yaml").write_text(yaml.safe_dump(GOOD, sort_keys=False))
    return d


@pytest.fixture
def broken(tmp_path):
    d = tmp_path / "broken"
    d.mkdir()
    (d / "tasks.yaml").write_text(yaml.safe_dump(BROKEN, sort_keys=False))
    (d / "more.yaml").write_text("- id: bad_tool_01\n  pattern: single\n  prompt: hi\n  tools: [teleport]\n")
    (d / "suite.yaml").write_text("name: broken\nrequire_answer_checks: true\n")
    return d


def test_list_filters_by_pattern(good, capsys):
    assert main(["tasks", "list", str(good), "--pattern", "chain"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["id", "pattern", "calls", "depth", "width", "prompt"]
    assert out[1].split()[:5] == ["demo_chain_01", "chain", "2", "2", "1"]
    assert out[-1] == "1 of 2 tasks in suite 'demo'"


def test_list_json_and_task_glob(good, capsys):
    assert main(["tasks", "list", str(good), "--task", "demo_pair_*", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert rows == [
        {
            "id": "demo_pair_01",
            "pattern": "independent",
            "calls": 2,
            "depth": 1,
            "width": 2,
            "tools": ["get_weather", "get_local_time"],
            "prompt": "Weather in Lisbon and in Paris, please.",
        }
    ]


def test_list_unknown_pattern_is_misuse(good, capsys):
    assert main(["tasks", "list", str(good), "--pattern", "diamond"]) == 2
    assert "no pattern 'diamond'" in capsys.readouterr().err


def test_list_core_has_orders_tasks(capsys):
    assert main(["tasks", "list", "core", "--task", "orders_*"]) == 0
    assert len(capsys.readouterr().out.splitlines()) >= 5


def test_show_prints_graph_and_ground_truth(good, capsys):
    assert main(["tasks", "show", "demo_chain_01", "--suite", str(good)]) == 0
    out = capsys.readouterr().out
    assert "L1 m: get_manager" in out and "<- me" in out
    assert '"name": "Grace Kim"' in out
    assert "oracle batches: {me} | {m}" in out
    assert "answer must: contains ['Grace Kim']" in out


def test_show_unknown_task(good, capsys):
    assert main(["tasks", "show", "demo_chain", "--suite", str(good)]) == 2
    assert "did you mean demo_chain_01" in capsys.readouterr().err


def test_validate_good_suite(good, capsys):
    assert main(["tasks", "validate", str(good), "--seeds", "0,1"]) == 0
    assert capsys.readouterr().out.strip() == "suite 'demo': 2 tasks valid (seeds 0,1)"


def test_validate_broken_folder_lists_every_problem(broken, capsys):
    assert main(["tasks", "validate", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "5 problem(s) in suite 'broken'" in err
    assert (
        "broken/tasks.yaml: task 'bad_field_01': calls[0].args.town: argument 'town' is not in the schema"
        in err
    )
    assert "broken/more.yaml: task 'bad_tool_01': tools[0]: unknown tool 'teleport'" in err
    assert "task 'bad_ref_01': node 'm': argument reference does not resolve" in err
    assert "task 'bad_dup_01': nodes 'a' and 'b' are the same call get_weather" in err
    assert (
        "task 'bad_noanswer_01': answer: a task with no write has an answer to give, but no answer check"
        in err
    )
    assert "Traceback" not in err


def test_validate_bad_suite_yaml_and_bad_seeds(tmp_path, capsys):
    d = tmp_path / "s"
    d.mkdir()
    (d / "suite.yaml").write_text("name: s\nmatching: fuzzy\n")
    assert main(["tasks", "validate", str(d)]) == 1
    err = capsys.readouterr().err
    assert "suite.yaml" in err and "matching" in err
    assert main(["tasks", "validate", str(d), "--seeds", "a,b"]) == 2
    assert main(["tasks", "validate", str(tmp_path / "nope")]) == 2


def test_validate_fails_when_the_oracle_answer_misses(tmp_path, capsys):
    d = tmp_path / "s"
    d.mkdir()
    (d / "t.yaml").write_text(
        "- id: x_single_01\n  pattern: single\n  prompt: Weather in Oslo?\n  tools: [get_weather]\n"
        "  calls: [{id: w, tool: get_weather, args: {city: Oslo}}]\n"
        "  answer: {contains: ['{{ w.city }}'], not_contains: ['oslo']}\n"
    )
    assert main(["tasks", "validate", str(d)]) == 1
    assert "oracle does not succeed: answer check failed" in capsys.readouterr().err


def test_stats_text_and_json(good, capsys):
    assert main(["tasks", "stats", str(good)]) == 0
    out = capsys.readouterr().out
    assert "suite 'demo': 2 tasks, 4 required calls (ground truth, seed 0)" in out
    assert "width (largest oracle batch): 1:1  2:1" in out
    assert main(["tasks", "stats", str(good), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert [(p["pattern"], p["tasks"], p["max_depth"]) for p in st["patterns"]] == [
        ("chain", 1, 2),
        ("independent", 1, 1),
    ]
    assert st["tools_needed"] == {"get_weather": 2, "find_user": 1, "get_manager": 1}
    assert st["tools_exposed_unneeded"] == {"get_local_time": 1}


def test_core_stats_cover_all_twelve_patterns(capsys):
    assert main(["tasks", "stats", "core", "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    counts = {p["pattern"]: p["tasks"] for p in st["patterns"]}
    assert len(counts) == 12 and min(counts.values()) >= 10 and st["tasks"] >= 150
    wide = next(p for p in st["patterns"] if p["pattern"] == "wide")
    assert wide["min_width"] >= 9 and wide["max_width"] <= 16


def test_export_then_validate_and_list_the_export(good, tmp_path, capsys):
    out = tmp_path / "demo.jsonl"
    assert main(["tasks", "export", str(good), "--format", "jsonl", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == f"exported 2 tasks of suite 'demo' as jsonl to {out}"
    assert main(["tasks", "export", str(good), "--out", str(out)]) == 2  # exists, no --force
    assert "exists" in capsys.readouterr().err
    assert main(["tasks", "validate", str(out)]) == 0
    assert main(["tasks", "list", str(out), "--json"]) == 0
    assert [json.loads(x)["id"] for x in capsys.readouterr().out.splitlines() if x.startswith("{")] == [
        "demo_chain_01",
        "demo_pair_01",
    ]


def test_export_hf(good, tmp_path, capsys):
    pytest.importorskip("datasets")
    out = tmp_path / "demo_hf"
    assert main(["tasks", "export", str(good), "--format", "hf", "--out", str(out)]) == 0
    assert (out / "dataset_info.json").exists()
    assert main(["tasks", "show", "demo_pair_01", "--suite", str(out)]) == 0
    assert "prompt:  Weather in Lisbon and in Paris, please." in capsys.readouterr().out


@pytest.mark.parametrize("files", [{}, {"suite.yaml": "name: empty\n", "README.md": "# notes\n"}])
def test_validate_a_suite_with_no_task_file_is_a_usage_error(tmp_path, capsys, files):
    d = tmp_path / "empty"
    d.mkdir()
    for name, text in files.items():
        (d / name).write_text(text)
    assert main(["tasks", "validate", str(d)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"fanout tasks validate: suite 'empty' holds no tasks: {d} has no task file (*.yaml, *.yml)\n"
    )


def test_validate_task_files_that_define_no_task_is_a_usage_error(tmp_path, capsys):
    d = tmp_path / "hollow"
    d.mkdir()
    (d / "tasks.yaml").write_text("[]\n")
    assert main(["tasks", "validate", str(d)]) == 2
    assert capsys.readouterr().err == (
        f"fanout tasks validate: suite 'hollow' holds no tasks: the task files of {d} define none\n"
    )
    assert main(["tasks", "validate", str(d / "tasks.yaml")]) == 2
    assert capsys.readouterr().err == (
        f"fanout tasks validate: suite 'tasks' holds no tasks: {d / 'tasks.yaml'} defines none\n"
    )
