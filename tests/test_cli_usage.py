"""The command line as a newcomer meets it: every bad value is one line, exit 2 and no run folder;
the conventions of inspect_ai and lm-eval (--limit, --sample-id, a budget, listing suites,
scaffolding one, opening the report); Ctrl-C and a spent budget say how to resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import sigint_default

from evals.cli import build_parser, main
from evals.errors import (
    EXIT_BUDGET,
    EXIT_INFRASTRUCTURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    ProviderFatalError,
)

TASK = ["--task", "orders_chain_01"]


def _one_line_usage_error(capsys, code: int) -> str:
    err = capsys.readouterr().err
    assert code == EXIT_USAGE, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err and "usage:" not in err
    return err


# Item 3 of issue 17, one case per probe, plus the flags added since: (argv, environment, message).
BAD_RUN_VALUES = [
    (["--epochs", "0"], {}, "fanout run: argument --epochs: expected an integer >= 1, not '0'"),
    (["--epochs", "-1"], {}, "fanout run: argument --epochs: expected an integer >= 1, not '-1'"),
    (
        ["--fan-out-cap", "-3"],
        {},
        "fanout run: --fan-out-cap '-3': Input should be greater than or equal to 1",
    ),
    (["--fan-out-cap", "0"], {}, "fanout run: --fan-out-cap '0': Input should be greater than or equal to 1"),
    (["--tool-timeout", "0"], {}, "fanout run: --tool-timeout '0': Input should be greater than 0"),
    (["--max-turns", "0"], {}, "fanout run: --max-turns '0': Input should be greater than or equal to 1"),
    (
        ["--inference-profile", "quick"],
        {},
        "fanout run: --inference-profile 'quick': unknown inference profile",
    ),
    (["--latency-profile", "heavy"], {}, "fanout run: --latency-profile 'heavy': unknown latency profile"),
    (["--out", "{file}"], {}, "fanout run: --out {file}: is a file, not a folder"),
    ([], {"FANOUT_EPOCHS": "abc"}, "fanout run: FANOUT_EPOCHS 'abc': expected an integer >= 1, not 'abc'"),
    ([], {"FANOUT_CLOCK": "fake"}, "fanout run: FANOUT_CLOCK 'fake': Input should be 'virtual' or 'real'"),
    (["--max-concurrency", "0"], {}, "fanout run: argument --max-concurrency: expected an integer >= 1"),
    (
        [],
        {"FANOUT_MAX_CONCURRENCY": "many"},
        "fanout run: FANOUT_MAX_CONCURRENCY 'many': expected an integer",
    ),
    (["--limit", "0"], {}, "fanout run: argument --limit: expected an integer >= 1, not '0'"),
    ([], {"FANOUT_LIMIT": "-2"}, "fanout run: FANOUT_LIMIT '-2': expected an integer >= 1"),
    (
        ["--sample-id", "orders_chain_0l"],
        {},
        "fanout run: --sample-id 'orders_chain_0l': suite 'core' has no such task",
    ),
    (["--max-cost-usd", "0"], {}, "fanout run: argument --max-cost-usd: expected a number > 0, not '0'"),
    (["--max-cost-usd", "5"], {}, "fanout run: --max-cost-usd: no price for policy/oracle"),
    (["--max-tokens", "0"], {}, "fanout run: argument --max-tokens: expected an integer >= 1, not '0'"),
    ([], {"FANOUT_MAX_TOKENS": "lots"}, "fanout run: FANOUT_MAX_TOKENS 'lots': expected an integer >= 1"),
    ([], {"FANOUT_NO_PROGRESS": "maybe"}, "fanout run: FANOUT_NO_PROGRESS 'maybe': expected true or false"),
    (["--request-timeout", "nan"], {}, "fanout run: argument --request-timeout: expected a number > 0"),
    (["--seed", "x"], {}, "fanout run: --seed 'x': Input should be a valid integer"),
    (["--suite", "no_such_suite"], {}, "fanout run: no suite 'no_such_suite'"),
    (
        ["--epochs", "100000000000000000000"],
        {},
        "fanout run: argument --epochs: expected an integer from 1 to",
    ),
    (
        [],
        {"FANOUT_REASONING_EFFORT": "ultra"},
        "fanout run: FANOUT_REASONING_EFFORT 'ultra': expected one of none, minimal",
    ),
    (["--prices", "{file}"], {}, "fanout run: price file {file} is not JSON"),
    (["--prices", "{file}.missing"], {}, "fanout run: cannot read the price file {file}.missing"),
    ([], {"FANOUT_PRICES": "{file}"}, "fanout run: price file {file} is not JSON"),
    (["--extra-body", "[1]"], {}, "fanout run: argument --extra-body: expected a non-empty JSON object"),
    (["--extra-body", "x"], {}, "fanout run: argument --extra-body: expected a JSON object"),
    (["--tmeperature", "0"], {}, "fanout run: unrecognized arguments: --tmeperature 0"),
]


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    BAD_RUN_VALUES,
    ids=[" ".join(a) or " ".join(f"{k}={v}" for k, v in e.items()) for a, e, _ in BAD_RUN_VALUES],
)
def test_a_bad_run_value_is_one_line_exit_2_and_no_run_folder(
    tmp_path, monkeypatch, capsys, argv, env, message
):
    afile = tmp_path / "afile"
    for k, v in env.items():
        monkeypatch.setenv(k, v.format(file=afile))
    monkeypatch.chdir(tmp_path)
    afile.write_text("not a folder")
    argv = [a.format(file=afile) for a in argv]
    out = tmp_path / "runs"
    if "--out" not in argv:
        argv += ["--out", str(out)]
    err = _one_line_usage_error(capsys, main(["run", "--model", "policy/oracle", *TASK, *argv]))
    assert err.startswith(message.format(file=afile)), err
    assert not out.exists() and afile.read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # nothing else was made


def test_resume_refuses_settings_it_would_ignore(tmp_path, monkeypatch, capsys):
    out = tmp_path / "r"
    assert main(["run", "--model", "policy/oracle", *TASK, "--out", str(out), "--no-progress"]) == 0
    (run_dir,) = out.iterdir()
    before = (run_dir / "run.json").read_text()
    for extra in (["--epochs", "3"], ["--model", "policy/greedy"], ["--fan-out-cap", "2"], ["-M", "a=1"]):
        capsys.readouterr()
        err = _one_line_usage_error(capsys, main(["run", "--resume", str(run_dir), *extra]))
        assert err.startswith("fanout run: --resume continues a run with the settings in its run.json; ")
        assert f"{extra[0]} would be ignored" in err
    assert (run_dir / "run.json").read_text() == before
    # A flag typed with its default value is refused too: `--epochs 1` on a three-epoch run
    # would be ignored as surely as `--epochs 5` (abbreviated and `=` forms included).
    typed = {
        "--epochs": ["--epochs", "1"],
        "--epochs ": ["--epo", "1"],
        "--max-concurrency": ["--max-concurrency=32"],
        "--suite": ["--suite", "core"],
    }
    for flag, extra in typed.items():
        err = _one_line_usage_error(capsys, main(["run", "--resume", str(run_dir), *extra]))
        assert f"; {flag.strip()} would be ignored" in err
    assert (run_dir / "run.json").read_text() == before
    # A budget is checked on resume as on a new run: an unpriced model's spending cannot be counted.
    err = _one_line_usage_error(capsys, main(["run", "--resume", str(run_dir), "--max-cost-usd", "1"]))
    assert err.startswith("fanout run: --max-cost-usd: no price for policy/oracle")
    monkeypatch.setenv("FANOUT_EPOCHS", "3")  # the environment is not the command line: it resumes
    assert main(["run", "--resume", str(run_dir), "--no-progress"]) == EXIT_OK
    capsys.readouterr()


def test_unknown_flags_are_named_for_their_subcommand(capsys):
    err = _one_line_usage_error(capsys, main(["tasks", "list", "core", "--patern", "single"]))
    assert (
        err == "fanout tasks list: unrecognized arguments: --patern single (see fanout tasks list --help)\n"
    )


def test_extra_body_merges_into_the_request_body_key_by_key():
    from evals.cli.provider_flags import model_options
    from evals.models.http import params_into

    args = build_parser().parse_args(
        ["run", "--extra-body", '{"thinking": {"type": "adaptive"}, "top_k": 40}', "-M", "top_k=20"]
    )
    opts = model_options(args)
    assert opts["params"] == {"thinking.type": "adaptive", "top_k": 20}  # -M after --extra-body wins
    body = {"thinking": {"budget_tokens": 2048}, "model": "m"}
    params_into(body, opts["params"])
    assert body == {"thinking": {"budget_tokens": 2048, "type": "adaptive"}, "model": "m", "top_k": 20}


def test_no_model_is_an_error_not_a_default(tmp_path, capsys):
    err = _one_line_usage_error(capsys, main(["run", *TASK, "--out", str(tmp_path / "r")]))
    assert err.startswith("fanout run: no model given: --model M")
    assert not (tmp_path / "r").exists()


def test_every_missing_provider_key_is_named_before_any_model_runs(tmp_path, monkeypatch, capsys):
    for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(k, raising=False)
    argv = ["run", "--model", "policy/oracle", "--model", "openai/x", "--model", "anthropic/y", *TASK]
    err = _one_line_usage_error(capsys, main([*argv, "--out", str(tmp_path / "r")]))
    assert "openai/x: set OPENAI_API_KEY" in err and "anthropic/y: set ANTHROPIC_API_KEY" in err
    assert not (tmp_path / "r").exists()


def test_a_bad_env_value_does_not_break_other_commands(monkeypatch, capsys):
    monkeypatch.setenv("FANOUT_EPOCHS", "abc")
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert main(["tasks", "list", "core", "--pattern", "single"]) == EXIT_OK
    capsys.readouterr()


@pytest.mark.parametrize(
    ("text", "hidden"), [("0", False), ("false", False), ("no", False), ("1", True), ("true", True)]
)
def test_fanout_no_progress_reads_booleans(monkeypatch, text, hidden):
    monkeypatch.setenv("FANOUT_NO_PROGRESS", text)
    assert build_parser().parse_args(["run"]).no_progress is hidden


def test_whatif_and_report_out_a_file_are_one_line(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["run", "--model", "policy/oracle", *TASK, "--out", str(runs), "--no-progress"]) == 0
    afile = tmp_path / "afile"
    afile.write_text("x")
    capsys.readouterr()
    err = _one_line_usage_error(capsys, main(["whatif", str(runs), "--out", str(afile)]))
    assert err.startswith(f"fanout whatif: --out {afile}: is a file")
    err = _one_line_usage_error(capsys, main(["report", str(runs), "--out", str(afile)]))
    assert err.startswith(f"fanout report: --out {afile}: is a file")
    assert afile.read_text() == "x"


def test_a_fixture_typo_names_the_unknown_key(tmp_path, capsys):
    suite = tmp_path / "typo"
    suite.mkdir()
    (suite / "tasks.yaml").write_text(
        "- id: t1\n  patern: single\n  prompt: Weather in Lisbon?\n  tools: [get_weather]\n"
        "  calls: [{id: w, tool: get_weather, args: {city: Lisbon}}]\n"
        '  answer: {contains: ["{{ w.temp_c }}"]}\n'
    )
    assert main(["tasks", "validate", str(suite)]) == 1
    err = capsys.readouterr().err
    assert "task 't1': patern: unknown key (did you mean 'pattern'?)" in err


# -- selecting tasks --------------------------------------------------------------------------


def _task_ids(run_dir: Path) -> list[str]:
    return json.loads((run_dir / "run.json").read_text())["task_ids"]


def test_limit_and_sample_id_pick_the_tasks(tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        main(["run", "--model", "policy/oracle", "--limit", "3", "--out", str(out / "a"), "--no-progress"])
        == 0
    )
    (a,) = (out / "a").iterdir()
    assert len(_task_ids(a)) == 3
    argv = ["run", "--model", "policy/oracle", "--sample-id", "orders_chain_02,users_chain_01"]
    assert main([*argv, "--sample-id", "weather_single_01", "--out", str(out / "b"), "--no-progress"]) == 0
    (b,) = (out / "b").iterdir()
    assert _task_ids(b) == ["orders_chain_02", "users_chain_01", "weather_single_01"]
    argv = ["run", "--model", "policy/oracle", "--task", "*_chain_*", "--limit", "2", "--out", str(out / "c")]
    assert main([*argv, "--no-progress"]) == 0
    (c,) = (out / "c").iterdir()
    ids = _task_ids(c)
    assert len(ids) == 2 and all("_chain_" in i for i in ids)
    capsys.readouterr()


def _prices(tmp_path: Path) -> Path:
    p = tmp_path / "prices.json"
    p.write_text(json.dumps({"policy/oracle": {"input": 100.0, "output": 400.0}}))
    return p


def test_a_budget_stops_the_run_cleanly_and_it_resumes(tmp_path, capsys):
    out = tmp_path / "r"
    argv = ["run", "--model", "policy/oracle", "--task", "*_chain_*", "--prices", str(_prices(tmp_path))]
    argv += ["--max-concurrency", "1", "--out", str(out), "--no-progress", "--max-cost-usd", "0.5"]
    assert main(argv) == EXIT_BUDGET  # not 0: a CI job tells a budget stop from a finished run
    captured = capsys.readouterr()
    (run_dir,) = out.iterdir()
    cfg = json.loads((run_dir / "run.json").read_text())
    done = (run_dir / "episodes.jsonl").read_text().splitlines()
    spent = sum(json.loads(line)["scores"]["cost_usd"] for line in done)
    assert cfg["status"] == "interrupted" and 0 < len(done) < len(cfg["task_ids"])
    assert spent >= 0.5 and spent - json.loads(done[-1])["scores"]["cost_usd"] < 0.5  # stopped at once
    assert "budget of $0.5 reached" in captured.err
    assert f"fanout run --resume {run_dir} --max-cost-usd 0.5" in captured.err
    resumed = ["run", "--resume", str(run_dir), "--no-progress"]
    assert main([*resumed, "--max-cost-usd", "0.5"]) == EXIT_BUDGET  # another $0.5, then it stops again
    assert len((run_dir / "episodes.jsonl").read_text().splitlines()) < len(cfg["task_ids"])
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    assert main(resumed) == EXIT_OK
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
    capsys.readouterr()


def test_ctrl_c_prints_the_resume_command(tmp_path, monkeypatch, capsys):
    async def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("evals.cli.run.execute", interrupted)
    out = tmp_path / "r"
    assert (
        main(["run", "--model", "policy/oracle", *TASK, "--out", str(out), "--no-progress"])
        == EXIT_INTERRUPTED
    )
    (run_dir,) = out.iterdir()
    err = capsys.readouterr().err
    hint = f"fanout run: interrupted; resume with:\n  fanout run --resume {run_dir}\n"
    assert err == hint  # one message: no bare `interrupted` line after the hint
    assert main(["run", "--resume", str(run_dir), "--no-progress"]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err == hint


def test_a_finished_models_row_survives_a_later_models_failure(tmp_path, monkeypatch, capsys):
    from evals.cli import run as run_cmd

    real = run_cmd.execute

    async def second_fails(run_dir, cfg, model, suite, **kw):
        if cfg.model == "policy/sequential":
            raise ProviderFatalError("policy/sequential: HTTP 401: invalid key")
        return await real(run_dir, cfg, model, suite, **kw)

    monkeypatch.setattr("evals.cli.run.execute", second_fails)
    argv = ["run", "--model", "policy/oracle", "--model", "policy/sequential", *TASK, "--no-progress"]
    assert main([*argv, "--out", str(tmp_path / "r")]) == EXIT_INFRASTRUCTURE
    captured = capsys.readouterr()
    assert captured.out.splitlines()[1].startswith("policy/oracle ")
    assert "HTTP 401" in captured.err


# -- suites, scaffolding, the report and opening it -------------------------------------------


def test_tasks_suites_lists_local_and_shipped_suites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["tasks", "init", "mine"]) == EXIT_OK
    capsys.readouterr()
    assert main(["tasks", "suites", "--json"]) == EXIT_OK
    rows = {r["name"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["mine"]["where"] == str(Path("tasks") / "mine") and rows["mine"]["tasks"] == 7
    assert rows["core"]["where"] == "shipped with the package" and rows["core"]["tasks"] >= 186


def test_tasks_init_scaffolds_a_suite_that_validates_and_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["tasks", "init", "starter"]) == EXIT_OK
    assert main(["tasks", "validate", "tasks/starter", "--strict", "--seeds", "0,1,2"]) == EXIT_OK
    assert main(["tasks", "stats", "tasks/starter", "--json"]) == EXIT_OK
    capsys.readouterr()
    assert main(["tasks", "list", "tasks/starter", "--json"]) == EXIT_OK
    patterns = [json.loads(line)["pattern"] for line in capsys.readouterr().out.splitlines()]
    assert sorted(patterns) == sorted(
        ["single", "independent", "chain", "fan_out_join", "write_then_read", "conditional", "no_tool"]
    )
    assert main(["run", "--suite", "tasks/starter", "--model", "policy/oracle", "--no-progress"]) == EXIT_OK
    capsys.readouterr()
    err = _one_line_usage_error(capsys, main(["tasks", "init", "starter"]))
    assert "exists and is not an empty folder" in err
    err = _one_line_usage_error(capsys, main(["tasks", "init", "9 bad"]))
    assert "use letters, digits" in err


def test_report_without_out_writes_a_fresh_folder_and_view_opens_it(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--model", "policy/oracle", *TASK, "--out", "runs", "--no-progress"]) == 0
    published = tmp_path / "reports"
    published.mkdir()
    (published / "leaderboard.html").write_text("published")
    capsys.readouterr()
    assert main(["report", "runs"]) == EXIT_OK
    out = capsys.readouterr().out
    (folder,) = (tmp_path / "runs").glob("report-*")
    assert f"{Path('runs') / folder.name / 'leaderboard.html'}" in out and "fanout view" in out
    assert (published / "leaderboard.html").read_text() == "published"  # never overwritten
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda uri: opened.append(uri) or True)
    assert main(["view"]) == EXIT_OK
    assert opened == [(folder / "leaderboard.html").resolve().as_uri()]
    assert main(["view", str(folder)]) == EXIT_OK and opened[-1] == opened[0]
    monkeypatch.setattr("webbrowser.open", lambda uri: False)  # no browser: the address is printed
    capsys.readouterr()
    assert main(["view", str(folder / "leaderboard.html")]) == EXIT_OK
    assert capsys.readouterr().out.startswith("open file://")
    err = _one_line_usage_error(capsys, main(["view", "nowhere"]))
    assert err.startswith("fanout view: nowhere: no such file or folder")


def test_gate_and_compare_take_the_out_folders_of_two_runs(tmp_path, capsys):
    base, cand = tmp_path / "base", tmp_path / "cand"
    for out, extra in ((base, []), (cand, ["--system-prompt", "neutral"])):
        argv = [
            "run",
            "--model",
            "policy/oracle",
            "--model",
            "policy/sequential",
            "--task",
            "*_independent_*",
        ]
        assert main([*argv, *extra, "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    junit = tmp_path / "g.xml"
    assert main(["gate", str(base), str(cand), "--junit", str(junit)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "== policy/oracle ==" in out and "== policy/sequential ==" in out
    assert junit.read_text().count("<testsuite ") == 2
    assert main(["compare", str(base), str(cand)]) == EXIT_OK
    assert capsys.readouterr().out.count("fanout compare:") == 2
    argv = [
        "run",
        "--model",
        "policy/oracle",
        "--task",
        "*_independent_*",
        "--out",
        str(base),
        "--no-progress",
    ]
    assert main(argv) == 0  # a second oracle run: the folder no longer names one run per model
    capsys.readouterr()
    err = _one_line_usage_error(capsys, main(["gate", str(base), str(cand)]))
    assert "holds 2 runs" in err and "policy/oracle" in err


def test_a_real_ctrl_c_prints_the_resume_command(tmp_path):
    """SIGINT to a real `fanout run` process (real clock, so episodes take time): exit 130, no
    traceback, the run folder `interrupted` with the finished episodes kept, and the resume
    command printed (finishing it is tested in virtual time above; here it would take a minute);
    a resume that tries to switch the clock is refused rather than mixing two clocks in one run."""
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "r"
    argv = [sys.executable, "-m", "evals", "run", "--model", "policy/oracle", "--task", "*_chain_*"]
    argv += ["--clock", "real", "--max-concurrency", "1", "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        preexec_fn=sigint_default,
    )
    deadline = time.monotonic() + 60
    episodes = None
    while time.monotonic() < deadline:
        found = list(out.glob("*/episodes.jsonl"))
        if found and found[0].stat().st_size:
            episodes = found[0]
            break
        time.sleep(0.05)
    assert episodes is not None, proc.communicate(timeout=30)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED, stderr
    run_dir = episodes.parent
    assert stderr.endswith(f"fanout run: interrupted; resume with:\n  fanout run --resume {run_dir}\n")
    assert "Traceback" not in stderr
    cfg = json.loads((run_dir / "run.json").read_text())
    done = len((run_dir / "episodes.jsonl").read_text().splitlines())
    assert cfg["status"] == "interrupted" and 0 < done < len(cfg["task_ids"])
    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "evals",
            "run",
            "--resume",
            str(run_dir),
            "--no-progress",
            "--clock",
            "virtual",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ},
    )
    assert resumed.returncode == EXIT_USAGE and "--clock would be ignored" in resumed.stderr


def test_two_reports_started_in_the_same_second_get_two_folders(tmp_path, monkeypatch, capsys):
    """A second `fanout report` (or `fanout view RUNS`) that starts in the same second as the first,
    and finishes while the first is still reading its runs, must not share the first's folder."""
    import datetime as dt
    import types

    import evals.cli.report as report_cli
    import evals.report.build as build

    monkeypatch.chdir(tmp_path)
    assert main(["run", "--model", "policy/oracle", *TASK, "--out", "runs", "--no-progress"]) == 0

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return cls(2026, 1, 2, 3, 4, 5)

    monkeypatch.setattr(report_cli, "_dt", types.SimpleNamespace(datetime=Frozen))
    real_load_runs, inner = build.load_runs, []

    def load_runs(dirs):  # the other report runs from start to end while this one reads
        if not inner:
            inner.append(None)
            inner[0] = main(["report", "runs"])
        return real_load_runs(dirs)

    monkeypatch.setattr(build, "load_runs", load_runs)
    capsys.readouterr()
    assert main(["report", "runs"]) == EXIT_OK and inner == [EXIT_OK]
    out = capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "runs").glob("report-*"))
    assert names == ["report-20260102-030405", "report-20260102-030405-2"]
    for name in names:  # each report names its own folder, and each holds all four files
        assert f"fanout view {Path('runs') / name}" in out
        assert len(list((tmp_path / "runs" / name).glob("leaderboard.*"))) == 4
    assert main(["view", "--no-browser", "runs"]) == EXIT_OK  # a report of runs/: the next free suffix
    assert "report-20260102-030405-3" in capsys.readouterr().out
    assert main(["report", "nowhere"]) == EXIT_USAGE  # a report that fails claims no folder
    assert len(list((tmp_path / "runs").glob("report-*"))) == 3


def test_fresh_report_folder_is_made_when_it_is_claimed(tmp_path):
    from datetime import datetime

    from evals.cli.report import fresh_folder

    now = datetime(2026, 1, 2, 3, 4, 5)
    first, second = fresh_folder(tmp_path / "runs", now), fresh_folder(tmp_path / "runs", now)
    assert (first.name, second.name) == ("report-20260102-030405", "report-20260102-030405-2")
    assert first.is_dir() and second.is_dir()


def test_run_on_a_suite_with_no_tasks_is_one_line_and_leaves_no_folder(tmp_path, capsys):
    empty, out = tmp_path / "empty", tmp_path / "r"
    empty.mkdir()
    err = _one_line_usage_error(
        capsys, main(["run", "--model", "policy/oracle", "--suite", str(empty), "--out", str(out)])
    )
    assert err == f"fanout run: suite 'empty' holds no tasks: {empty} has no task file (*.yaml, *.yml)\n"
    assert not out.exists()


def test_no_task_matches_names_only_the_filters_given(tmp_path, capsys):
    out = tmp_path / "r"
    run = ["run", "--model", "policy/oracle", "--out", str(out)]
    err = _one_line_usage_error(capsys, main([*run, "--task", "nothing_*"]))
    assert err == "fanout run: no task of suite 'core' matches ['nothing_*']\n"
    err = _one_line_usage_error(capsys, main([*run, "--task", "nothing_*", "--limit", "1"]))
    assert err == "fanout run: no task of suite 'core' matches --task ['nothing_*']\n"
    err = _one_line_usage_error(capsys, main([*run, "--task", "nothing_*", "--sample-id", "orders_chain_01"]))
    assert err == (
        "fanout run: no task of suite 'core' matches --task ['nothing_*'] and --sample-id ['orders_chain_01']\n"
    )
    assert not out.exists()


def test_run_on_a_suite_export_says_run_reads_yaml_suites_only(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["tasks", "export", "core", "--format", "jsonl", "--out", "core.jsonl"]) == EXIT_OK
    capsys.readouterr()
    err = _one_line_usage_error(
        capsys, main(["run", "--model", "policy/oracle", "--suite", "core.jsonl", "--out", "r"])
    )
    assert err.startswith("fanout run: core.jsonl: a JSONL export is not a suite `fanout run` reads")
    assert "YAML" in err and "docs/tasks.md" in err
    dataset = tmp_path / "core_dataset"  # a `--format hf` folder, without building one
    dataset.mkdir()
    (dataset / "dataset_info.json").write_text("{}")
    err = _one_line_usage_error(
        capsys, main(["run", "--model", "policy/oracle", "--suite", str(dataset), "--out", "r"])
    )
    assert err.startswith(f"fanout run: {dataset}: a datasets export is not a suite `fanout run` reads")
    assert not (tmp_path / "r").exists()


def test_run_on_a_task_whose_ground_truth_does_not_resolve_is_one_line_and_leaves_no_folder(tmp_path, capsys):
    suite, out = tmp_path / "gt", tmp_path / "r"
    suite.mkdir()
    (suite / "tasks.yaml").write_text(
        "- id: nobody_single_01\n"
        "  pattern: single\n"
        '  prompt: "Who is nobody@nowhere.com?"\n'
        "  tools: [find_user]\n"
        "  calls:\n"
        "    - {id: a, tool: find_user, args: {email: nobody@nowhere.com}}\n"
    )
    problem = (
        "gt/tasks.yaml: task 'nobody_single_01': node 'a': ground-truth call "
        """find_user({"email":"nobody@nowhere.com"}) failed: no user with email 'nobody@nowhere.com'"""
    )
    run = ["run", "--model", "policy/oracle", "--model", "policy/sequential", "--suite", str(suite)]
    err = _one_line_usage_error(capsys, main([*run, "--out", str(out)]))  # with the progress bar
    assert err == f"fanout run: {problem}\n"
    assert not out.exists()
    assert main(["tasks", "validate", str(suite)]) == 1  # validate lists the same problem
    assert f"  - {problem}\n" in capsys.readouterr().err


def test_sigterm_cancels_a_run_at_an_await_as_ctrl_c_does():
    """SIGTERM is handed to the SIGINT handler: inside asyncio.run that cancels the main task at
    its next await, so no write is cut short (raising KeyboardInterrupt in the handler once hit
    pydantic mid-serialisation: a traceback, exit 1, the run marked `stopped`)."""
    import asyncio
    import signal

    from evals.cli.run import _sigterm_interrupts

    steps: list[str] = []

    async def run() -> None:
        try:
            signal.raise_signal(signal.SIGTERM)
            steps.append("the code between awaits finished")
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            steps.append("cancelled at the await")
            raise

    with _sigterm_interrupts(), pytest.raises(KeyboardInterrupt):
        asyncio.run(run())
    assert steps == ["the code between awaits finished", "cancelled at the await"]
    with _sigterm_interrupts(), pytest.raises(KeyboardInterrupt):  # outside a loop: Ctrl-C's own
        signal.raise_signal(signal.SIGTERM)


def test_an_interrupt_a_library_wrapped_while_folders_are_made_is_still_an_interrupt(
    tmp_path, monkeypatch, capsys
):
    """SIGTERM landing inside pydantic while a task is serialised came out as a
    PydanticSerializationError: a traceback, exit 1, and the folders made so far left `running`.
    It is an interrupt: exit 130 and, since nothing ran, no folder."""
    import signal

    import evals.runs as runs

    write = runs.write_json_atomic
    calls = {"n": 0}

    def wrapped_interrupt(path, data):
        calls["n"] += 1
        if calls["n"] == 2:  # the second model's run.json
            try:
                signal.raise_signal(signal.SIGTERM)
            except KeyboardInterrupt:
                raise ValueError("Error serializing to JSON: KeyboardInterrupt: ") from None
        return write(path, data)

    monkeypatch.setattr(runs, "write_json_atomic", wrapped_interrupt)
    out = tmp_path / "r"
    argv = ["run", "--model", "policy/oracle", "--model", "policy/lazy", *TASK, "--out", str(out)]
    assert main([*argv, "--no-progress"]) == EXIT_INTERRUPTED
    assert "Traceback" not in capsys.readouterr().err
    assert not out.exists()
