"""Runtime benchmark (a script, not a timed test): is the harness ever the bottleneck?

1. Virtual clock: episodes per second for each reference policy on the core suite, in one
   process on one core (runtime + scoring + JSON encoding of the episode line, no disk).
2. Real clock: fidelity of the oracle on tasks with known latencies (measured wall / virtual
   wall), overhead per turn, and one batch of 8 calls of 200 ms.

Usage: python benchmarks/bench_runtime.py [--seconds 3] [--suite core]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time

from evals.fixtures import load_suite
from evals.groundtruth import GroundTruthCache
from evals.models.policies import POLICIES, PolicyModel
from evals.runtime import run_episode
from evals.scoring import score
from evals.settings import RuntimeSettings


async def _virtual(model, tasks, cfg, gts, seconds: float) -> tuple[int, float]:
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for task in tasks:
            trace = await run_episode(model, task, cfg)
            sc = score(gts.get(task, cfg.seed), trace)
            json.dumps({"scores": sc.model_dump(), "trace": trace.model_dump(exclude_none=True)}, default=str)
            n += 1
    return n, time.perf_counter() - t0


def bench_virtual(suite_name: str, seconds: float) -> dict[str, float]:
    suite = load_suite(suite_name)
    cfg = RuntimeSettings()
    gts = GroundTruthCache()
    out = {}
    for p in POLICIES:
        model = PolicyModel(p, [suite])
        asyncio.run(_virtual(model, suite.tasks[:5], cfg, gts, 0.2))  # warm caches
        n, dt = asyncio.run(_virtual(model, suite.tasks, cfg, gts, seconds))
        out[p] = n / dt
    return out


def _fixed_suite(width: int, seconds: float):
    """A synthetic suite: one task fanning out `width` calls of a fixed-latency table tool."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers import graph_suite

    graph = {f"n{i}": [] for i in range(width)}
    return graph_suite({"fan": graph, "chain": {"a": [], "b": ["a"], "c": ["b"]}}, latency_s=seconds)


def bench_real(repeats: int = 5) -> dict:
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
            overheads.append((r.wall_s - v.wall_s) / len(r.turns) * 1000)
            if tid == "fan":
                batch.append(r.turns[0].batch_s * 1000)
    return {
        "fidelity_ratio_mean": statistics.mean(ratios),
        "fidelity_ratio_max": max(ratios),
        "overhead_ms_per_turn_mean": statistics.mean(overheads),
        "overhead_ms_per_turn_max": max(overheads),
        "batch8x200ms_ms_mean": statistics.mean(batch),
        "batch8x200ms_ms_max": max(batch),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--suite", default="core")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    ep = bench_virtual(args.suite, args.seconds)
    print("virtual clock, episodes/second (one process, one core):")
    for p, v in ep.items():
        print(f"  policy/{p:<11} {v:8.0f}")
    print("real clock (oracle, fixed 200 ms tools, 'fast' inference profile):")
    for k, v in bench_real().items():
        print(f"  {k:<28} {v:8.3f}")


if __name__ == "__main__":
    main()
