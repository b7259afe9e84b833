"""Exported suites (JSONL, Hugging Face datasets) load back into identical tasks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.fixtures import FixtureErrors, canonical_task_dict, load_suite
from evals.groundtruth import resolve
from evals.suite_export import ExportError, export_hf, export_jsonl, is_export, load_export

SUITE_YAML = """
name: mini
matching: default
tools:
  - name: lookup_colour
    description: Favourite colour of a person
    parameters: {type: object, properties: {person: {type: string}}, required: [person]}
    rows:
      - {match: {person: ana}, response: {colour: teal}}
    default: {colour: grey}
"""

TASKS_YAML = """
- id: mini_pair_01
  pattern: independent
  prompt: "What's Ana's favourite colour, and the weather in Lisbon?"
  tools: [lookup_colour, get_weather, find_user]
  calls:
    - {id: c, tool: lookup_colour, args: {person: ana}}
    - id: w
      tool: get_weather
      args: {city: Lisbon}
      accept: {date: ["2026-11-01"]}
      omissible: [date]
  answer: {contains: ["{{ c.colour }}", "{{ w.condition }}"]}
- id: mini_write_01
  pattern: write_then_read
  prompt: "Close ticket T-5003 and then show it to me."
  tools: [update_ticket, get_ticket]
  latency: {get_ticket: {kind: fixed, median_s: 0.5, sigma: 0}}
  calls:
    - {id: u, tool: update_ticket, args: {ticket_id: T-5003, status: closed}}
    - {id: g, tool: get_ticket, args: {ticket_id: T-5003}, after: [u]}
  answer: {contains: ["{{ g.status }}"]}
"""


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    folder = tmp_path_factory.mktemp("suites") / "mini"
    folder.mkdir()
    (folder / "suite.yaml").write_text(SUITE_YAML)
    (folder / "tasks.yaml").write_text(TASKS_YAML)
    return load_suite(folder)


def _same(a, b) -> None:
    assert [t.id for t in a.tasks] == [t.id for t in b.tasks]
    assert [canonical_task_dict(t) for t in a.tasks] == [canonical_task_dict(t) for t in b.tasks]
    assert a.spec == b.spec
    assert a.hash == b.hash
    for ta, tb in zip(a.tasks, b.tasks, strict=True):
        assert ta.file == tb.file and ta.matching == tb.matching
        ga, gb = resolve(ta, 0), resolve(tb, 0)
        assert ga.answer_contains == gb.answer_contains
        assert {v: n.args for v, n in ga.nodes.items()} == {v: n.args for v, n in gb.nodes.items()}


def test_jsonl_round_trip_with_table_tools(mini, tmp_path):
    out = export_jsonl(mini, tmp_path / "mini.jsonl")
    lines = out.read_text().splitlines()
    assert len(lines) == 2
    rec = json.loads(lines[0])
    assert (rec["id"], rec["pattern"], rec["n_calls"], rec["depth"], rec["width"]) == (
        "mini_pair_01",
        "independent",
        2,
        1,
        2,
    )
    assert is_export(out)
    back = load_export(out)
    _same(mini, back)
    assert resolve(back.by_id["mini_pair_01"], 0).answer_contains[0] == "teal"  # table tool travelled


def test_hf_round_trip(mini, tmp_path):
    datasets = pytest.importorskip("datasets")
    out = export_hf(mini, tmp_path / "mini_hf")
    assert is_export(out)
    ds = datasets.load_from_disk(str(out))
    assert ds.num_rows == 2
    assert ds["id"] == ["mini_pair_01", "mini_write_01"]
    _same(mini, load_export(out))


def test_core_suite_round_trips_through_jsonl(tmp_path):
    core = load_suite("core")
    _same(core, load_export(export_jsonl(core, tmp_path / "core.jsonl")))


def test_unreadable_exports_name_the_problem(mini, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\nnot json\n')
    with pytest.raises(ExportError, match=r"bad.jsonl: line 2: not JSON"):
        load_export(bad)
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(ExportError, match=r"record 1: suite: Field required"):
        load_export(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(ExportError, match="no tasks"):
        load_export(empty)


def test_a_tampered_task_is_a_fixture_error_naming_the_task(mini, tmp_path):
    out = export_jsonl(mini, tmp_path / "mini.jsonl")
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    task = json.loads(rows[1]["task_json"])
    task["calls"][1]["tool"] = "no_such_tool"
    rows[1]["task_json"] = json.dumps(task)
    out.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with pytest.raises(FixtureErrors) as exc:
        load_export(out)
    msg = str(exc.value)
    assert "task 'mini_write_01'" in msg and "calls[1].tool" in msg and "no_such_tool" in msg


def test_not_an_export(tmp_path):
    (tmp_path / "x.yaml").write_text("[]")
    assert not is_export(tmp_path / "x.yaml")
    assert not is_export(tmp_path)
    assert not is_export(Path(tmp_path / "missing.jsonl"))
