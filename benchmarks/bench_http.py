"""HTTP path benchmark (a script, not a timed test): episodes per second of the core suite through
the provider adapters against the wire-format emulator, which runs in its own process (so client
and server do not share one interpreter), at `--max-concurrency 64`.

Usage: python benchmarks/bench_http.py [--rounds 2] [--concurrency 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time

import httpx

from evals.fixtures import load_suite
from evals.models import make_model
from evals.runtime import run_episode
from evals.settings import RuntimeSettings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("emulator did not start")


async def measure(spec: str, base_url: str, suite, rounds: int, concurrency: int) -> tuple[float, int]:
    model = make_model(spec, [suite], options={"base_url": base_url, "cache": False})
    cfg = RuntimeSettings(inference_profile="typical")
    sem = asyncio.Semaphore(concurrency)

    async def one(task):
        async with sem:
            return await run_episode(model, task, cfg)

    await asyncio.gather(*(one(t) for t in suite.tasks[:32]))  # warm connections
    t0 = time.perf_counter()
    traces = await asyncio.gather(*(one(t) for _ in range(rounds) for t in suite.tasks))
    dt = time.perf_counter() - t0
    await model.aclose()
    errors = [t.error for t in traces if t.error]
    if errors:
        print(f"    first error: {errors[0]}")
    return len(traces) / dt, len(errors)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "evals", "serve", "--suite", "core", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.setdefault("OPENAI_API_KEY", "bench")
    os.environ.setdefault("ANTHROPIC_API_KEY", "bench")
    os.environ.setdefault("GEMINI_API_KEY", "bench")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base)
        suite = load_suite("core")
        print(
            f"{len(suite.tasks)} core tasks x {args.rounds}, concurrency {args.concurrency}, emulator in its own process"
        )
        for spec in ("openai/oracle", "anthropic/oracle", "openai-responses/oracle", "google/oracle"):
            eps, errors = asyncio.run(measure(spec, base + "/v1", suite, args.rounds, args.concurrency))
            print(f"  {spec:<24} {eps:7.0f} episodes/s  ({errors} errors)")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
