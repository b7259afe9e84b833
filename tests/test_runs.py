"""Run folders, summary keys, env-var flags, determinism, and resume after a real SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from evals.aggregate import SUMMARY_KEYS
from evals.cli import main as fanout
from evals.prices import load_prices
from evals.runs import load_run, read_episodes, run_folders_in


def make_suite(root: Path, n: int = 24, latency: float = 0.05) -> Path:
    """A synthetic suite of `n` small fan-out-then-join tasks over one table tool."""
    d = root / "synth"
    d.mkdir()
    (d / "suite.yaml").write_text(
        textwrap.dedent(f"""
        name: synth
        tools:
          - name: lookup
            description: Look up a key.
            parameters: {{type: object, properties: {{key: {{type: string}}}}, required: [key]}}
            latency: {{kind: fixed, median_s: {latency}}}
            default: {{value: found}}
    """)
    )
    tasks = []
    for i in range(n):
        tasks.append(
            {
                "id": f"t{i:03d}",
                "pattern": "fan_out_join",
                "prompt": f"Look up k{i}a and k{i}b, then k{i}c.",
                "tools": ["lookup"],
                "calls": [
                    {"id": "a", "tool": "lookup", "args": {"key": f"k{i}a"}},
                    {"id": "b", "tool": "lookup", "args": {"key": f"k{i}b"}},
                    {"id": "c", "tool": "lookup", "args": {"key": f"k{i}c"}, "after": ["a", "b"]},
                ],
                "answer": {"contains": ["{{ c.value }}"]},
            }
        )
    (d / "tasks.yaml").write_text(json.dumps(tasks))
    return d


def run_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if (p / "run.json").exists())


def oracle_run(tmp_path: Path) -> Path:
    """The oracle's run folder on a 4-task synthetic suite."""
    suite, out = make_suite(tmp_path, n=4), tmp_path / "runs"
    argv = ["run", "--model", "policy/oracle", "--suite", str(suite), "--out", str(out), "--no-progress"]
    assert fanout(argv) == 0
    return run_dirs(out)[0]


def test_run_folder_layout_and_summary(tmp_path, capsys):
    suite = make_suite(tmp_path, n=6)
    out = tmp_path / "runs"
    code = fanout(
        [
            "run",
            "--model",
            "policy/oracle",
            "--model",
            "policy/greedy",
            "--suite",
            str(suite),
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "policy/oracle" in printed and "policy/greedy" in printed
    dirs = run_dirs(out)
    assert len(dirs) == 2
    for d in dirs:
        cfg, rows = load_run(d)
        assert cfg.status == "complete" and cfg.suite == "synth" and len(cfg.suite_hash) == 16
        assert len(rows) == 6 and {r["task_id"] for r in rows} == set(cfg.task_ids)
        summary = json.loads((d / "summary.json").read_text())
        assert set(SUMMARY_KEYS) <= summary.keys()
        assert summary["cost_usd"] is None  # policies have no price: unknown, never 0
        assert rows[0]["trace"]["calls"][0]["cls"] in ("correct", "premature")
    oracle = (
        json.loads((dirs[1] / "summary.json").read_text())
        if "oracle" in dirs[1].name
        else json.loads((dirs[0] / "summary.json").read_text())
    )
    assert oracle["success_rate"] == 1.0 and oracle["fan_out_recall"] == 1.0


def test_same_inputs_and_seed_give_identical_results(tmp_path):
    suite = make_suite(tmp_path, n=5)
    for name in ("a", "b"):
        assert (
            fanout(
                [
                    "run",
                    "--model",
                    "policy/redundant",
                    "--suite",
                    str(suite),
                    "--out",
                    str(tmp_path / name),
                    "--seed",
                    "7",
                    "--no-progress",
                ]
            )
            == 0
        )
    sa, sb = (json.loads((run_dirs(tmp_path / n)[0] / "summary.json").read_text()) for n in ("a", "b"))
    sa.pop("run_id"), sb.pop("run_id")
    assert json.dumps(sa, sort_keys=True) == json.dumps(sb, sort_keys=True)
    ra, rb = (
        sorted(read_episodes(run_dirs(tmp_path / n)[0] / "episodes.jsonl"), key=lambda r: r["task_id"])
        for n in ("a", "b")
    )
    assert json.dumps(ra, sort_keys=True) == json.dumps(rb, sort_keys=True)


def test_flags_read_environment_variables(tmp_path, monkeypatch):
    suite = make_suite(tmp_path, n=2)
    monkeypatch.setenv("FANOUT_SEED", "11")
    monkeypatch.setenv("FANOUT_FAN_OUT_CAP", "1")
    monkeypatch.setenv("FANOUT_MODEL", "policy/sequential")
    assert fanout(["run", "--suite", str(suite), "--out", str(tmp_path / "r"), "--no-progress"]) == 0
    cfg, _ = load_run(run_dirs(tmp_path / "r")[0])
    assert (cfg.runtime.seed, cfg.runtime.fan_out_cap, cfg.model) == (11, 1, "policy/sequential")


def test_misuse_exits_2(tmp_path, capsys):
    assert fanout(["run", "--model", "nope", "--suite", "core", "--out", str(tmp_path)]) == 2
    assert (
        fanout(
            ["run", "--model", "policy/oracle", "--suite", str(tmp_path / "missing"), "--out", str(tmp_path)]
        )
        == 2
    )
    assert (
        fanout(
            [
                "run",
                "--model",
                "policy/oracle",
                "--task",
                "zzz*",
                "--suite",
                str(make_suite(tmp_path, 1)),
                "--out",
                str(tmp_path),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "provider" in err and "no suite" in err and "no task" in err


def test_torn_last_line_is_dropped_and_resume_completes(tmp_path):
    d = oracle_run(tmp_path)
    lines = (d / "episodes.jsonl").read_text().splitlines(keepends=True)
    (d / "episodes.jsonl").write_text("".join(lines[:2]) + lines[2][: len(lines[2]) // 2])
    assert len(read_episodes(d / "episodes.jsonl")) == 2
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0
    rows = read_episodes(d / "episodes.jsonl")
    assert sorted(r["task_id"] for r in rows) == [f"t{i:03d}" for i in range(4)]
    assert load_run(d)[0].status == "complete"


def test_resume_after_sigkill_has_every_task_exactly_once(tmp_path):
    suite = make_suite(tmp_path, n=40, latency=0.05)
    out = tmp_path / "runs"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [
        sys.executable,
        "-m",
        "evals",
        "run",
        "--model",
        "policy/sequential",
        "--suite",
        str(suite),
        "--out",
        str(out),
        "--clock",
        "real",
        "--inference-profile",
        "fast",
        "--max-concurrency",
        "4",
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            dirs = run_dirs(out) if out.exists() else []
            if dirs and len(read_episodes(dirs[0] / "episodes.jsonl")) >= 5:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    d = run_dirs(out)[0]
    before = read_episodes(d / "episodes.jsonl")
    assert 5 <= len(before) < 40, "the kill must land mid-run"
    assert load_run(d)[0].status == "running"
    res = subprocess.run(
        [sys.executable, "-m", "evals", "run", "--resume", str(d), "--no-progress"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    rows = read_episodes(d / "episodes.jsonl")
    ids = [r["task_id"] for r in rows]
    assert len(ids) == len(set(ids)) == 40
    assert load_run(d)[0].status == "complete"
    assert json.loads((d / "summary.json").read_text())["episodes"] == 40


def test_resume_refuses_a_changed_suite(tmp_path, capsys):
    suite = make_suite(tmp_path, n=2)
    out = tmp_path / "runs"
    assert (
        fanout(["run", "--model", "policy/oracle", "--suite", str(suite), "--out", str(out), "--no-progress"])
        == 0
    )
    data = json.loads((suite / "tasks.yaml").read_text())
    data[0]["prompt"] = "Something else entirely."
    (suite / "tasks.yaml").write_text(json.dumps(data))
    assert fanout(["run", "--resume", str(run_dirs(out)[0])]) == 2
    assert "changed" in capsys.readouterr().err


def test_resume_refuses_a_changed_price_table(tmp_path, capsys):
    """Each episode is priced when scored: a resume under another table would price one run two
    ways (a shipped table updated by an upgrade, or the run's --prices file edited)."""
    suite = make_suite(tmp_path, n=2)
    prices = tmp_path / "prices.json"
    prices.write_text(json.dumps({"policy/oracle": {"input": 1.0, "output": 2.0}}))
    out = tmp_path / "runs"
    run = ["run", "--model", "policy/oracle", "--suite", str(suite), "--out", str(out), "--no-progress"]
    assert fanout([*run, "--prices", str(prices)]) == 0
    d = run_dirs(out)[0]
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0  # unchanged: fine
    prices.write_text(json.dumps({"policy/oracle": {"input": 1.0, "output": 3.0}}))
    assert fanout(["run", "--resume", str(d)]) == 2
    assert "price table changed" in capsys.readouterr().err
    prices.write_text(json.dumps({"policy/oracle": {"input": 1.0, "output": 2.0}}))
    cfg = json.loads((d / "run.json").read_text())
    cfg["price_table_version"] = "2020-01-01+user:00000000"  # the run started before an upgrade
    (d / "run.json").write_text(json.dumps(cfg))
    assert fanout(["run", "--resume", str(d)]) == 2
    err = capsys.readouterr().err
    assert f"version {load_prices(prices).version} != 2020-01-01+user:00000000" in err
    cfg["prices"] = None  # a model no table prices has an unknown cost either way: resumes
    (d / "run.json").write_text(json.dumps(cfg))
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0


@pytest.mark.parametrize("flag", ["--help"])
def test_run_help_documents_env_vars(flag, capsys):
    with pytest.raises(SystemExit):
        fanout(["run", flag])
    out = capsys.readouterr().out
    for f in (
        "FANOUT_SEED",
        "FANOUT_FAN_OUT_CAP",
        "FANOUT_TOOL_TIMEOUT",
        "FANOUT_MAX_CONCURRENCY",
        "FANOUT_RESUME",
    ):
        assert f in out


def test_resume_refuses_a_changed_or_missing_prompt_template(tmp_path, capsys):
    suite = make_suite(tmp_path, n=2)
    tmpl = tmp_path / "sys.j2"
    tmpl.write_text("You are terse. {{ pattern }}")
    out = tmp_path / "runs"
    assert (
        fanout(
            [
                "run",
                "--model",
                "policy/oracle",
                "--suite",
                str(suite),
                "--out",
                str(out),
                "--system-prompt",
                str(tmpl),
                "--no-progress",
            ]
        )
        == 0
    )
    d = run_dirs(out)[0]
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0  # unchanged: fine
    tmpl.write_text("You are verbose. {{ pattern }}")
    assert fanout(["run", "--resume", str(d)]) == 2
    assert "prompt templates changed" in capsys.readouterr().err
    tmpl.unlink()
    assert fanout(["run", "--resume", str(d)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_model_that_cannot_be_built_leaves_no_run_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    out = tmp_path / "runs"
    assert (
        fanout(
            ["run", "--model", "openai/gpt-4.1", "--suite", str(make_suite(tmp_path, 1)), "--out", str(out)]
        )
        == 2
    )
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    assert not out.exists() or run_dirs(out) == []


def test_run_json_records_what_the_model_is(tmp_path):
    out = tmp_path / "runs"
    assert (
        fanout(
            [
                "run",
                "--model",
                "policy/lazy",
                "--suite",
                str(make_suite(tmp_path, 1)),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    cfg, _ = load_run(run_dirs(out)[0])
    assert cfg.model_info == {"name": "policy/lazy", "policy": "lazy", "seed": 0}


def test_a_corrupt_middle_line_is_skipped_and_its_task_rerun_on_resume(tmp_path, capsys):
    d = oracle_run(tmp_path)
    lines = (d / "episodes.jsonl").read_text().splitlines(keepends=True)
    lost = json.loads(lines[1])["task_id"]
    (d / "episodes.jsonl").write_text(lines[0] + "{corrupt\n" + "".join(lines[2:]))
    rows = read_episodes(d / "episodes.jsonl")
    assert len(rows) == 3 and lost not in {r["task_id"] for r in rows}
    assert "line 2 is not an episode" in capsys.readouterr().err
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0
    assert sorted(r["task_id"] for r in read_episodes(d / "episodes.jsonl")) == [
        f"t{i:03d}" for i in range(4)
    ]


def test_a_suite_opened_for_a_command_is_kept_out_of_the_collectors_reach():
    import gc

    from evals.runs import open_suite

    try:
        gc.unfreeze()  # earlier in-process runs of this test session froze theirs
        assert gc.get_freeze_count() == 0
        suite = open_suite("core")
        assert gc.isenabled() and gc.get_freeze_count() > 0
        assert all(o is not suite.tasks for o in gc.get_objects())  # frozen: in no generation
        gc.disable()  # a caller that turned collection off keeps it off
        open_suite("core")
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_run_folders_in_lists_only_run_folders_by_name(tmp_path):
    """What report, what-if and gate read a `--out` folder as: its subfolders holding run.json."""
    for name in ("b-run", "a-run", "not-a-run"):
        (tmp_path / name).mkdir()
    for name in ("b-run", "a-run"):
        (tmp_path / name / "run.json").write_text("{}")
    (tmp_path / "not-a-run" / "episodes.jsonl").write_text("")
    (tmp_path / "run.json-file").write_text("")
    assert [p.name for p in run_folders_in(tmp_path)] == ["a-run", "b-run"]
    assert run_folders_in(tmp_path / "a-run") == []  # a run folder holds no runs
    assert run_folders_in(tmp_path / "missing") == []
    assert run_folders_in(tmp_path / "run.json-file") == []
