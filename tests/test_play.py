"""`fanout play`: the player adapter, the response formats, both input modes, the explanation of
every class, the run folder, and docs/play.md's commands run as written."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import sigint_default
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evals.cli import main
from evals.explain import arg_diffs
from evals.fixtures import load_suite
from evals.groundtruth import resolve
from evals.models.play import FileSource, ResponseFormatError, json_incomplete, parse_response

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "play.md"

FIND_ANA = {"name": "find_user", "arguments": {"email": "ana@example.com"}}
FIND_HIRO = {"name": "find_user", "arguments": {"email": "hiro@example.com"}}


def dist(origin: str, destination: str) -> dict:
    return {"name": "get_distance", "arguments": {"origin": origin, "destination": destination}}


def lines(*responses) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in responses) + "\n"


@pytest.fixture(scope="module")
def core():
    return load_suite("core")


def play(argv: list[str], capsys, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["play", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def after_end(out: str) -> str:
    return out[out.index("== episode over: scores ==") :]


# ----------------------------------------------------------------------------------------------
# response format


def test_parse_every_documented_form():
    r = parse_response('[{"name": "a", "arguments": {"x": 1}}, {"name": "b"}]')
    assert [(c.name, c.arguments) for c in r.tool_calls] == [("a", {"x": 1}), ("b", {})]
    assert parse_response('{"name": "a", "arguments": {"x": 1}, "id": "c7"}').tool_calls[0].id == "c7"
    r = parse_response('{"content": "Looking.", "tool_calls": [{"name": "a", "arguments": "{\\"x\\": 1}"}]}')
    assert (r.content, r.tool_calls[0].arguments) == ("Looking.", '{"x": 1}')
    r = parse_response('{"type": "function", "function": {"name": "a", "arguments": "{}"}, "id": "k"}')
    assert (r.tool_calls[0].name, r.tool_calls[0].id) == ("a", "k")
    assert parse_response("answer: 11,144 km").answer == "11,144 km"
    assert parse_response("ANSWER:yes").answer == "yes"
    assert parse_response('{"answer": "two\\nlines"}').answer == "two\nlines"


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty response"),
        ("the weather is fine", "a response is tool calls as JSON (starting with [ or {) or a final answer"),
        (
            '[{"name": "a", }]',
            "invalid JSON: Expecting property name enclosed in double quotes (line 1, column 16)",
        ),
        ("[]", "no tool calls: to finish, reply with a line starting 'answer:'"),
        ('[{"name": "a", "argument": {}}]', "call 1: unknown field 'argument'"),
        ('[{"name": "a"}, 3]', "call 2 is a JSON number, not an object"),
        ('[{"arguments": {}}]', "call 1: missing field 'name'"),
        (
            '{"tool_calls": [{"name": "a"}], "answer": "x"}',
            "a response holds tool calls or an answer, not both",
        ),
        ('{"tool_calls": {"name": "a"}}', "tool_calls must be a JSON array of calls"),
        ('[{"name": "a", "arguments": [1]}]', "call 1: arguments"),
        ('"hello"', "a response is tool calls as JSON"),
    ],
)
def test_parse_errors_are_one_line(text, message):
    with pytest.raises(ResponseFormatError) as exc:
        parse_response(text)
    assert str(exc.value).startswith(message)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(
    "text, got",
    [
        ('{"name": "find_user", "arguments": [1, 2]}', "a JSON array"),
        ('[{"name": "a", "arguments": {}}, {"name": "b", "arguments": null}]', "a JSON null"),
        ('{"type": "function", "function": {"name": "a", "arguments": 3}}', "a JSON number"),
        ('{"tool_calls": [{"name": "a", "arguments": true}]}', "a JSON boolean"),
    ],
)
def test_arguments_that_are_neither_object_nor_string_say_so_plainly(text, got):
    """Not pydantic's `arguments.dict[str,any]: Input should be a valid dictionary`."""
    call = 2 if got == "a JSON null" else 1
    with pytest.raises(ResponseFormatError) as exc:
        parse_response(text)
    assert str(exc.value) == (
        f"call {call}: arguments must be a JSON object, or a JSON string holding one "
        f"(as providers send it), not {got}"
    )


def test_json_incomplete_only_when_input_ran_out():
    assert json_incomplete('[{"name": "a",')
    assert json_incomplete('[{"name": "a')  # open string
    assert not json_incomplete('[{"name": "a"}]')
    assert not json_incomplete('[{"name": "a"} {"name": "b"}]')  # a definite error, not unfinished
    assert not json_incomplete("answer: x")


def test_responses_file_multiline_comments_and_errors(tmp_path):
    f = tmp_path / "r.jsonl"
    f.write_text('# a comment\n\n[{"name": "a",\n  "arguments": {"x": 1}}]\nanswer: done\n')
    src = FileSource.read(str(f))
    assert src.lines == [3, 5]
    assert src.responses[1].answer == "done"
    f.write_text('[{"name": "a"}]\n[{"name": "b",\n  "arguments": {"x": 1} "y"}]\n')
    with pytest.raises(ResponseFormatError) as exc:
        FileSource.read(str(f))
    assert str(exc.value) == f"{f}, line 3, column 25: invalid JSON: Expecting ',' delimiter"
    f.write_text('[{"name": "a",\n')
    with pytest.raises(ResponseFormatError, match=r"line 1: the JSON response starting here is not closed"):
        FileSource.read(str(f))
    f.write_text("# nothing\n")
    assert FileSource.read(str(f)).responses == []  # the first step: it shows turn 1 and stops
    with pytest.raises(ResponseFormatError, match=r"no such file$"):
        FileSource.read(str(tmp_path / "missing.jsonl"))


# ----------------------------------------------------------------------------------------------
# a responses file: premature and wrong_args explained


def test_file_premature_and_wrong_args_explained(tmp_path, capsys):
    f = tmp_path / "r.jsonl"
    f.write_text(
        lines(
            [FIND_ANA, dist("ana@example.com", "hiro@example.com")],
            [FIND_HIRO],
            [dist("Lisbon", "Tokio")],
            [dist("Lisbon", "Tokyo")],
            "answer: 11,144 km",
        )
    )
    code, out, err = play(["maps_fan_out_join_01", "--responses", str(f)], capsys)
    assert (code, err) == (0, "")
    before = out[: out.index("== episode over")]
    for secret in ("premature", "wrong_args", "ground truth", "ideal", "{{"):
        assert secret not in before  # nothing is revealed before the end
    assert (
        '[call_3_0] get_distance: {"error":{"code":"not_found","message":"unknown city \'Tokio\'"}}' in before
    )
    end = after_end(out)
    assert "calls by class        correct 3, premature 1, duplicate 0, wrong_args 1, extraneous 0" in end
    assert (
        "premature (an incorrect fan-out): charged to step `d` (get_distance), which had to wait for the "
        "result of `a` (find_user), issued in the same batch, so its result was not back yet; and `h` "
        "(find_user), done only at turn 2; the earliest turn it could go out was turn 3."
    ) in end
    assert (
        '`origin`: sent "ana@example.com", it needed "Lisbon" (= {{ a.city }}); also accepted: "Tokyo"' in end
    )
    assert (
        'wrong_args: step `d` (get_distance) was ready, but `destination`: sent "Tokio", it needed "Tokyo" '
        '(= {{ h.city }}); also accepted: "Lisbon". The step needed get_distance({"origin": "Lisbon", '
        '"destination": "Tokyo"}).'
    ) in end
    assert (
        "Late: it could have gone out at turn 1, beside the calls of that turn, but went out at turn 2" in end
    )
    assert "fan_out_recall        1/2 = 0.500" in end
    assert "== penalties (4) ==" in end
    assert "5 turns where 3 were enough (ideal plan: a, h | d | answer)" in end


def test_an_empty_responses_file_shows_the_request_and_stops(tmp_path, capsys):
    f = tmp_path / "r.jsonl"
    f.write_text("")
    code, out, err = play(["maps_fan_out_join_01", "--responses", str(f)], capsys)
    assert code == 2
    assert "== user prompt ==" in out and "== tools (" in out
    assert "holds 0 responses and the episode needs response 1 (turn 1)" in err


def test_premature_with_a_value_already_in_a_result_names_the_route(tmp_path, capsys, core):
    """The issue's hr_chain_02 finding: find_user returns manager_id, so list_direct_reports can
    follow it at once; on a copy of the task without its declared alternative, the explanation
    points the player at the undeclared route."""
    spec = core.by_id["hr_chain_02"].spec.model_dump(exclude_defaults=True)
    for node in spec["calls"]:
        node.pop("alternatives", None)
    suite = tmp_path / "undeclared.yaml"
    suite.write_text(yaml.safe_dump(spec))
    gt = resolve(core.by_id["hr_chain_02"], 0)
    mgr_id = gt.outputs["me"]["manager_id"]
    f = tmp_path / "r.jsonl"
    f.write_text(
        lines(
            [{"name": "find_user", "arguments": {"email": "ben@example.com"}}],
            [{"name": "list_direct_reports", "arguments": {"user_id": mgr_id}}],
            "answer: Ben Okafor, Dev Patel and Priya Sharma report to Grace Kim.",
        )
    )
    code, out, _ = play(["hr_chain_02", "--suite", str(suite), "--responses", str(f)], capsys)
    assert code == 0
    end = after_end(out)
    assert (
        f'the value "{mgr_id}" of `user_id` was already in the result of call #1 find_user (as `manager_id`)'
    ) in end
    assert "this is another valid route the task does not declare (likely an unfair task" in end
    # The core task declares the route: the same play is correct, with `mgr` bypassed.
    code, out, _ = play(["hr_chain_02", "--responses", str(f)], capsys)
    end = after_end(out)
    assert "premature (an incorrect fan-out)" not in end
    assert "correct: it is step `team` (list_direct_reports), and it needs the result of `me`" in end


def test_duplicate_extraneous_and_inactive_write_explained(tmp_path, capsys, core):
    gt = resolve(core.by_id["hr_conditional_11"], 0)
    uid = gt.outputs["u"]["id"]
    assert "req" in gt.inactive
    f = tmp_path / "r.jsonl"
    f.write_text(
        lines(
            [
                {"name": "find_user", "arguments": {"email": "jonas@example.com"}},
                {"name": "nope", "arguments": {}},
            ],
            [
                {"name": "get_pto_balance", "arguments": {"user_id": uid}},
                {"name": "get_manager", "arguments": {"user_id": uid}},
                {"name": "find_user", "arguments": {"email": " Jonas@Example.com"}},
            ],
            [
                {
                    "name": "request_time_off",
                    "arguments": {"user_id": uid, "start_date": "2026-12-22", "days": 5},
                },
                {"name": "get_pto_balance", "arguments": '{"user_id": '},
            ],
            "answer: Only 9 days left, so nothing was booked.",
        )
    )
    code, out, _ = play(["hr_conditional_11", "--responses", str(f)], capsys)
    assert code == 0
    end = after_end(out)
    assert "extraneous: no tool named 'nope' is offered in this task." in end
    assert (
        "extraneous: get_manager is offered, but this task needs no get_manager call (a distractor tool)."
        in end
    )
    assert (
        "duplicate: the same tool and (normalised) arguments as call #1 at turn 1, which was correct" in end
    )
    assert (
        "extraneous: no request_time_off call is needed here (`req`: its condition "
        "{{ b.days_remaining > 15 }} is false for this data). It is a write the user did not ask for." in end
    )
    assert "extraneous: its arguments could not be parsed (invalid JSON:" in end
    assert "req  request_time_off(" in end and "[inactive]" in end


def test_failed_answer_and_missing_steps_explained(tmp_path, capsys):
    f = tmp_path / "r.jsonl"
    f.write_text(lines([FIND_ANA, FIND_HIRO], "answer: They live far apart."))
    code, out, _ = play(["maps_fan_out_join_01", "--responses", str(f)], capsys)
    assert code == 0
    end = after_end(out)
    assert "success               no: 1 of 3 required steps not done: `d`; the answer check failed" in end
    assert '  "11144": NOT FOUND' in end
    assert 'step `d` never done: it needed get_distance({"origin": "Lisbon", "destination": "Tokyo"})' in end
    assert "== answer check: failed ==" in end


# ----------------------------------------------------------------------------------------------
# stdin (a pipe): bad input re-prompts


def test_stdin_reprompts_on_bad_input_and_scores(capsys, monkeypatch):
    stdin = lines(
        "hello",
        '[{"name": "find_user", "argument": {}}]',
        '[{"name": "find_user", "arguments": {"email": "ana@example.com"}}, {"name": "find_user"',
        '"oops"',  # continues the open response above and makes it definitely invalid
        "help",
        "[",
        json.dumps(FIND_ANA) + ",",
        "  " + json.dumps(FIND_HIRO) + "]",
        json.dumps(dist("Lisbon", "Tokyo")),
        "answer: 11,144 km",
    )
    code, out, err = play(["maps_fan_out_join_01"], capsys, stdin, monkeypatch)
    assert (code, err) == (0, "")
    assert sum(line.startswith("error: ") for line in out.splitlines()) == 3
    assert "turn 1> hello\nerror: a response is tool calls as JSON" in out
    assert "error: invalid JSON: Expecting ',' delimiter (line 2, column 1); try again" in out
    assert "error: call 1: unknown field 'argument'" in out
    assert "Respond with one of:" in out
    assert '...>   {"name": "find_user", "arguments": {"email": "hiro@example.com"}}]' in out
    end = after_end(out)
    assert "success               yes" in end
    assert "fan_out_recall        2/2 = 1.000" in end
    assert "turns / ideal         3 / 3" in end


def test_stdin_through_a_real_pipe(tmp_path):
    stdin = lines([FIND_ANA, FIND_HIRO], dist("Tokyo", "Lisbon"), "answer: 11144 km")
    proc = subprocess.run(
        [sys.executable, "-m", "evals", "play", "maps_fan_out_join_01", "--json"],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert last["scores"]["success"] is True
    assert [c["cls"] for c in last["calls"]] == ["correct", "correct", "correct"]
    assert last["penalties"] == []


def test_end_of_input_and_quit_score_nothing(tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / "runs"
    code, out, err = play(
        ["maps_fan_out_join_01", "--out", str(out_dir)], capsys, lines([FIND_ANA]), monkeypatch
    )
    assert code == 2
    assert err == "fanout play: input ended before a final answer (turn 2); nothing was scored\n"
    assert "episode over" not in out
    assert not out_dir.exists()  # no run folder, and the folder it would have gone in is gone too
    code, _, err = play(["maps_fan_out_join_01", "--out", str(out_dir)], capsys, "quit\n", monkeypatch)
    assert (code, err) == (130, "fanout play: quit at turn 1; nothing was scored\n")
    assert not out_dir.exists()


def test_play_stopped_carries_its_exit_code_and_the_docs_agree():
    """`quit` is the player's own stop, as Ctrl-C: 130. Input that ended before an answer (a closed
    pipe, Ctrl-D, a responses file that ran out) leaves the episode unfinished: 2. docs/errors.md
    listed PlayStopped as exit 2 only, while docs/play.md gave quit 130."""
    from evals.errors import EXIT_INTERRUPTED, EXIT_USAGE
    from evals.models.play import PlayStopped

    assert PlayStopped("quit at turn 1", 1, "quit").exit_code == EXIT_INTERRUPTED
    assert PlayStopped("input ended", 2, "eof").exit_code == EXIT_USAGE
    assert PlayStopped("file ran out", 2, "exhausted").exit_code == EXIT_USAGE
    root = Path(__file__).parents[1] / "docs"
    errors_md = (root / "errors.md").read_text()
    tree = errors_md[errors_md.index("PlayStopped  ") :].split("```")[0]
    assert f"`quit` exits {EXIT_INTERRUPTED}, input that ended exits {EXIT_USAGE}" in " ".join(tree.split())
    play_md = " ".join((root / "play.md").read_text().split())
    assert f"{EXIT_USAGE} for bad input or an unfinished episode" in play_md
    assert f"{EXIT_INTERRUPTED} for `quit` or Ctrl-C" in play_md


def test_ctrl_c_at_the_prompt_scores_nothing_and_keeps_nothing(tmp_path):
    out_dir = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "evals", "play", "maps_fan_out_join_01", "--out", str(out_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=sigint_default,
    )
    try:
        seen = b""
        deadline = time.monotonic() + 60
        while b"turn 1> " not in seen and time.monotonic() < deadline:
            chunk = os.read(proc.stdout.fileno(), 65536)  # type: ignore[union-attr]
            if not chunk:
                break
            seen += chunk
        assert b"turn 1> " in seen
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    assert err.decode().strip() == "fanout play: interrupted; nothing was scored"
    assert not out_dir.exists()


def test_responses_file_that_runs_out_stops_there(tmp_path, capsys):
    f = tmp_path / "r.jsonl"
    f.write_text(lines([FIND_ANA, FIND_HIRO]))
    keep = tmp_path / "runs"
    keep.mkdir()
    code, out, err = play(["maps_fan_out_join_01", "--responses", str(f), "--out", str(keep)], capsys)
    assert code == 2
    assert err == (
        f"fanout play: {f} holds 1 response and the episode needs response 2 (turn 2): "
        "append it and run again; nothing was scored\n"
    )
    assert out.rstrip().endswith("== turn 2 ==")
    assert '[call_1_1] find_user: {"id":' in out
    assert list(keep.iterdir()) == []


def test_max_turns_and_unused_responses(tmp_path, capsys):
    f = tmp_path / "r.jsonl"
    f.write_text(lines([FIND_ANA], "answer: x"))
    code, out, err = play(["maps_fan_out_join_01", "--responses", str(f), "--max-turns", "1"], capsys)
    assert code == 0
    assert "The episode reached --max-turns 1 without a final answer." in out
    assert (
        "success               no: no final answer (stopped: max_turns); 2 of 3 required steps not done"
        in out
    )
    assert err == (
        f"fanout play: warning: the episode ended at turn 1, so 1 response went unused (from line 2 of {f})\n"
    )


def test_usage_errors(tmp_path, capsys):
    code, _, err = play(["maps_fan_out_join_1"], capsys)
    assert code == 2
    assert err.startswith(
        "fanout play: no task 'maps_fan_out_join_1' in suite 'core'; did you mean maps_fan_out_join_01"
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text("[{}]\n")
    code, out, err = play(
        ["maps_fan_out_join_01", "--responses", str(bad), "--out", str(tmp_path / "o")], capsys
    )
    assert (code, out) == (2, "")
    assert err == f"fanout play: {bad}, line 1: call 1: missing field 'name'\n"
    assert not (tmp_path / "o").exists()
    code, _, err = play(["maps_fan_out_join_01", "--system-prompt", "nuetral"], capsys)
    assert code == 2
    assert "shipped system prompts by name: default, neutral" in err


# ----------------------------------------------------------------------------------------------
# the same runtime and scoring as `fanout run`


def test_playing_the_oracles_responses_scores_exactly_as_the_oracle(tmp_path, capsys):
    task = "orders_multi_wave_01"
    assert (
        main(
            ["run", "--model", "policy/oracle", "--task", task, "--out", str(tmp_path / "a"), "--no-progress"]
        )
        == 0
    )
    [run] = (tmp_path / "a").iterdir()
    ref = json.loads((run / "episodes.jsonl").read_text())
    trace = ref["trace"]
    by_turn: dict[int, list] = {}
    for c in trace["calls"]:
        by_turn.setdefault(c["turn"], []).append({"name": c["name"], "arguments": c["raw_arguments"]})
    responses = [by_turn[t] for t in sorted(by_turn)] + [{"answer": trace["final_text"]}]
    f = tmp_path / "oracle.jsonl"
    f.write_text(lines(*responses))
    capsys.readouterr()
    code, _, err = play(
        [task, "--responses", str(f), "--out", str(tmp_path / "b"), "--player", "oracle-copy"], capsys
    )
    assert code == 0
    [played] = (tmp_path / "b").iterdir()
    assert err == f"run: {played}\n"
    mine = json.loads((played / "episodes.jsonl").read_text())
    assert mine["scores"] == ref["scores"]
    cfg = json.loads((played / "run.json").read_text())
    assert (cfg["model"], cfg["task_ids"], cfg["status"]) == ("play/oracle-copy", [task], "complete")
    assert cfg["model_info"] == {"name": "play/oracle-copy", "player": "oracle-copy"}
    # The kept run folder is an ordinary one: replaying it through `fanout run` scores the same.
    argv = [
        "run",
        "--model",
        f"replay/{played}",
        "--task",
        task,
        "--out",
        str(tmp_path / "c"),
        "--no-progress",
    ]
    assert main(argv) == 0
    [replayed] = (tmp_path / "c").iterdir()
    again = json.loads((replayed / "episodes.jsonl").read_text())
    assert {k: v for k, v in again["scores"].items() if k != "cost_usd"} == {
        k: v for k, v in mine["scores"].items() if k != "cost_usd"
    }


def test_append_builds_one_play_run_from_many_tasks(tmp_path, capsys):
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    first.write_text(lines([FIND_ANA, FIND_HIRO], [dist("Lisbon", "Tokyo")], "answer: 11,144 km"))
    second.write_text(lines("answer: nothing to look up"))
    argv = ["maps_fan_out_join_01", "--responses", str(first), "--out", str(tmp_path / "runs")]
    assert play([*argv, "--player", "pat", "--system-prompt", "neutral"], capsys)[0] == 0
    [run] = (tmp_path / "runs").iterdir()
    before = json.loads((run / "run.json").read_text())
    # An abandoned episode never touches the run.
    short = tmp_path / "short.jsonl"
    short.write_text(lines([FIND_ANA]))
    assert play(["maps_fan_out_join_01", "--responses", str(short), "--append", str(run)], capsys)[0] == 2
    assert play(["analytics_independent_01", "--responses", str(short), "--append", str(run)], capsys)[0] == 2
    assert json.loads((run / "run.json").read_text())["task_ids"] == ["maps_fan_out_join_01"]
    code, _, err = play(
        ["hr_conditional_11", "--responses", str(second), "--append", str(run), "--seed", "9"], capsys
    )
    assert (code, err) == (0, f"run: {run} (+ hr_conditional_11)\n")
    cfg = json.loads((run / "run.json").read_text())
    assert cfg["task_ids"] == ["maps_fan_out_join_01", "hr_conditional_11"]
    assert (cfg["model"], cfg["runtime"]["seed"], cfg["system_prompt"]) == (
        "play/pat",
        0,
        "neutral",
    )  # from run.json
    assert cfg["prompt_hash"] != before["prompt_hash"]  # now over both tasks' prompts
    rows = [json.loads(x) for x in (run / "episodes.jsonl").read_text().splitlines()]
    assert [r["task_id"] for r in rows] == cfg["task_ids"]
    assert json.loads((run / "summary.json").read_text())["episodes"] == 2
    code, _, err = play(["hr_conditional_11", "--responses", str(second), "--append", str(run)], capsys)
    assert (code, err) == (2, f"fanout play: {run} already holds an episode of hr_conditional_11\n")
    code, _, err = play(["hr_conditional_11", "--append", str(run), "--out", str(tmp_path)], capsys)
    assert (code, err) == (2, "fanout play: --out and --append exclude each other\n")


def test_neutral_prompt_is_what_the_player_sees(tmp_path, capsys):
    f = tmp_path / "r.jsonl"
    f.write_text("answer: x\n")
    _, out, _ = play(["maps_fan_out_join_01", "--responses", str(f), "--system-prompt", "neutral"], capsys)
    system = out.split("== system prompt ==\n")[1].split("\n\n==")[0]
    assert "parallel" not in system and "several tools" not in system
    _, out, _ = play(["maps_fan_out_join_01", "--responses", str(f)], capsys)
    assert "You may call several tools in one response" in out


# ----------------------------------------------------------------------------------------------
# the explanation's argument diff agrees with the matcher


@pytest.fixture(scope="module")
def nodes(core):
    out = []
    for task in core.tasks[::3]:
        gt = resolve(task, 0)
        out.extend((gt, v) for v in gt.nodes)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_arg_diffs_empty_exactly_when_the_matcher_matches(nodes, data):
    gt, v = data.draw(st.sampled_from(nodes))
    node = gt.nodes[v]
    args = dict(node.args)
    props = sorted(gt.task.tool_by_name[node.tool].property_names())
    for _ in range(data.draw(st.integers(0, 2))):
        op = data.draw(st.sampled_from(["drop", "change", "case", "add", "unknown", "int"]))
        keys = sorted(args)
        if op == "drop" and keys:
            args.pop(data.draw(st.sampled_from(keys)))
        elif op == "change" and keys:
            args[data.draw(st.sampled_from(keys))] = data.draw(st.text(max_size=6) | st.integers(-3, 3))
        elif op == "case" and keys:
            k = data.draw(st.sampled_from(keys))
            if isinstance(args[k], str):
                args[k] = " " + args[k].upper()
        elif op == "add" and props:
            args[data.draw(st.sampled_from(props))] = data.draw(st.none() | st.booleans() | st.integers(0, 5))
        elif op == "unknown":
            args["zz_unknown"] = 1
        elif op == "int" and keys:
            k = data.draw(st.sampled_from(keys))
            if isinstance(args[k], int) and not isinstance(args[k], bool):
                args[k] = float(args[k])
    assert (not arg_diffs(gt, v, args)) == node.matcher.matches(args), (gt.task.id, v, args)


# ----------------------------------------------------------------------------------------------
# docs/play.md: every console block runs as written


def _doc_blocks(text: str):
    """(files to write, console blocks) of a Markdown page: a fenced block preceded by
    `<!-- file: NAME -->` is a file; a ```console block holds `$ ` commands and expected lines."""
    files, consoles = {}, []
    for m in re.finditer(r"(<!-- file: (\S+) -->\n)?```(\w*)\n(.*?)\n```", text, re.S):
        if m.group(2):
            files[m.group(2)] = m.group(4) + "\n"
        elif m.group(3) == "console":
            consoles.append(m.group(4))
    return files, consoles


def _commands(block: str):
    cmds: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            cmds.append((line[2:], []))
        else:
            cmds[-1][1].append(line)
    return cmds


def _in_order(expected: list[str], actual: list[str]) -> list[str]:
    """Expected lines not found, in order, among the actual lines (`...` skips anything; a line
    ending in `...` matches a line it begins)."""
    missing, i = [], 0

    def same(a: str, e: str) -> bool:
        e = e.rstrip()
        return a.startswith(e[:-3]) if e.endswith("...") else a.rstrip() == e

    for e in expected:
        if e == "...":
            continue
        j = next((k for k in range(i, len(actual)) if same(actual[k], e)), None)
        if j is None:
            missing.append(e)
        else:
            i = j + 1
    return missing


def test_docs_play_md_commands_run_as_written(tmp_path, capsys, monkeypatch):
    files, consoles = _doc_blocks(DOCS.read_text(encoding="utf-8"))
    assert {"distance.jsonl", "step.jsonl", "bad.jsonl"} <= set(files)
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ran = 0
    for block in consoles:
        for cmd, expected in _commands(block):
            argv_text, _, comment = cmd.partition("#")
            want = int(m.group(1)) if (m := re.search(r"exits (\d+)", comment)) else 0
            argv = shlex.split(argv_text)
            assert argv[0] == "fanout"
            typed = [m.group(2) for e in expected if (m := re.match(r"^(turn \d+|\.\.\.)> (.*)$", e))]
            stdin = "\n".join(typed) + "\n" if "--responses" not in argv else ""
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
            code = main(argv[1:])
            out = capsys.readouterr()
            assert code == want, (cmd, out.err)
            errs = [e for e in expected if e.startswith("fanout play:")]
            assert _in_order([e for e in expected if e not in errs], out.out.splitlines()) == [], cmd
            assert _in_order(errs, out.err.splitlines()) == [], (cmd, out.err)
            ran += 1
    assert ran == 4


@pytest.mark.parametrize(
    ("finish", "says"),
    [
        ("length", "cut off at the output token limit"),
        ("max_tokens", "cut off"),
        ("content_filter", "filter"),
    ],
)
def test_a_response_the_provider_cut_short_is_named_among_the_penalties(finish, says):
    """A truncated or filtered response is scored as written; the explanation says it was cut."""
    from helpers import graph_suite, make_trace

    from evals.explain import explain
    from evals.scoring import score

    suite = graph_suite({"one": {"a": []}})
    gt = resolve(suite.by_id["one"], 0)
    trace = make_trace(gt, [["a"]])
    plain = explain(gt, trace, score(gt, trace)).penalties
    trace.turns[-1].finish_reason = finish
    cut = explain(gt, trace, score(gt, trace)).penalties
    assert not any(says in p for p in plain)
    assert [p for p in cut if p not in plain] == [p for p in cut if says in p and p.startswith("turn 2:")]
    assert any(says in p for p in cut)
