"""episodes.jsonl records: schema versions, and run folders written before them (tests/data/runs_v1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError
from report_runs import write_suite

from evals.cli import main
from evals.episodes import SCHEMA_VERSION, parse
from evals.fixtures import load_suite
from evals.gate import gate
from evals.metrics import METRICS, EpisodeView, batches_of
from evals.report.build import build_report
from evals.runs import load_records
from evals.settings import RuntimeSettings
from evals.whatif import Setting, load_runs, retime_run

V1 = Path(__file__).parent / "data" / "runs_v1"
SETTINGS = RuntimeSettings(
    inference_profile="fast", latency_profile="heavy-tail", fan_out_cap=2, hedge_after=0.3
)


@pytest.fixture
def v1_runs(tmp_path) -> Path:
    """The v1 folders, pointed at a fresh copy of their suite (same content, same hash)."""
    suite = write_suite(tmp_path)
    out = tmp_path / "runs"
    shutil.copytree(V1, out, ignore=shutil.ignore_patterns("README.md"))
    for run in out.iterdir():
        cfg = json.loads((run / "run.json").read_text())
        assert cfg["suite_hash"] == load_suite(suite).hash
        cfg["suite_path"] = str(suite)
        (run / "run.json").write_text(json.dumps(cfg))
    return out


def test_v1_lines_upgrade_with_the_runs_settings_and_the_metrics_declared_since(v1_runs):
    for run in v1_runs.iterdir():
        cfg, recs = load_records(run)
        assert cfg.runtime == SETTINGS  # the flat run.json settings
        raw = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
        assert len(recs) == len(raw) == 6 and "schema_version" not in raw[0]
        for rec, line in zip(recs, raw, strict=True):
            assert rec.schema_version == SCHEMA_VERSION and rec.trace.runtime == SETTINGS
            scores = rec.scores.model_dump()
            kept = {k: v for k, v in line["scores"].items() if k != "ideal_wall_s"}  # redefined since
            assert {k: scores[k] for k in kept} == kept  # stored scores, unchanged
            assert scores["ideal_wall_s"] is None
            view = EpisodeView(rec.trace, batches_of(rec.trace))
            for ev in METRICS.episode_values():
                assert ev.name not in line["scores"] and scores[ev.name] == ev(view)


def test_v1_runs_retime_report_and_gate(v1_runs, tmp_path, capsys):
    (oracle,) = [r for r in load_runs([v1_runs]) if r.cfg.model == "policy/oracle"]
    raw = [json.loads(x) for x in (oracle.path / "episodes.jsonl").read_text().splitlines()]
    for row, rec, line in zip(retime_run(oracle, Setting()), oracle.records, raw, strict=True):
        stored = rec.scores.model_dump()
        for k in ("wall_s", "serial_wall_s", "straggler_wait_s"):
            assert row[k] == stored[k], k  # the as-run what-if of a v1 run, bit for bit
        # ideal_wall_s was redefined since (the oracle's own schedule at a fixed turn latency, its
        # batches longest call first under a cap: tests/test_reference.py): a v1 line's is dropped
        # on read, and the what-if, which has the suite, computes today's.
        old = line["scores"]["ideal_wall_s"]
        assert stored["ideal_wall_s"] is None and 0 < row["ideal_wall_s"] <= old + 1e-12
    files = build_report([v1_runs], tmp_path / "report")
    assert all(r["straggler_wait_s_mean"] is not None for r in files.rows)
    runs = sorted(v1_runs.iterdir())
    assert gate(runs[0], runs[0]).passed
    assert main(["whatif", str(v1_runs), "--fan-out-cap", "1"]) == 0
    capsys.readouterr()


def test_a_v1_run_resumes_and_is_rewritten_in_the_current_format(v1_runs, capsys):
    run = next(r for r in v1_runs.iterdir() if r.name == "greedy")
    lines = (run / "episodes.jsonl").read_text().splitlines()
    (run / "episodes.jsonl").write_text("\n".join(lines[:4]) + "\n")  # two episodes still to run
    assert main(["run", "--resume", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    after = [json.loads(line) for line in (run / "episodes.jsonl").read_text().splitlines()]
    assert [r.get("schema_version") for r in after] == [None] * 4 + [SCHEMA_VERSION] * 2
    assert json.loads((run / "run.json").read_text())["runtime"]["fan_out_cap"] == 2
    summary = json.loads((run / "summary.json").read_text())
    assert summary["episodes"] == 6 and summary["straggler_wait_s_mean"] is not None


def test_a_line_from_a_newer_fanout_is_refused():
    with pytest.raises(ValidationError, match="reads episode lines of versions 1 to"):
        parse({"schema_version": SCHEMA_VERSION + 1, "task_id": "t", "pattern": "p"})


def test_current_lines_round_trip(v1_runs):
    _, recs = load_records(v1_runs / "oracle")
    for rec in recs:
        again = parse(json.loads(rec.line()))
        assert again.line() == rec.line()


# -- the line's encoder: pydantic's, reading back as the standard library's would --------------


def _old_line(rec) -> str:
    doc = {
        "schema_version": rec.schema_version,
        "task_id": rec.task_id,
        "epoch": rec.epoch,
        "pattern": rec.pattern,
        "scores": rec.scores.model_dump(),
        "trace": rec.trace.model_dump(exclude_none=True),
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str)


def _record_with(arguments: dict, result: object):
    from evals.episodes import EpisodeRecord
    from evals.trace import CallRecord

    _, recs = load_records(V1 / "oracle")
    rec = recs[0].model_copy(deep=True)
    rec.trace.calls.append(
        CallRecord(
            index=99, turn=1, position=9, name="x", raw_arguments="{}", arguments=arguments, result=result
        )
    )
    return EpisodeRecord.model_validate(rec.model_dump())


ODD = {
    "nan": float("nan"),
    "inf": float("-inf"),
    "zero": -0.0,
    "small": 1e-05,
    "big": 2**70,
    "text": "é \u2028 \x00 \U0001f600",
    "nested": [[1, 2.5], {"k": None}],
}


def test_a_line_reads_back_as_the_standard_library_would_write_it():
    rec = _record_with(ODD, {"ok": True, **ODD})
    assert repr(json.loads(rec.line())) == repr(json.loads(_old_line(rec)))
    assert "NaN" in rec.line() and "-Infinity" in rec.line()


def test_nan_and_infinities_anywhere_in_a_line_are_written_as_the_standard_library_writes_them():
    """The line is serialised from the models themselves: scores (declared and extra), turns,
    calls and the runtime's custom inference profile all write NaN and infinities alike."""
    from evals.timing import InferenceProfile

    rec = _record_with({"a": float("inf")}, {"r": float("nan")})
    rec.scores.wall_s = float("inf")
    rec.scores.parallel_speedup = float("nan")
    assert rec.scores.__pydantic_extra__ is not None
    rec.scores.__pydantic_extra__["straggler_wait_s"] = float("-inf")
    rec.trace.turns[0].model_latency_s = float("inf")
    rec.trace.calls[0].duration_s = float("nan")
    profile = InferenceProfile(ttft_s=0.1, prefill_tps=float("inf"), decode_tps=100.0)
    rec.trace.runtime = rec.trace.runtime.replace(inference_profile=profile)
    assert rec.line() == _old_line(rec)
    assert rec.line().count("Infinity") >= 4 and "NaN" in rec.line()


def test_a_string_utf8_cannot_encode_is_left_to_the_standard_library():
    rec = _record_with({"s": json.loads('"\\ud800"')}, None)
    assert rec.line() == _old_line(rec)


def test_a_result_json_has_no_type_for_is_stored_as_the_json_the_model_was_sent():
    import asyncio
    import datetime as dt

    from helpers import graph_suite

    from evals.episodes import EpisodeRecord
    from evals.groundtruth import resolve
    from evals.models.policies import PolicyModel
    from evals.runtime import run_episode
    from evals.scoring import score

    suite = graph_suite({"one": {"a": []}})
    tool = suite.by_id["one"].tool_by_name["t_a"]
    when = dt.datetime(2026, 10, 29, 9, 30)
    tool.impl = lambda args, ctx: {"when": when, "tags": {"x"}}
    trace = asyncio.run(run_episode(PolicyModel("oracle", [suite]), suite.by_id["one"], SETTINGS))
    (call,) = trace.calls
    assert call.result == {"when": str(when), "tags": str({"x"})}  # what the tool message said
    rec = EpisodeRecord(
        task_id="one", pattern="synthetic", scores=score(resolve(suite.by_id["one"]), trace), trace=trace
    )
    assert rec.line() == _old_line(rec)


def test_the_bytes_written_are_the_line_as_utf8_with_surrogates_replaced():
    from evals.files import encode_utf8

    for rec in (_record_with(ODD, {"ok": True, **ODD}), _record_with({"s": json.loads('"\\ud800"')}, None)):
        assert rec.line_bytes() == encode_utf8(rec.line())
        json.loads(rec.line_bytes())
