"""Report benchmark (a script, not a timed test): 10 runs x 500 episodes must render in < 10 s and
give an HTML page < 5 MB.

The runs are real traces stretched to size: the five reference policies run once on a suite
(`fanout run`), then each run folder is copied twice (10 runs) and its episodes repeated as
further epochs up to 500 lines, every copy with its times scaled by a deterministic factor so
no two episodes are identical. Then `fanout report` is timed end to end (a fresh process, imports
included) and in process (`build_report` alone), and the page size is measured.

Usage: python benchmarks/bench_report.py [--suite core] [--runs 10] [--episodes 500] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.cli import main as fanout
from evals.report.build import build_report

POLICIES = ["policy/oracle", "policy/sequential", "policy/greedy", "policy/redundant", "policy/lazy"]
LIMIT_S = 10.0
LIMIT_BYTES = 5 * 1024 * 1024


def _scale_trace(tr: dict, f: float) -> None:
    for t in tr.get("turns", []):
        for k in ("start_s", "end_s", "model_latency_s", "batch_s"):
            if k in t:
                t[k] *= f
    for c in tr.get("calls", []):
        for k in ("start_s", "end_s", "duration_s"):
            if k in c:
                c[k] *= f
    tr["wall_s"] = tr.get("wall_s", 0.0) * f


def stretch(src: Path, dst: Path, model: str, episodes: int) -> None:
    """A copy of run `src` named `model` with `episodes` lines: its episodes repeated as epochs."""
    dst.mkdir(parents=True)
    cfg = json.loads((src / "run.json").read_text())
    base = [json.loads(line) for line in (src / "episodes.jsonl").read_text().splitlines() if line.strip()]
    epochs = math.ceil(episodes / len(base))
    cfg.update(model=model, run_id=dst.name, epochs=epochs)
    cfg["task_ids"] = sorted({r["task_id"] for r in base})
    (dst / "run.json").write_text(json.dumps(cfg, indent=2))
    with open(dst / "episodes.jsonl", "w", encoding="utf-8") as out:
        for k in range(episodes):
            rec = json.loads(json.dumps(base[k % len(base)]))
            epoch = k // len(base)
            f = 1.0 + 0.15 * math.sin(1.7 * k + len(model))
            rec["epoch"] = rec["trace"]["epoch"] = epoch
            rec["trace"]["model"] = model
            _scale_trace(rec["trace"], f)
            for key in ("wall_s", "serial_wall_s", "ideal_wall_s", "model_time_s", "tool_time_s"):
                rec["scores"][key] *= f
            out.write(json.dumps(rec, separators=(",", ":")) + "\n")


def make_runs(work: Path, suite: str, runs: int, episodes: int) -> Path:
    base_dir, big = work / "base", work / "runs"
    argv = ["run", "--suite", suite, "--out", str(base_dir), "--no-progress"]
    for m in POLICIES:
        argv += ["--model", m]
    if fanout(argv) != 0:
        sys.exit("fanout run failed")
    bases = sorted(base_dir.iterdir())
    for i in range(runs):
        src = bases[i % len(bases)]
        model = json.loads((src / "run.json").read_text())["model"] + (
            f"-v{i // len(bases) + 1}" if i >= len(bases) else ""
        )
        stretch(src, big / f"bench-{i:02d}", model, episodes)
    return big


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", default="core")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--episodes", type=int, default=500)
    ap.add_argument("--work", default=None, help="scratch folder (default: a temporary one, removed)")
    args = ap.parse_args()
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="bench_report_"))
    try:
        runs = make_runs(work, args.suite, args.runs, args.episodes)
        out = work / "report"
        fanout_bin = Path(sys.executable).with_name("fanout")
        t0 = time.perf_counter()
        subprocess.run(
            [str(fanout_bin), "report", str(runs), "--out", str(out)], check=True, stdout=subprocess.DEVNULL
        )
        cli_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        files = build_report([runs], work / "report2")
        build_s = time.perf_counter() - t0
        size = files.html.stat().st_size
        n = sum(r["episodes"] for r in files.rows)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}")
        print(
            f"input: {len(files.rows)} runs, {n} episodes, {sum(p.stat().st_size for p in runs.rglob('*.jsonl')):,} bytes of episodes.jsonl"
        )
        print(f"fanout report (fresh process, imports included): {cli_s:.2f} s  (limit {LIMIT_S:.0f} s)")
        print(f"build_report in process:                         {build_s:.2f} s")
        print(f"leaderboard.html: {size:,} bytes = {size / 2**20:.2f} MiB  (limit 5 MiB)")
        for p in (files.markdown, files.csv, files.json):
            print(f"{p.name}: {p.stat().st_size:,} bytes")
        ok = cli_s < LIMIT_S and size < LIMIT_BYTES
        print("PASS" if ok else "FAIL")
        sys.exit(0 if ok else 1)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
