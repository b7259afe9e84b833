"""Shards (`fanout run --shard K/N`) partition a run; `fanout merge` gives the unsharded summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals.cli import main as fanout
from evals.errors import UsageError
from evals.shards import Shard, assigned, pairs

# A slice of the core suite with several patterns (greedy: premature calls, failures).
TASKS = ["--task", "weather_*", "--task", "orders_*"]


def run(out: Path, *extra: str, model: str = "policy/greedy", epochs: int = 2) -> Path:
    argv = ["run", "--model", model, "--suite", "core", "--out", str(out), "--no-progress"]
    argv += ["--epochs", str(epochs), *TASKS, *extra]
    assert fanout(argv) == 0
    (d,) = [p for p in out.iterdir() if (p / "run.json").exists()]
    return d


def summary_text(d: Path) -> str:
    """summary.json as written, its run id blanked: the one field a merged run may differ in."""
    doc = json.loads((d / "summary.json").read_text())
    text = (d / "summary.json").read_text()
    return text.replace(json.dumps(doc["run_id"]), '"RUN_ID"')


@given(st.integers(1, 30), st.integers(1, 5), st.integers(1, 9))
def test_shards_partition_the_pairs_evenly(n_tasks, epochs, count):
    ids = [f"t{i}" for i in range(n_tasks)]
    every = list(pairs(ids, epochs))
    slices = [assigned(ids, epochs, f"{k}/{count}") for k in range(1, count + 1)]
    assert sorted(p for s in slices for p in s) == sorted(every)  # each pair in exactly one shard
    sizes = [len(s) for s in slices]
    assert max(sizes) - min(sizes) <= 1
    assert assigned(ids, epochs, None) == every


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "two/3", "", "1/3/5"])
def test_bad_shard_specs_are_usage_errors(text):
    with pytest.raises(UsageError):
        Shard.parse(text)


def test_a_bad_shard_flag_exits_2_and_leaves_no_folder(tmp_path, capsys):
    argv = [
        "run",
        "--model",
        "policy/oracle",
        "--suite",
        "core",
        "--out",
        str(tmp_path / "r"),
        "--shard",
        "4/3",
    ]
    assert fanout(argv) == 2
    assert "K must be between 1 and N" in capsys.readouterr().err
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_merged_shards_give_the_unsharded_summary_byte_for_byte(tmp_path):
    full = run(tmp_path / "full")
    shards = [run(tmp_path / f"s{k}", "--shard", f"{k}/3") for k in (1, 2, 3)]
    counts = [len((d / "episodes.jsonl").read_text().splitlines()) for d in shards]
    total = len((full / "episodes.jsonl").read_text().splitlines())
    assert sum(counts) == total and max(counts) - min(counts) <= 1
    # Shards in any order, from folders anywhere.
    assert (
        fanout(["merge", str(shards[2]), str(shards[0]), str(shards[1]), "--out", str(tmp_path / "m")]) == 0
    )
    (merged,) = (tmp_path / "m").iterdir()
    assert summary_text(merged) == summary_text(full)
    cfg = json.loads((merged / "run.json").read_text())
    assert cfg["status"] == "complete" and cfg["shard"] is None and len(cfg["merged_from"]) == 3
    # The episode lines are the shards' lines, as written.
    lines = sorted((merged / "episodes.jsonl").read_text().splitlines())
    assert lines == sorted(x for d in shards for x in (d / "episodes.jsonl").read_text().splitlines())


def test_a_missing_shard_leaves_the_merge_incomplete_and_resume_completes_it(tmp_path, capsys):
    full = run(tmp_path / "full", model="policy/oracle", epochs=1)
    shards = [run(tmp_path / f"s{k}", "--shard", f"{k}/3", model="policy/oracle", epochs=1) for k in (1, 3)]
    assert fanout(["merge", *map(str, shards), "--out", str(tmp_path / "m")]) == 0
    assert "are in no shard" in capsys.readouterr().err
    (merged,) = (tmp_path / "m").iterdir()
    assert json.loads((merged / "run.json").read_text())["status"] == "interrupted"
    assert fanout(["run", "--resume", str(merged), "--no-progress"]) == 0
    assert json.loads((merged / "run.json").read_text())["status"] == "complete"
    assert summary_text(merged) == summary_text(full)


def test_merge_refuses_folders_that_are_not_shards_of_one_run(tmp_path, capsys):
    a = run(tmp_path / "a", "--shard", "1/2", epochs=1)
    b = run(tmp_path / "b", "--shard", "2/2", epochs=2)  # another run: other epochs
    a2 = run(tmp_path / "a2", "--shard", "1/2", epochs=1)
    plain = run(tmp_path / "p", epochs=1)
    out = str(tmp_path / "m")
    assert fanout(["merge", str(a), str(b), "--out", out]) == 2
    assert "epochs differs" in capsys.readouterr().err
    assert fanout(["merge", str(a), str(a2), "--out", out]) == 2
    assert "both shard 1/2" in capsys.readouterr().err
    assert fanout(["merge", str(a), str(plain), "--out", out]) == 2
    assert "is not a shard" in capsys.readouterr().err
    hot = run(tmp_path / "hot", "--shard", "2/2", "--temperature", "1", epochs=1)
    assert fanout(["merge", str(a), str(hot), "--out", out]) == 2
    assert "its model settings differ" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_a_merge_of_measured_turns_completes_the_references_at_the_run_median(tmp_path, monkeypatch):
    """A provider's turns are measured: the reference figures wait for the run's median turn
    latency, which the merge must gather from every shard's traces as a run does."""
    from evals.emulator.server import EmulatorServer
    from evals.fixtures import load_suite
    from evals.runs import finalize, read_run_config

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with EmulatorServer([load_suite("core")], policy="oracle") as srv:
        extra = ("--base-url", srv.base_url + "/v1", "--no-cache")
        shards = [run(tmp_path / f"s{k}", "--shard", f"{k}/2", *extra, model="openai/oracle") for k in (1, 2)]
    assert fanout(["merge", *map(str, shards), "--out", str(tmp_path / "m")]) == 0
    (merged,) = (tmp_path / "m").iterdir()
    written = (merged / "summary.json").read_text()
    doc = json.loads(written)
    assert doc["speedup_vs_sequential"] is not None and doc["ideal_wall_s_mean"] is not None
    finalize(merged, read_run_config(merged))  # summarised again from episodes.jsonl, as a resume does
    assert (merged / "summary.json").read_text() == written


@pytest.mark.parametrize("fails", ["episodes", "run.json"])
def test_a_merge_onto_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch, capsys, fails):
    """A full disk while the merged episodes or its run.json are written: exit 4, one line, and no
    folder holding episodes without a run.json (which no command could read or resume); once
    there is room the same merge gives the unsharded summary."""
    import errno

    from evals import files, shards

    full = run(tmp_path / "full", model="policy/oracle", epochs=1)
    parts = [run(tmp_path / f"s{k}", "--shard", f"{k}/2", model="policy/oracle", epochs=1) for k in (1, 2)]
    out = tmp_path / "m"

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if fails == "episodes":
        monkeypatch.setattr(shards.os, "fdopen", no_space)
    else:
        monkeypatch.setattr(files.os, "fsync", no_space)
    capsys.readouterr()
    assert fanout(["merge", *map(str, parts), "--out", str(out)]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err and "Traceback" not in err
    assert list(out.iterdir()) == []
    monkeypatch.undo()
    assert fanout(["merge", *map(str, parts), "--out", str(out)]) == 0
    (merged,) = out.iterdir()
    assert summary_text(merged) == summary_text(full)
