"""Runtime benchmark (a script, not a timed test): is the harness ever the bottleneck?

1. Virtual clock: episodes per second for each reference policy on the core suite, in one
   process on one core, doing what `fanout run` does per episode: the runtime, the scoring (one
   ground-truth cache shared by the policy and the scorer, as in a run) and the episode's JSON
   line as written (`EpisodeRecord.line_bytes()`, without the disk), the suite opened as a run
   opens it. The first pass over the suite (ground truth, references, memos) is not timed: the
   figure is the steady state of a run's later epochs. Reported per CPU second, which other load
   on the machine barely moves, and per wall second.
2. Real clock: the runtime's overhead per turn as the traces record it (`runtime_overhead_s /
   turns`: measured wall minus the virtual timeline of the same turns) with 32 episodes of the
   core suite in flight on one event loop, median and p90 over the episodes; then the fidelity of
   the oracle on tasks with known latencies and one batch of 8 calls of 200 ms.

Usage:
  python benchmarks/bench_runtime.py [--seconds 3] [--suite core]
  python benchmarks/bench_runtime.py --compare main=../main/.venv/bin/python --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, interleave, last_json, machine, median, pythons  # noqa: E402


def _policies() -> list[str]:
    from evals.models.policies import POLICIES

    return [p for p in POLICIES if p != "prompt-sensitive"]


def _ground_truth() -> Callable[[Any, int], Any]:
    """`ground_truth(task, seed)`, or the per-run cache older code had in its place, so that
    `--compare` can measure a checkout from before the function existed (the pre-issue baseline)."""
    try:
        from evals.groundtruth import ground_truth

        return ground_truth
    except ImportError:
        from evals.groundtruth import GroundTruthCache  # type: ignore[attr-defined]

        return GroundTruthCache().get  # type: ignore[no-any-return]


def bench_virtual(suite_name: str, seconds: float, policies: list[str]) -> dict[str, dict[str, float]]:
    from evals.episodes import EpisodeRecord
    from evals.models.policies import PolicyModel
    from evals.runs import open_suite
    from evals.runtime import run_episode
    from evals.scoring import score
    from evals.settings import RuntimeSettings

    suite = open_suite(suite_name)  # as `fanout run` opens it (then out of the collector's reach)
    cfg = RuntimeSettings()
    ground_truth = _ground_truth()

    async def loop(model: PolicyModel, tasks: list, budget: float) -> int:
        n = 0
        t0 = time.perf_counter()
        while True:
            for task in tasks:
                trace = await run_episode(model, task, cfg)
                sc = score(ground_truth(task, cfg.seed), trace)
                EpisodeRecord(
                    task_id=task.id, epoch=0, pattern=task.pattern, scores=sc, trace=trace
                ).line_bytes()
                n += 1
            if time.perf_counter() - t0 >= budget:
                return n

    out = {}
    for p in policies:
        model = PolicyModel(p, [suite])
        asyncio.run(loop(model, suite.tasks, 0.0))  # one pass: ground truth and plans cached, as in a run
        w0, c0 = time.perf_counter(), time.process_time()
        n = asyncio.run(loop(model, suite.tasks, seconds))
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        out[p] = {"eps_cpu": n / cpu, "eps_wall": n / wall}
    return out


def bench_concurrent_real(suite_name: str, concurrency: int = 32) -> dict[str, float]:
    """Trace-recorded overhead per turn with `concurrency` real-clock episodes in flight."""
    from evals.fixtures import load_suite
    from evals.models.policies import PolicyModel
    from evals.runtime import run_episode
    from evals.settings import RuntimeSettings

    suite = load_suite(suite_name)
    oracle = PolicyModel("oracle", [suite])
    # Short waits keep the benchmark to seconds; the overhead is per wake-up, not per second waited.
    cfg = RuntimeSettings(clock="real", inference_profile="fast", latency_scale=0.25)
    sem = asyncio.Semaphore(concurrency)

    async def one(task):  # type: ignore[no-untyped-def]
        async with sem:
            return await run_episode(oracle, task, cfg)

    async def all_tasks() -> list:
        return await asyncio.gather(*(one(t) for t in suite.tasks))

    traces = asyncio.run(all_tasks())
    per_turn = sorted(1000 * (t.runtime_overhead_s or 0.0) / len(t.turns) for t in traces if t.turns)
    return {
        "overhead_ms_per_turn_median": statistics.median(per_turn),
        "overhead_ms_per_turn_p90": per_turn[int(0.9 * (len(per_turn) - 1))],
        "episodes": float(len(per_turn)),
    }


def _fixed_suite(width: int, seconds: float):  # type: ignore[no-untyped-def]
    """A synthetic suite: one task fanning out `width` calls of a fixed-latency table tool."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers import graph_suite

    graph: dict[str, list[str]] = {f"n{i}": [] for i in range(width)}
    return graph_suite({"fan": graph, "chain": {"a": [], "b": ["a"], "c": ["b"]}}, latency_s=seconds)


def bench_real(repeats: int = 5) -> dict[str, float]:
    from evals.models.policies import PolicyModel
    from evals.runtime import run_episode
    from evals.settings import RuntimeSettings

    suite = _fixed_suite(8, 0.2)
    oracle = PolicyModel("oracle", [suite])
    virt_cfg = RuntimeSettings(inference_profile="fast")
    real_cfg = RuntimeSettings(inference_profile="fast", clock="real")
    ratios, overheads, batch = [], [], []
    for _ in range(repeats):
        for tid in ("fan", "chain"):
            task = suite.by_id[tid]
            v = asyncio.run(run_episode(oracle, task, virt_cfg))
            r = asyncio.run(run_episode(oracle, task, real_cfg))
            ratios.append(r.wall_s / v.wall_s)
            overheads.append(1000 * (r.runtime_overhead_s or 0.0) / len(r.turns))
            if tid == "fan":
                batch.append(r.turns[0].batch_s * 1000)
    return {
        "fidelity_ratio_mean": statistics.mean(ratios),
        "fidelity_ratio_max": max(ratios),
        "alone_overhead_ms_per_turn_median": statistics.median(overheads),
        "batch8x200ms_ms_mean": statistics.mean(batch),
        "batch8x200ms_ms_max": max(batch),
    }


def child(args: argparse.Namespace) -> None:
    data: dict[str, float] = {}
    if args.part in ("all", "virtual"):
        for p, v in bench_virtual(args.suite, args.seconds, args.policies.split(",")).items():
            data[f"{p}_eps_cpu"], data[f"{p}_eps_wall"] = v["eps_cpu"], v["eps_wall"]
    if args.part in ("all", "real"):
        data.update(bench_concurrent_real(args.suite))
        data.update(bench_real())
    emit(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0, help="seconds per policy")
    ap.add_argument("--suite", default="core")
    ap.add_argument("--policies", default=None, help="comma-separated (default: the five reference policies)")
    ap.add_argument("--part", choices=("all", "virtual", "real"), default="all")
    ap.add_argument("--rounds", type=int, default=1, help="interleaved rounds; medians are printed")
    ap.add_argument(
        "--compare",
        default=None,
        metavar="LABEL=PYTHON,...",
        help="also measure under these interpreters (e.g. another checkout's .venv/bin/python)",
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.policies = args.policies or ",".join(_policies())
    if args.child:
        child(args)
        return
    print(machine())
    interpreters = pythons(args.compare)
    script = str(Path(__file__).resolve())

    def measure(label: str) -> dict[str, float]:
        cmd = [interpreters[label], script, "--child", "--seconds", str(args.seconds), "--suite", args.suite]
        cmd += ["--policies", args.policies, "--part", args.part]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{label}: benchmark failed:\n{done.stderr[-3000:]}")
        return last_json(done.stdout)

    results = interleave(list(interpreters), args.rounds, measure)
    labels = list(interpreters)
    keys = list(results[labels[0]][0])
    print(f"{args.rounds} round(s), median per figure; virtual: episodes/s per CPU second (per wall second)")
    print(f"{'figure':<36}" + "".join(f"{label:>18}" for label in labels))
    for k in keys:
        if k.endswith("_eps_wall"):
            continue
        cells = []
        for label in labels:
            v = median(results[label], k)
            if k.endswith("_eps_cpu"):
                w = median(results[label], k.replace("_cpu", "_wall"))
                cells.append(f"{v:8.0f} ({w:6.0f})")
            else:
                cells.append(f"{v:18.3f}")
        name = f"policy/{k[: -len('_eps_cpu')]}" if k.endswith("_eps_cpu") else k
        print(f"{name:<36}" + "".join(f"{c:>18}" for c in cells))
    print(machine().replace("machine", "at the end"))


if __name__ == "__main__":
    main()
