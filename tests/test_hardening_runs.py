"""Run folders under attack (issue 11, items 2, 3 and 7): concurrent runs and resumes in real
processes, infrastructure failures that stop a run instead of being scored, `--retry-errors`,
a full disk, and files that are replaced whole or not at all."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from evals import files, runs
from evals.cache import ResponseCache
from evals.cli import main as fanout
from evals.emulator import EmulatorServer, FaultConfig
from evals.emulator.faults import FaultPlan
from evals.fixtures import load_suite
from evals.runs import load_run, read_episodes, start_run, unlock_run
from evals.settings import RuntimeSettings

ORDERS = "orders*"  # 14 tasks of the core suite


@pytest.fixture(scope="module")
def core():
    return load_suite("core")


@pytest.fixture(scope="module")
def n_orders(core):
    return len(core.select([ORDERS]))


def run_dirs(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if (p / "run.json").exists())


def task_epochs(d: Path) -> list[tuple[str, int]]:
    return sorted((r["task_id"], r["epoch"]) for r in read_episodes(d / "episodes.jsonl"))


# Runs `fanout` in a fresh process once the wall clock passes argv[1], so several start together.
# With --same-second every run is given the id one clock second would give them all, and the disk
# is slow (run.json takes 0.3 s to write), as on a loaded machine.
DRIVER = textwrap.dedent("""
    import sys, time
    import evals.runs as runs
    from evals.cli import main
    args = sys.argv[1:]
    if args[0] == "--same-second":
        args = args[1:]
        runs.new_run_id = lambda model, when=None: "20990101-000000-" + runs.slug(model)
        write = runs.write_json_atomic
        def slow(path, data):
            time.sleep(0.3)
            write(path, data)
        runs.write_json_atomic = slow
    start = float(args[0])
    while time.time() < start:
        time.sleep(0.002)
    sys.exit(main(args[1:]))
""")


def spawn_together(argvs: list[list[str]], same_second: bool = False) -> list[subprocess.Popen]:
    start = time.time() + 4.0  # every process has imported Fanout by then
    flag = ["--same-second"] if same_second else []
    return [
        subprocess.Popen(
            [sys.executable, "-c", DRIVER, *flag, str(start), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]


# -- item 2: run ids, locks, duplicates -------------------------------------------------------


def test_four_runs_started_in_the_same_second_get_four_folders(tmp_path, n_orders):
    out = tmp_path / "race"
    argv = ["run", "--model", "policy/oracle", "--task", ORDERS, "--out", str(out), "--no-progress"]
    procs = spawn_together([argv] * 4, same_second=True)
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    dirs = run_dirs(out)
    assert [d.name for d in dirs] == [
        "20990101-000000-policy-oracle",
        "20990101-000000-policy-oracle-2",
        "20990101-000000-policy-oracle-3",
        "20990101-000000-policy-oracle-4",
    ]
    for d in dirs:
        cfg, rows = load_run(d)
        assert len(rows) == n_orders and len(set(task_epochs(d))) == n_orders, d
        assert cfg.status == "complete" and cfg.run_id == d.name


def _unstarted_run(core, out: Path) -> Path:
    """A run folder with no episode yet, on the real clock (so running it takes seconds)."""
    real = RuntimeSettings(clock="real", inference_profile="fast")
    d, _ = start_run("policy/oracle", core, out, runtime=real, task_patterns=[ORDERS])
    unlock_run(d)  # start_run's process holds the lock until it runs the folder: hand it over
    return d


def test_two_concurrent_resumes_one_runs_and_the_other_fails_at_once(tmp_path, core, n_orders):
    d = _unstarted_run(core, tmp_path / "runs")
    a, b = spawn_together([["run", "--resume", str(d), "--no-progress"]] * 2)
    ended: dict[int, float] = {}
    while len(ended) < 2:
        for i, p in enumerate((a, b)):
            if i not in ended and p.poll() is not None:
                ended[i] = time.monotonic()
        time.sleep(0.01)
    results = [(p.returncode, *p.communicate()) for p in (a, b)]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], results
    loser = next(i for i, r in enumerate(results) if r[0] == 2)
    winner = 1 - loser
    err = results[loser][2]
    pid = (a, b)[winner].pid
    assert err == (
        f"fanout run: {d} is in use by another fanout run (pid {pid}); "
        "wait for it to end, or stop it, then resume\n"
    )
    assert ended[loser] < ended[winner] - 1.0  # it failed at once, it did not wait for the lock
    assert task_epochs(d) == sorted(set(task_epochs(d))) and len(task_epochs(d)) == n_orders
    assert load_run(d)[0].status == "complete"


def test_a_killed_holder_leaves_the_folder_resumable(tmp_path, core, n_orders):
    d = _unstarted_run(core, tmp_path / "runs")
    p = subprocess.Popen(
        [sys.executable, "-m", "evals", "run", "--resume", str(d), "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not read_episodes(d / "episodes.jsonl") and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert load_run(d)[0].status == "running"
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0  # the kernel released the lock
    assert len(task_epochs(d)) == n_orders == len(set(task_epochs(d)))


def test_start_run_keeps_the_folder_locked_until_it_is_run(tmp_path, core, capsys):
    d, _ = start_run("policy/oracle", core, tmp_path / "runs", task_patterns=[ORDERS])
    # This process holds the lock (start_run took it); another process must be refused.
    code = subprocess.run(
        [sys.executable, "-m", "evals", "run", "--resume", str(d), "--no-progress"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert code.returncode == 2 and code.stderr.count("\n") == 1
    assert f"(pid {os.getpid()})" in code.stderr
    unlock_run(d)


def test_the_summary_counts_each_task_and_epoch_once(tmp_path, n_orders, capsys):
    out = tmp_path / "runs"
    argv = ["run", "--model", "policy/greedy", "--task", ORDERS, "--out", str(out), "--no-progress"]
    assert fanout(argv) == 0
    (d,) = run_dirs(out)
    before = json.loads((d / "summary.json").read_text())
    path = d / "episodes.jsonl"
    lines = path.read_bytes()
    path.write_bytes(lines + lines)  # every episode twice, as two unlocked writers left it
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"{n_orders} duplicate episode lines (a task and epoch written twice) ignored" in err
    after = json.loads((d / "summary.json").read_text())
    assert after["episodes"] == n_orders
    assert after == before
    assert fanout(["report", str(d), "--out", str(tmp_path / "rep")]) == 0
    board = json.loads((tmp_path / "rep" / "leaderboard.json").read_text())
    assert board["rows"][0]["episodes"] == n_orders


# -- item 3: infrastructure failures stop the run; provider errors are retried ----------------


@pytest.fixture
def emulator(core):
    with EmulatorServer([core], policy="oracle") as srv:
        yield srv


def http_run(emulator, out: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--model",
        "openai/oracle",
        "--base-url",
        emulator.base_url + "/v1",
        "--task",
        ORDERS,
        "--out",
        str(out),
        "--no-progress",
        *extra,
    ]


def test_a_401_stops_the_run_scores_nothing_and_resume_finishes_it(
    tmp_path, emulator, monkeypatch, capsys, n_orders
):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # the emulator answers 401 without a key
    out = tmp_path / "runs"
    assert fanout(http_run(emulator, out, "--no-cache", "--max-concurrency", "4")) == 4
    (d,) = run_dirs(out)
    err = capsys.readouterr().err
    assert err == (
        "fanout run: openai/oracle: HTTP 401: missing or invalid API key: send an 'Authorization: "
        "Bearer <key>' or an 'api-key' header (the API key is missing, invalid or not allowed this model) "
        f"[run stopped; continue it with: fanout run --resume {d}]\n"
    )
    cfg, rows = load_run(d)
    assert rows == []  # nothing was written as a model failure
    assert cfg.status == "stopped" and "HTTP 401" in (cfg.stop_reason or "")
    assert emulator.requests_served <= 4  # the episodes in flight, not one request per task
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0
    cfg, rows = load_run(d)
    assert cfg.status == "complete" and cfg.stop_reason is None
    assert len(rows) == n_orders and all(r["scores"]["success"] for r in rows)


def test_a_full_cache_stops_the_run_and_no_episode_is_an_error(
    tmp_path, emulator, monkeypatch, capsys, n_orders
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    opened = ResponseCache.__init__

    def full_disk(self, path):  # the database may not grow: SQLite's own "database or disk is full"
        opened(self, path)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages}")

    monkeypatch.setattr(ResponseCache, "__init__", full_disk)
    cache = tmp_path / "cache.sqlite"
    out = tmp_path / "runs"
    argv = http_run(emulator, out, "--cache-path", str(cache), "--max-concurrency", "2")
    assert fanout(argv) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "database or disk is full" in err and "Traceback" not in err
    (d,) = run_dirs(out)
    cfg, rows = load_run(d)
    assert cfg.status == "stopped" and len(rows) < n_orders
    assert all(r["trace"]["stop"] != "error" for r in rows)
    monkeypatch.setattr(ResponseCache, "__init__", opened)  # disk space freed
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0
    cfg, rows = load_run(d)
    assert cfg.status == "complete" and len(rows) == n_orders
    assert all(r["scores"]["success"] for r in rows)


def test_provider_errors_exit_3_and_retry_errors_reruns_exactly_those(
    tmp_path, emulator, monkeypatch, capsys, n_orders
):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    emulator.faults = FaultPlan(FaultConfig(rate=0.3, kinds=["500"], seed=1, max_per_request=5))
    out = tmp_path / "runs"
    assert fanout(http_run(emulator, out, "--no-cache", "--max-retries", "0")) == 3
    (d,) = run_dirs(out)
    captured = capsys.readouterr()
    summary = json.loads((d / "summary.json").read_text())
    n_errors = summary["errors"]
    assert 0 < n_errors < n_orders
    assert captured.err.splitlines()[-1] == (
        f"fanout run: openai/oracle: {n_errors} of {n_orders} episodes ended in errors (counted as "
        f"failures); retry them with: fanout run --resume {d} --retry-errors"
    )
    assert captured.out.split("\n")[1].split()[-1] == str(n_errors)  # the row's errors column
    good = [r for r in read_episodes(d / "episodes.jsonl") if r["trace"]["stop"] != "error"]
    assert load_run(d)[0].status == "complete"
    # A plain resume has nothing to do: errors are results, until asked to retry them.
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 3
    emulator.faults = FaultPlan(None)  # the provider recovered
    assert fanout(["run", "--resume", str(d), "--retry-errors", "--no-progress"]) == 0
    assert f"openai/oracle: retrying {n_errors} episodes that ended in errors" in capsys.readouterr().err
    rows = read_episodes(d / "episodes.jsonl")
    assert rows[: len(good)] == good  # the good episodes kept, byte for byte, in place
    assert len(rows) == n_orders == len(set(task_epochs(d)))
    summary = json.loads((d / "summary.json").read_text())
    assert summary["errors"] == 0 and summary["success_rate"] == 1.0


def test_retry_errors_needs_resume(tmp_path, capsys):
    assert fanout(["run", "--retry-errors", "--out", str(tmp_path / "r"), "--no-progress"]) == 2
    assert capsys.readouterr().err == (
        "fanout run: --retry-errors reruns the failed episodes of a run: use it with --resume RUN_DIR\n"
    )
    assert not (tmp_path / "r").exists()


def test_dropping_error_lines_is_all_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "episodes.jsonl"
    ok = json.dumps({"task_id": "a", "epoch": 0, "trace": {"stop": "answer"}})
    bad = json.dumps({"task_id": "b", "epoch": 0, "trace": {"stop": "error"}})
    original = f"{ok}\n{bad}\n{ok.replace('a', 'c')}\n".encode()
    path.write_bytes(original)

    def crash(src, dst):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(files.LocalIOError, match="Input/output error"):
        runs.drop_error_episodes(path)
    assert path.read_bytes() == original and os.listdir(tmp_path) == ["episodes.jsonl"]
    monkeypatch.undo()
    assert runs.drop_error_episodes(path) == 1
    assert path.read_bytes() == f"{ok}\n{ok.replace('a', 'c')}\n".encode()


# -- item 7: a full disk, atomic files ----------------------------------------------------------


@pytest.mark.parametrize("partial", [False, True])
def test_a_full_disk_during_a_run_is_one_line_and_leaves_clean_lines(tmp_path, monkeypatch, capsys, partial):
    real_write = os.write
    written = {"lines": 0}

    def write(fd, data):  # the disk fills up after three episode lines
        if fd == writer_fd() and bytes(data[-1:]) == b"\n":
            if written["lines"] == 3:
                if partial:
                    real_write(fd, bytes(data[: len(data) // 2]))  # half a line got out first
                raise OSError(errno.ENOSPC, "No space left on device")
            written["lines"] += 1
        return real_write(fd, data)

    fds: list[int] = []
    opened = runs.RunWriter.__init__

    def track(self, run_dir):
        opened(self, run_dir)
        fds.append(self.fd)

    def writer_fd() -> int:
        return fds[-1] if fds else -1

    monkeypatch.setattr(runs.RunWriter, "__init__", track)
    monkeypatch.setattr(runs.os, "write", write)
    out = tmp_path / "runs"
    argv = ["run", "--model", "policy/oracle", "--task", ORDERS, "--out", str(out), "--no-progress"]
    argv += ["--max-concurrency", "1"]
    assert fanout(argv) == 4
    (d,) = run_dirs(out)
    assert capsys.readouterr().err == (
        f"fanout run: cannot write {d}/episodes.jsonl: No space left on device "
        f"[run stopped; continue it with: fanout run --resume {d}]\n"
    )
    data = (d / "episodes.jsonl").read_bytes()
    assert data.endswith(b"\n") and data.count(b"\n") == 3  # the torn half line was cut off again
    cfg, _ = load_run(d)
    assert cfg.status == "stopped" and "No space left on device" in (cfg.stop_reason or "")


def test_run_json_summary_and_report_files_are_replaced_whole(tmp_path, monkeypatch, capsys):
    out = tmp_path / "runs"
    argv = ["run", "--model", "policy/oracle", "--task", ORDERS, "--out", str(out), "--no-progress"]
    assert fanout(argv) == 0
    (d,) = run_dirs(out)
    rep = tmp_path / "rep"
    assert fanout(["report", str(d), "--out", str(rep)]) == 0
    before = {p.name: p.read_bytes() for p in [*rep.iterdir(), d / "summary.json", d / "run.json"]}
    capsys.readouterr()

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full)
    assert fanout(["report", str(d), "--out", str(rep)]) == 4
    assert capsys.readouterr().err == (
        f"fanout report: cannot write {rep}/leaderboard.html: No space left on device\n"
    )
    assert fanout(["run", "--resume", str(d), "--no-progress"]) == 4
    after = {p.name: p.read_bytes() for p in [*rep.iterdir(), d / "summary.json", d / "run.json"]}
    assert after == before  # every file whole, old, and no temporary left beside it
    assert not [p for p in [*rep.iterdir(), *d.iterdir()] if p.name.endswith(".tmp")]


def test_models_after_a_stopped_run_are_left_resumable_not_running(
    tmp_path, emulator, monkeypatch, capsys, n_orders
):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # the first model's run stops on a 401
    out = tmp_path / "runs"
    args = http_run(emulator, out, "--no-cache") + ["--model", "policy/sequential"]
    assert fanout(args) == 4
    first, second = sorted(run_dirs(out), key=lambda d: load_run(d)[0].model != "openai/oracle")
    assert load_run(first)[0].status == "stopped"
    cfg, rows = load_run(second)
    assert rows == [] and cfg.status == "interrupted"
    assert cfg.stop_reason == "not started: the run of openai/oracle before it stopped"
    err = capsys.readouterr().err
    assert f"fanout run: these runs did not start; resume with:\n  fanout run --resume {second}\n" in err
    assert fanout(["run", "--resume", str(second), "--no-progress"]) == 0
    cfg, rows = load_run(second)
    assert cfg.status == "complete" and len(rows) == n_orders


def test_a_server_that_cannot_be_reached_stops_the_run_and_nothing_is_scored(
    tmp_path, core, monkeypatch, capsys, n_orders
):
    """Connection refused (the emulator went down mid-run, or was never up) is the network, not
    the model: the run stops (exit 4) instead of writing every remaining episode as a failure,
    and a resume once the server is back finishes it with every episode scored once."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    out = tmp_path / "runs"
    server = EmulatorServer([core], policy="oracle").start()
    port = server.port
    served = server.requests_served

    def kill_when_busy() -> None:
        while server.requests_served < served + 6:
            time.sleep(0.005)
        server.stop()

    killer = threading.Thread(target=kill_when_busy)
    killer.start()
    argv = http_run(server, out, "--no-cache", "--max-concurrency", "2", "--max-retries", "1")
    assert fanout(argv) == 4
    killer.join()
    (d,) = run_dirs(out)
    err = capsys.readouterr().err.splitlines()[-1]
    assert err.startswith(f"fanout run: openai/oracle: cannot reach {server.base_url}/v1/chat/completions")
    assert err.endswith(f"[run stopped; continue it with: fanout run --resume {d}]")
    cfg, rows = load_run(d)
    assert cfg.status == "stopped" and "cannot reach" in (cfg.stop_reason or "")
    assert len(rows) < n_orders and all(r["trace"]["stop"] != "error" for r in rows)
    with EmulatorServer([core], policy="oracle", port=port):  # the server is back
        assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0
    cfg, rows = load_run(d)
    assert cfg.status == "complete" and len(rows) == n_orders == len(set(task_epochs(d)))
    assert all(r["scores"]["success"] for r in rows)


def test_a_full_disk_with_several_models_reports_the_first_failure_and_how_to_resume(
    tmp_path, monkeypatch, capsys, n_orders
):
    """The models after the stopped one cannot be marked `interrupted` on a full disk either:
    that second failure must not replace the first one's line (which names the file and the
    resume command), and every folder resumes to the same summary once there is room."""
    real_write = os.write
    full = {"on": False, "lines": 0}

    def write(fd, data):
        if full["on"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        if bytes(data[-1:]) == b"\n" and b'"task_id"' in bytes(data[:200]):
            full["lines"] += 1
            if full["lines"] == 4:
                full["on"] = True
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(runs.os, "write", write)
    out = tmp_path / "runs"
    argv = ["run", "--model", "policy/oracle", "--model", "policy/lazy", "--task", ORDERS]
    argv += ["--out", str(out), "--no-progress", "--max-concurrency", "1"]
    assert fanout(argv) == 4
    monkeypatch.undo()
    first, second = sorted(run_dirs(out), key=lambda d: load_run(d)[0].model != "policy/oracle")
    err = capsys.readouterr().err
    assert err.endswith(
        f"fanout run: cannot write {first}/episodes.jsonl: No space left on device "
        f"[run stopped; continue it with: fanout run --resume {first}]\n"
    )
    assert f"these runs did not start; resume with:\n  fanout run --resume {second}\n" in err
    for d in (first, second):
        assert fanout(["run", "--resume", str(d), "--no-progress"]) == 0
        assert len(task_epochs(d)) == n_orders == len(set(task_epochs(d)))


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()])
def test_a_run_folder_that_cannot_be_started_is_removed(tmp_path, monkeypatch, capsys, failure):
    """A full disk while run.json is written, or a Ctrl-C/SIGTERM while the folders are made:
    nothing ran, so nothing is left behind (no folder without run.json, which nothing can read or
    resume, no folder claiming to be `running`, no temporary file)."""
    write = files.os.replace
    calls = {"n": 0}

    def fail_third(src, dst):  # the third model's run.json
        calls["n"] += 1
        if calls["n"] == 3:
            raise failure
        return write(src, dst)

    monkeypatch.setattr(files.os, "replace", fail_third)
    out = tmp_path / "runs"
    argv = ["run", "--model", "policy/oracle", "--model", "policy/greedy", "--model", "policy/lazy"]
    argv += ["--task", ORDERS, "--out", str(out), "--no-progress"]
    assert fanout(argv) == (130 if isinstance(failure, KeyboardInterrupt) else 4)
    assert not out.exists()
    if isinstance(failure, OSError):
        assert capsys.readouterr().err.startswith("fanout run: cannot write ")
