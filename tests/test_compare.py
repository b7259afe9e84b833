"""`fanout compare`: which paired episodes changed success, turns or call classes."""

from __future__ import annotations

import json

import pytest
from run_builders import scores, write_run

from evals.cli import main
from evals.compare import compare_runs, render
from evals.gate import GateError


def _runs(tmp_path):
    base = [scores("a"), scores("b"), scores("c"), scores("d"), scores("only_base")]
    cand = [
        scores("a"),  # unchanged
        scores("b", turns=5),  # slower only
        scores("c", success=False, classes={"correct": 3, "premature": 2}, n_calls=5),  # now fails
        scores("d", success=True, wall_s=9.0),  # only wall changed: not listed
        scores("only_cand"),
    ]
    base[3].update(success=False, parallel_success=False)  # d: failed before, passes now
    b = write_run(tmp_path / "b", base)
    c = write_run(tmp_path / "c", cand, suite_hash="changed")
    return b, c


def test_changed_episodes_and_order(tmp_path):
    b, c = _runs(tmp_path)
    rep = compare_runs(b, c)
    assert rep.paired == 4
    assert [(ch.task_id, ch.changed) for ch in rep.changed] == [
        ("c", ["success", "classes"]),
        ("d", ["success"]),
        ("b", ["turns"]),
    ]
    assert rep.only_baseline == [("only_base", 0)] and rep.only_candidate == [("only_cand", 0)]
    assert rep.class_totals["premature"] == (0, 2)
    assert rep.class_totals["correct"] == (16, 15)
    assert "suite 'synthetic' changed between the runs" in rep.warnings[0]


def test_text_rendering(tmp_path):
    b, c = _runs(tmp_path)
    text = render(compare_runs(b, c), "text")
    lines = text.splitlines()
    assert lines[0] == "fanout compare: 3 of 4 paired episodes changed (1 now fail, 1 now pass)"
    assert "only in the baseline (1): only_base" in lines
    assert "calls:     correct 16 -> 15, premature 0 -> 2, duplicate 0, wrong_args 0, extraneous 0" in lines
    row_c = next(ln for ln in lines if ln.startswith("c "))
    assert row_c.split() == [
        "c",
        "synthetic",
        "pass",
        "->",
        "FAIL",
        "3",
        "(ideal",
        "3)",
        "1.00",  # parallel success (per episode: 1 or 0)
        "->",
        "0.00",
        "1.00",  # fan-out recall
        "1.00",  # wall
        "1.60",  # speedup vs sequential
        "0.00",  # straggler wait
    ] + [
        "correct",
        "4",
        "->",
        "3,",
        "premature",
        "0",
        "->",
        "2",
    ]


def test_markdown_and_json(tmp_path):
    b, c = _runs(tmp_path)
    rep = compare_runs(b, c)
    md = render(rep, "markdown")
    assert md.startswith("## Fanout compare: 3 of 4 paired episodes changed (1 now fail, 1 now pass)\n")
    assert (
        "| `c` | synthetic | pass -> FAIL | 3 (ideal 3) | 1.00 -> 0.00 | 1.00 | 1.00 | 1.60 | 0.00 "
        "| correct 4 -> 3, premature 0 -> 2 |" in md
    )
    doc = json.loads(render(rep, "json"))
    assert [ch["task_id"] for ch in doc["changed"]] == ["c", "d", "b"]
    assert doc["changed"][0]["candidate"]["classes"]["premature"] == 2
    assert doc["only_candidate"] == [["only_cand", 0]]


def test_identical_runs_have_no_changes(tmp_path):
    b = write_run(tmp_path / "b", [scores("a"), scores("b")])
    rep = compare_runs(b, b)
    assert rep.changed == []
    assert (
        render(rep, "text").splitlines()[0]
        == "fanout compare: 0 of 2 paired episodes changed (0 now fail, 0 now pass)"
    )


def test_different_suites_refused(tmp_path):
    b = write_run(tmp_path / "b", [scores("a")])
    c = write_run(tmp_path / "c", [scores("a")], suite="other")
    with pytest.raises(GateError, match="different suites"):
        compare_runs(b, c)


def test_cli(tmp_path, capsys):
    b, c = _runs(tmp_path)
    assert main(["compare", str(b), str(c), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["paired"] == 4
    assert main(["compare", str(b), str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fanout compare: candidate run folder {tmp_path / 'missing'} does not exist")
