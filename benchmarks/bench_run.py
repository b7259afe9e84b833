"""Whole `fanout` processes (a script, not a test): start-up, end-to-end throughput, memory.

1. `fanout --version`: the start-up every command pays before its own imports.
2. `fanout run --model policy/oracle` on a generated suite of N tasks of 4 independent lookups
   then an answer (`widesuite.py`): episodes per second of the whole process (imports, suite
   loading, ground truth, runtime, scoring, the episode lines, summary.json), per wall second
   and per CPU second.
3. Peak RSS of `fanout run --model policy/oracle --suite core` at `--epochs 1` and at
   `--epochs 50` (9,400 episodes): a run keeps score rows, not traces, so memory stays flat.

Each figure is measured on fresh processes, in interleaved rounds when `--compare` names other
installs (their `fanout` executables, e.g. another checkout's .venv/bin/fanout), and the medians
are printed.

Usage:
  python benchmarks/bench_run.py [--tasks 500] [--rounds 3]
  python benchmarks/bench_run.py --compare main=../main/.venv/bin/fanout
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Proc, machine, measured, pythons  # noqa: E402
from widesuite import write_suite  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=50, help="the long run of the memory figure")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory figure (the slowest)")
    ap.add_argument("--compare", default=None, metavar="LABEL=FANOUT,...", help="other fanout executables")
    args = ap.parse_args()
    bins = pythons(args.compare, this=str(Path(sys.executable).with_name("fanout")))
    print(machine())
    tmp = Path(tempfile.mkdtemp(prefix="fanout-bench-run-"))
    res: dict[str, dict[str, list[float]]] = {k: {} for k in bins}

    def add(label: str, key: str, v: float) -> None:
        res[label].setdefault(key, []).append(v)

    def oracle_run(label: str, exe: str, suite: str, out: Path, *extra: str) -> Proc:
        """`fanout run --model policy/oracle` measured as a whole process; a failure ends the benchmark."""
        cmd = [
            exe,
            "run",
            "--model",
            "policy/oracle",
            "--suite",
            suite,
            *extra,
            "--out",
            str(out),
            "--no-progress",
        ]
        p = measured(cmd)
        if p.returncode != 0:
            raise SystemExit(f"{label}: fanout run failed:\n{p.stdout[-2000:]}")
        return p

    try:
        suite = write_suite(tmp / "suite", args.tasks)
        for r in range(args.rounds):
            for label, exe in bins.items():
                for _ in range(3):
                    p = measured([exe, "--version"])
                    add(label, "version_s", p.wall_s)
                out = tmp / f"{label}-{r}"
                p = oracle_run(label, exe, str(suite), out)
                add(label, "run_eps_wall", args.tasks / p.wall_s)
                add(label, "run_eps_cpu", args.tasks / p.cpu_s)
                add(label, "run_rss_mib", p.rss_mib)
                if not args.no_memory:
                    for epochs in (1, args.epochs):
                        p = oracle_run(label, exe, "core", out / "core", "--epochs", str(epochs))
                        add(label, f"rss_epochs_{epochs}_mib", p.rss_mib)
                shutil.rmtree(out, ignore_errors=True)
        labels = list(bins)
        print(
            f"{args.rounds} interleaved round(s), medians; {args.tasks}-task suite of 4 lookups then an answer"
        )
        print(f"{'figure':<34}" + "".join(f"{label:>14}" for label in labels))
        names = {
            "version_s": "fanout --version (s)",
            "run_eps_wall": "run: episodes/s (wall)",
            "run_eps_cpu": "run: episodes/CPU-s",
            "run_rss_mib": "run: peak RSS (MiB)",
            "rss_epochs_1_mib": "core --epochs 1: peak RSS (MiB)",
            f"rss_epochs_{args.epochs}_mib": f"core --epochs {args.epochs}: peak RSS (MiB)",
        }
        for key, name in names.items():
            if key in res[labels[0]]:
                cells = "".join(f"{statistics.median(res[label][key]):14.3f}" for label in labels)
                print(f"{name:<34}{cells}")
        if not args.no_memory:
            for label in labels:
                a = statistics.median(res[label]["rss_epochs_1_mib"])
                b = statistics.median(res[label][f"rss_epochs_{args.epochs}_mib"])
                print(
                    f"{label}: peak RSS at --epochs {args.epochs} is {100 * (b / a - 1):+.1f}% of --epochs 1"
                )
        floor(args.tasks, args.rounds, suite)
        print(machine().replace("machine", "at the end"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# What every `fanout run` imports before it can do anything: no run of any design built on them
# can start faster (this interpreter; numpy is for the summary's bootstrap intervals).
FLOOR_IMPORTS = "import asyncio, jinja2.sandbox, numpy, pydantic, yaml"


def floor(tasks: int, rounds: int, suite: Path) -> None:
    """The fixed cost below which no whole-process figure can go, beside the target's budget: the
    imports, then what every task costs at the least, with every per-task memo already warm (as
    in a run's later epochs): its two reference schedules (an oracle and a sequential episode on
    the virtual clock, DESIGN 5) and the model's own episode, before loading, ground truth,
    scoring and writing."""
    py = sys.executable
    bare = statistics.median(measured([py, "-c", "pass"]).wall_s for _ in range(3 * rounds))
    imports = statistics.median(measured([py, "-c", FLOOR_IMPORTS]).wall_s for _ in range(3 * rounds))
    budget_ms = 1000 * (tasks / 1500 - imports) / tasks
    print(
        f"floor: interpreter start-up {bare:.3f} s; with the third-party imports of a run "
        f"({FLOOR_IMPORTS[7:]}) {imports:.3f} s; 1,500 episodes/s on {tasks} tasks allows {tasks / 1500:.3f} s "
        f"for the whole process, {budget_ms:.2f} ms per task after these imports"
    )
    refs_ms, episode_ms = warm_per_task(suite, rounds)
    print(
        f"floor: per task, every memo warm: the two reference schedules {refs_ms:.2f} ms, the oracle's "
        f"own episode {episode_ms:.2f} ms; together {refs_ms + episode_ms:.2f} ms against the "
        f"{budget_ms:.2f} ms left"
    )


def warm_per_task(suite_folder: Path, rounds: int) -> tuple[float, float]:
    """CPU ms per task of the two reference schedules and of the oracle's episode, in this
    process, after a first pass has built every per-task memo (best of `rounds`)."""
    from evals.groundtruth import ground_truth
    from evals.models.policies import PolicyModel
    from evals.reference import reference
    from evals.runs import open_suite
    from evals.runtime import run_episode
    from evals.settings import RuntimeSettings

    suite = open_suite(str(suite_folder))
    settings = RuntimeSettings()
    gts = [ground_truth(t, settings.seed) for t in suite.tasks]

    def references() -> float:
        t0 = time.process_time()
        for gt in gts:
            vars(gt.task).pop("_references", None)  # the schedules run again; nothing else does
            reference(gt, settings)
        return time.process_time() - t0

    def episodes() -> float:
        model = PolicyModel("oracle", [suite], seed=settings.seed)  # a new one: no decision memoised

        async def loop() -> None:
            for task in suite.tasks:
                await run_episode(model, task, settings)

        t0 = time.process_time()
        asyncio.run(loop())
        return time.process_time() - t0

    references(), episodes()  # the first pass: every per-task memo built
    n = len(gts)
    refs = min(references() for _ in range(rounds))
    eps = min(episodes() for _ in range(rounds))
    return 1000 * refs / n, 1000 * eps / n


if __name__ == "__main__":
    main()
