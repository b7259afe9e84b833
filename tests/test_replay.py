"""`replay/<run dir>`: recorded responses re-served by (task, epoch, turn), marked cached."""

from __future__ import annotations

import asyncio
import json

import pytest
from helpers import graph_suite

from evals.models import make_model
from evals.models.base import Message, Model, ModelError, ModelRequest, ModelResponse, ToolCall, Usage
from evals.runs import build_model, execute, load_run, start_run
from evals.settings import RuntimeSettings

GRAPHS = {
    "fan": {"a": [], "b": [], "c": [], "d": ["a", "b", "c"]},
    "chain": {"a": [], "b": ["a"], "c": ["b"]},
}


def run(suite, spec, out, model=None, **settings):
    run_dir, cfg = start_run(
        spec, suite, out, runtime=RuntimeSettings(inference_profile="typical"), **settings
    )
    model = model or build_model(cfg, [suite])
    asyncio.run(execute(run_dir, cfg, model, suite, progress=False))
    return run_dir, load_run(run_dir)[1]


def by_task(rows):
    return {(r["task_id"], r["epoch"]): r for r in rows}


def test_replay_reproduces_scores_and_calls_and_marks_turns_cached(tmp_path):
    suite = graph_suite(GRAPHS)
    src, rows = run(suite, "policy/greedy", tmp_path, epochs=2)
    _, again = run(suite, f"replay/{src}", tmp_path, epochs=2)
    a, b = by_task(rows), by_task(again)
    assert a.keys() == b.keys() and len(a) == 4
    for k in a:
        assert a[k]["scores"] == b[k]["scores"]
        assert [(c["name"], c["raw_arguments"], c["call_id"]) for c in a[k]["trace"]["calls"]] == [
            (c["name"], c["raw_arguments"], c["call_id"]) for c in b[k]["trace"]["calls"]
        ]
        assert [t["cached"] for t in b[k]["trace"]["turns"]] == [True] * len(b[k]["trace"]["turns"])
        assert b[k]["trace"]["final_text"] == a[k]["trace"]["final_text"]


class FailsOnTurn2(Model):
    name = "flaky"

    async def generate(self, request: ModelRequest) -> ModelResponse:
        if any(m.role == "assistant" for m in request.messages):
            raise ModelError("HTTP 503: overloaded (recorded)")
        return ModelResponse(tool_calls=[ToolCall("x1", "t_a", json.dumps({"key": "a"}))])


def test_a_recorded_failure_fails_again_at_the_same_turn(tmp_path):
    suite = graph_suite({"chain": GRAPHS["chain"]})
    src, rows = run(suite, "policy/oracle", tmp_path, model=FailsOnTurn2())
    assert rows[0]["trace"]["stop"] == "error"
    _, again = run(suite, f"replay/{src}", tmp_path)
    assert again[0]["trace"]["error"] == "HTTP 503: overloaded (recorded)"
    assert again[0]["scores"] == rows[0]["scores"]


def test_an_unrecorded_turn_is_a_model_error_naming_it(tmp_path):
    suite = graph_suite({"chain": GRAPHS["chain"]})
    src, _ = run(suite, "policy/oracle", tmp_path)
    model = make_model(f"replay/{src}", [suite])
    req = ModelRequest([Message("user", "synthetic task chain")], [], epoch=3)
    with pytest.raises(ModelError, match="no response for task 'chain' epoch 3 turn 1"):
        asyncio.run(model.generate(req))
    with pytest.raises(ModelError, match="no task matches"):
        asyncio.run(model.generate(ModelRequest([Message("user", "something else")], [])))


def test_a_folder_that_is_not_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="is not a run folder"):
        make_model(f"replay/{tmp_path}", [])


class WritesCache(Model):
    name = "cache-writer"

    async def generate(self, request: ModelRequest) -> ModelResponse:
        return ModelResponse(text="done", usage=Usage(1200, 5, 0, cache_write_tokens=1000))


def test_replay_re_serves_cache_writes(tmp_path):
    suite = graph_suite({"chain": GRAPHS["chain"]})
    src, rows = run(suite, "policy/oracle", tmp_path, model=WritesCache())
    _, again = run(suite, f"replay/{src}", tmp_path)
    assert rows[0]["trace"]["turns"][0]["cache_write_tokens"] == 1000
    assert again[0]["trace"]["turns"][0]["cache_write_tokens"] == 1000


def test_a_replay_knows_the_episodes_it_cannot_serve(tmp_path):
    suite = graph_suite(GRAPHS)
    src, _ = run(suite, "policy/greedy", tmp_path, task_patterns=["fan"])
    model = make_model(f"replay/{src}", [suite])
    assert model.unservable([("fan", 0), ("chain", 0), ("fan", 1)]) == [("chain", 0), ("fan", 1)]


def test_a_replay_of_other_tasks_or_more_epochs_is_refused_before_any_folder(tmp_path, capsys):
    """Episodes the recorded run never made would each end in an error, with a retry hint that
    cannot work: `fanout run` refuses the run up front (exit 2), naming them, and leaves no folder."""
    from evals.cli import main
    from evals.errors import EXIT_OK, EXIT_USAGE

    two = ["--sample-id", "orders_chain_02,hr_chain_02"]
    assert (
        main(["run", "--model", "policy/oracle", *two, "--out", str(tmp_path / "src"), "--no-progress"]) == 0
    )
    (src,) = (tmp_path / "src").iterdir()
    replay = ["run", "--model", f"replay/{src}", "--out", str(tmp_path / "again"), "--no-progress"]
    capsys.readouterr()
    for extra in ([], [*two, "--epochs", "2"]):
        assert main([*replay, *extra]) == EXIT_USAGE
        (line,) = capsys.readouterr().err.strip().splitlines()
        assert "no recorded episode for" in line and "select the recorded tasks" in line
        assert not (tmp_path / "again").exists()
    assert main([*replay, *two]) == EXIT_OK
