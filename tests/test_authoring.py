"""Writing suites by hand: the guide in docs/tasks.md builds and validates as written, suite-level
default tools, every failing node reported with the fields that exist, accepted variants a table
tool must answer, and the answer lint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from evals.cli import main
from evals.fixtures import load_suite
from evals.groundtruth import resolve
from evals.validate import validate_suite

GUIDE = Path(__file__).parents[1] / "docs" / "tasks.md"


def guide_files(dest: Path) -> Path:
    """The YAML blocks of the guide, each written where its first-line comment says."""
    blocks = re.findall(r"```yaml\n# (landmarks/[\w.]+)\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    assert [b[0] for b in blocks] == ["landmarks/suite.yaml", "landmarks/tasks.yaml"]
    for name, text in blocks:
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_text(text, encoding="utf-8")
    return dest / "landmarks"


def test_the_guide_s_suite_builds_and_validates_strictly(tmp_path, capsys):
    folder = guide_files(tmp_path)
    suite = load_suite(folder)
    warnings: list[str] = []
    assert validate_suite(suite, (0, 1), warnings) == [] and warnings == []
    assert main(["tasks", "validate", str(folder), "--strict"]) == 0
    assert "3 tasks valid" in capsys.readouterr().out
    taller = suite.by_id["taller_by"]
    assert [t.name for t in taller.tools] == ["landmark_facts", "to_feet", "calculator"]  # the suite's
    assert [t.name for t in suite.by_id["older_by"].tools] == ["landmark_facts", "calculator"]  # its own
    gt = resolve(taller, 0)
    assert gt.oracle_levels() == [["eiffel", "ben"], ["diff"]]
    assert gt.answer_contains == ["234"]
    assert resolve(suite.by_id["pisa_in_feet"], 0).answer_contains == ["183.7"]


def write_suite(folder: Path, tools: list[dict], tasks: list[dict], **suite) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "suite.yaml").write_text(yaml.safe_dump({"name": folder.name, "tools": tools, **suite}))
    (folder / "tasks.yaml").write_text(yaml.safe_dump(tasks, sort_keys=False))
    return folder


FACTS = {
    "name": "facts",
    "parameters": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "unit": {"type": "string"}},
        "required": ["name"],
    },
    "rows": [
        {"match": {"name": "Eiffel Tower"}, "response": {"name": "Eiffel Tower", "height_m": 330}},
        {"match": {"name": "Big Ben"}, "response": {"name": "Big Ben", "height_m": 96}},
    ],
}


def test_every_failing_node_is_reported_with_the_fields_that_exist(tmp_path):
    tasks = [
        {
            "id": "t",
            "pattern": "fan_out_join",
            "prompt": "Depth of both, summed?",
            "tools": ["facts", "calculator"],
            "calls": [
                {"id": "s1", "tool": "facts", "args": {"name": "Eiffel Tower"}},
                {"id": "s2", "tool": "facts", "args": {"name": "Big Ben"}},
                {"id": "a", "tool": "calculator", "args": {"expression": "{{ s1.depth }} * 2"}},
                {"id": "b", "tool": "calculator", "args": {"expression": "{{ s2.depth }} * 2"}},
                {"id": "c", "tool": "calculator", "args": {"expression": "{{ a.result }} + 1"}},
            ],
            "answer": {"contains": ["{{ c.result }}"]},
        }
    ]
    suite = load_suite(write_suite(tmp_path / "s", [FACTS], tasks))
    problems = validate_suite(suite)
    assert len(problems) == 2  # a and b; c depends on a failing node and is not reported
    assert "node 'a': argument reference does not resolve" in problems[0]
    assert problems[0].endswith("(s1 has: height_m, name)")  # the keys as the table holds them
    assert "node 'b'" in problems[1] and problems[1].endswith("(s2 has: height_m, name)")


def test_accepted_variants_a_table_tool_cannot_answer_are_rejected(tmp_path):
    """An accepted variant scored `correct` while the table answered `not_found`, so the node stayed
    unsatisfied; an omissible argument the tool requires, likewise."""
    tasks = [
        {
            "id": "t",
            "pattern": "single",
            "prompt": "How tall is Big Ben?",
            "tools": ["facts"],
            "calls": [
                {
                    "id": "f",
                    "tool": "facts",
                    "args": {"name": "Big Ben"},
                    "accept": {"name": ["Big Ben Tower", "big ben "], "unit": ["m"]},
                    "omissible": ["name"],
                }
            ],
            "answer": {"contains": ["{{ f.height_m }}"]},
        }
    ]
    suite = load_suite(write_suite(tmp_path / "s", [FACTS], tasks))
    problems = validate_suite(suite)
    assert [p.split(": ", 3)[-1] for p in problems] == [
        'accept.name: "Big Ben Tower": table tool facts does not answer it (facts: no entry for these arguments)',
        "omissible: name left out: table tool facts does not answer it (facts: unknown [], missing ['name'])",
    ]  # "big ben " is the same row once normalised; unit "m" is ignored by the row, same answer


def test_answer_lint(tmp_path, capsys):
    tasks = [
        {
            "id": "echo",
            "pattern": "single",
            "prompt": "Is the Eiffel Tower in the table?",
            "tools": ["facts"],
            "calls": [{"id": "f", "tool": "facts", "args": {"name": "Eiffel Tower"}}],
            "answer": {"contains_any": [["{{ f.name }}", "{{ f.height_m }}"]]},
        },
        {
            "id": "ok",
            "pattern": "single",
            "prompt": "How tall is Big Ben?",
            "tools": ["facts"],
            "calls": [{"id": "f", "tool": "facts", "args": {"name": "Big Ben"}}],
            "answer": {"contains": ["{{ f.name }}", "{{ f.height_m }}"]},
        },
    ]
    folder = write_suite(tmp_path / "s", [FACTS], tasks)
    warnings: list[str] = []
    assert validate_suite(load_suite(folder), warnings=warnings) == []
    assert len(warnings) == 1 and "task 'echo'" in warnings[0]
    assert warnings[0].endswith("'Eiffel Tower' is in the prompt")
    assert main(["tasks", "validate", str(folder)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: ") and "task 'echo'" in err
    assert main(["tasks", "validate", str(folder), "--strict"]) == 1


@pytest.mark.parametrize(
    "value, why",
    [
        ("success", "a generic word"),
        ("artist", "a generic word"),
        ("True", "a boolean"),
        (False, "a boolean"),
        ("", "empty"),
        ("10:00", "in the prompt"),
        ("2024-03-10", "in the prompt"),
        ("new york", "in the prompt"),
        ("cloudy", None),
        ("Farid", None),
        ("10", "in the prompt"),
        ("100", None),
        (130.0, None),
        ("dentist_name_5ef1f7", None),
    ],
)
def test_what_counts_as_a_check(value, why):
    from evals.answer_lint import why_not_a_check

    prompt = "Book a dentist in New York for 2024-03-10 at 10:00 AM."
    assert why_not_a_check(value, prompt) == why


def test_a_declared_state_counts_even_when_the_prompt_names_one_of_its_values():
    """ "If it's anything other than healthy": the tool picks the state; the check wants that one."""
    from evals.answer_lint import why_not_a_check
    from evals.answers import render as render_answer

    prompt = "Check checkout's health. If it's anything other than healthy, page the on-call."
    [state] = render_answer("healthy", "state", options={"of": "health"})
    assert why_not_a_check(state, prompt) is None
    assert why_not_a_check("healthy", prompt) == "in the prompt"  # a plain string still does not
