"""HTTP path benchmark (a script, not a timed test): episodes per second of the core suite through
the provider adapters against the wire-format emulator (`fanout serve`), which runs in its own
process, so client and server do not share one interpreter.

Every measurement runs its client in a fresh process, so its peak RSS is the client's own (imports,
connections, in-flight episodes) and one setting cannot warm another's caches. Settings are
interleaved: round 1 measures every (adapter, connections, concurrency) once, then round 2 again,
and the median per setting is printed, so a burst of load elsewhere on the machine hits every
setting alike. Besides episodes/s (which other load on the machine lowers), it prints the CPU time
the client and the server spend per episode, which load barely moves: on an idle machine with a
core for each, throughput is about 1000 / the larger of the two (ms) episodes/s. `build` is the
time to build the model and run the 32 warm-up episodes, when the connections are opened.

Usage:
  python benchmarks/bench_http.py                                  # 4 adapters, 64 connections, concurrency 64
  python benchmarks/bench_http.py --connections 64,1000 --concurrency 64,1000 --rounds 3
  python benchmarks/bench_http.py --adapters openai --stream --reasoning
  python benchmarks/bench_http.py --compare main=../main/.venv/bin/python --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import pythons, self_rss_mib  # noqa: E402

ADAPTERS = ("openai", "anthropic", "openai-responses", "google")


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


async def measure(
    spec: str,
    base_url: str,
    repeats: int,
    connections: int,
    concurrency: int,
    stream: bool,
    effort: str | None = None,
) -> dict:
    from evals.fixtures import load_suite
    from evals.models import make_model
    from evals.runtime import run_episode
    from evals.settings import RuntimeSettings

    suite = load_suite("core")
    opts = {"base_url": base_url, "cache": False, "max_connections": connections, "stream": stream}
    if effort:  # a stateless Responses model keeps its reasoning only when asked to
        opts["settings"] = {"reasoning_effort": effort}
    t_build = time.perf_counter()
    model = make_model(spec, [suite], options=opts)
    build_s = time.perf_counter() - t_build
    cfg = RuntimeSettings(inference_profile="typical")
    sem = asyncio.Semaphore(concurrency)

    async def one(task):
        async with sem:
            return await run_episode(model, task, cfg)

    t_warm = time.perf_counter()
    await asyncio.gather(*(one(t) for t in suite.tasks[:32]))  # warm up (connections are opened here)
    build_s += time.perf_counter() - t_warm
    t0, c0 = time.perf_counter(), time.process_time()
    traces = await asyncio.gather(*(one(t) for _ in range(repeats) for t in suite.tasks))
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    await model.aclose()
    errors = [t.error for t in traces if t.error]
    return {
        "eps": len(traces) / dt,
        "cpu_ms": 1000 * cpu / len(traces),
        "episodes": 32 + len(traces),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "build_s": build_s,
        "rss_mib": self_rss_mib(),
    }


def client_main(args: argparse.Namespace) -> None:
    for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        os.environ.setdefault(k, "bench")
    res = asyncio.run(
        measure(args.client, args.base, args.repeats, args.conn, args.conc, args.stream_client, args.effort)
    )
    print(json.dumps(res))


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_client(
    spec: str,
    base: str,
    repeats: int,
    conn: int,
    conc: int,
    stream: bool,
    reasoning: bool = False,
    python: str = sys.executable,
) -> dict:
    cmd = [python, __file__, "--client", spec, "--base", base, "--repeats", str(repeats)]
    if reasoning and spec.startswith("openai-responses/"):
        cmd += ["--effort", "medium"]
    cmd += ["--conn", str(conn), "--conc", str(conc)]
    if stream:
        cmd.append("--stream-client")
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"client {spec} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the median is printed")
    ap.add_argument("--repeats", type=int, default=2, help="passes over the core suite per measurement")
    ap.add_argument("--connections", default="64", help="comma-separated --max-connections values")
    ap.add_argument("--concurrency", default="64", help="comma-separated episode concurrencies")
    ap.add_argument(
        "--adapters", default=",".join(ADAPTERS), help=f"comma-separated, of {', '.join(ADAPTERS)}"
    )
    ap.add_argument("--stream", action="store_true", help="stream responses")
    ap.add_argument("--reasoning", action="store_true", help="emulator in reasoning mode")
    ap.add_argument(
        "--compare",
        default=None,
        metavar="LABEL=PYTHON,...",
        help="also measure other installs (their python; each gets its own emulator), interleaved",
    )
    # internal: one measurement in a fresh process
    ap.add_argument("--client", help=argparse.SUPPRESS)
    ap.add_argument("--base", help=argparse.SUPPRESS)
    ap.add_argument("--conn", type=int, default=64, help=argparse.SUPPRESS)
    ap.add_argument("--conc", type=int, default=64, help=argparse.SUPPRESS)
    ap.add_argument("--stream-client", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--effort", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        client_main(args)
        return
    interpreters = pythons(args.compare)
    servers: dict[str, tuple[subprocess.Popen, str]] = {}
    try:
        for label, python in interpreters.items():
            port = free_port()
            cmd = [python, "-m", "evals", "serve", "--suite", "core", "--port", str(port)]
            if args.reasoning:
                cmd.append("--reasoning")
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            servers[label] = (proc, f"http://127.0.0.1:{port}")
        for _, base in servers.values():
            wait_ready(base)
        settings = [
            (label, a, conn, conc)
            for a in args.adapters.split(",")
            for conn in ints(args.connections)
            for conc in ints(args.concurrency)
            for label in interpreters
        ]
        results: dict[tuple, list[dict]] = {s: [] for s in settings}
        print(
            f"core suite x {args.repeats} per measurement, {args.rounds} interleaved round(s), "
            f"emulator in its own process{', streaming' if args.stream else ''}"
            f"{', reasoning mode' if args.reasoning else ''}; load average {os.getloadavg()[0]:.2f}"
        )
        for _ in range(args.rounds):
            for label, a, conn, conc in settings:
                server, base = servers[label]
                s0 = cpu_s(server.pid)
                r = run_client(
                    f"{a}/oracle",
                    base + "/v1",
                    args.repeats,
                    conn,
                    conc,
                    args.stream,
                    args.reasoning,
                    interpreters[label],
                )
                r["server_cpu_ms"] = 1000 * (cpu_s(server.pid) - s0) / r["episodes"]
                results[(label, a, conn, conc)].append(r)
        print(
            f"{'install':<8} {'adapter':<18} {'conns':>6} {'conc':>6} {'episodes/s':>11} {'client CPU/ep':>14} "
            f"{'server CPU/ep':>14} {'client RSS':>11} {'warm-up':>8} {'errors':>7}"
        )
        for label, a, conn, conc in settings:
            rs = results[(label, a, conn, conc)]
            eps = statistics.median(r["eps"] for r in rs)
            cpu = statistics.median(r["cpu_ms"] for r in rs)
            scpu = statistics.median(r["server_cpu_ms"] for r in rs)
            rss = max(r["rss_mib"] for r in rs)
            build = statistics.median(r["build_s"] for r in rs)
            errs = sum(r["errors"] for r in rs)
            print(
                f"{label:<8} {a:<18} {conn:>6} {conc:>6} {eps:>11.0f} {cpu:>11.2f} ms {scpu:>11.2f} ms "
                f"{rss:>7.0f} MiB {build:>7.2f}s {errs:>7}"
            )
            if errs:
                print(f"    first error: {next(r['first_error'] for r in rs if r['first_error'])}")
        print(f"load average at the end {os.getloadavg()[0]:.2f}")
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
