"""`fanout serve-tools`: one task's mock tools over MCP (streamable HTTP on loopback, or stdio).

Over HTTP it also serves the model proxy for the same episode, so an agent started by hand (any
language, any framework) can be pointed at both addresses; on exit the episode is rebuilt and
scored exactly as `fanout run --model agent/...` would, and `--record` writes it. `--stdio` serves
the tools on stdin/stdout (each call its own batch: there is no model record to batch by), and
`--stdio --connect URL` relays an episode's HTTP tools to stdio for agents that only start MCP
servers as subprocesses (how `agent/` configs with `transport = "stdio"` get their tools).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..fixtures import FixtureErrors, load_suite
from . import EXIT_MISUSE, env

if TYPE_CHECKING:
    from ..fixtures import Task
    from ..models import Model
    from ..settings import RuntimeSettings
from .serve import is_loopback


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve-tools",
        help="serve a task's mock tools over MCP (and a model proxy for the same episode)",
        description="Serve one task's mock tools over the Model Context Protocol: streamable HTTP on loopback "
        "(default; also serves the model proxy for the same episode and scores the episode on exit) or stdio. "
        "Latencies are really waited, state and batches follow the runtime's rules, every call is recorded.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--suite", default=env("suite", "core"), help="suite name or folder")
    p.add_argument("--task", default=None, help="task id (required unless --connect)")
    p.add_argument("--seed", type=int, default=env("seed", 0, int), help="world and latency seed")
    p.add_argument("--latency-scale", type=float, default=1.0, help="multiply every tool latency")
    p.add_argument("--latency-profile", default=None, help="replace every tool's latency model")
    p.add_argument("--tool-timeout", type=float, default=None, help="seconds before a call returns a timeout")
    p.add_argument(
        "--model",
        default="policy/oracle",
        help="what the model proxy serves: policy/<name> or a provider model (HTTP mode)",
    )
    p.add_argument("--inference-profile", default=None, help="fast|typical|slow latency of a policy's turns")
    p.add_argument("--host", default="127.0.0.1", help="loopback interface to listen on")
    p.add_argument("--port", type=int, default=8912, help="MCP port (0 = any free port)")
    p.add_argument("--model-port", type=int, default=8913, help="model proxy port (0 = any free port)")
    p.add_argument("--stdio", action="store_true", help="speak MCP on stdin/stdout instead of HTTP")
    p.add_argument("--connect", default=None, metavar="URL", help="with --stdio: relay to this MCP URL")
    p.add_argument("--record", default=None, metavar="FILE", help="write the episode (or stdio calls) here")
    p.set_defaults(func=cmd_serve_tools)


def cmd_serve_tools(args: argparse.Namespace) -> int:
    def fail(msg: str) -> int:
        print(f"fanout serve-tools: {msg}", file=sys.stderr)
        return EXIT_MISUSE

    if args.connect:
        if not args.stdio:
            return fail("--connect relays to stdio; add --stdio")
        from ..agents.bridge import bridge_stdio

        asyncio.run(bridge_stdio(args.connect))
        return 0
    if not args.task:
        return fail("--task is required")
    if not is_loopback(args.host):
        return fail(f"--host {args.host} is not a loopback address")
    for flag in ("port", "model_port"):
        if not 0 <= getattr(args, flag) <= 65535:
            return fail(f"--{flag.replace('_', '-')} is out of range 0..65535")
    try:
        suite = load_suite(args.suite)
    except FixtureErrors as exc:
        return fail(f"suite {args.suite!r} has errors:\n{exc}")
    except FileNotFoundError as exc:
        return fail(str(exc))
    task = suite.by_id.get(args.task)
    if task is None:
        return fail(f"no task {args.task!r} in suite {suite.name!r}")
    from pydantic import ValidationError

    from ..settings import RuntimeSettings, validation_message

    try:
        cfg = RuntimeSettings(
            seed=args.seed,
            clock="real",
            inference_profile=args.inference_profile,
            latency_scale=args.latency_scale,
            latency_profile=args.latency_profile,
            tool_timeout=args.tool_timeout,
        )
    except ValidationError as exc:
        return fail(validation_message(exc))
    if args.stdio:
        return asyncio.run(_stdio(task, cfg, args.record))
    from ..models import make_model

    try:
        backend = make_model(args.model, [suite], seed=args.seed)
    except ValueError as exc:
        return fail(str(exc))
    try:
        return asyncio.run(_http(task, cfg, backend, args))
    except OSError as exc:
        return fail(str(exc))


async def _stdio(task: Task, cfg: RuntimeSettings, record: str | None) -> int:
    from ..agents.mcp_server import serve_stdio
    from ..agents.session import EpisodeSession

    session = EpisodeSession(task, cfg)
    t0 = time.perf_counter()
    try:
        await serve_stdio(session)
    finally:
        if record:
            with open(record, "w", encoding="utf-8") as f:
                for c in session.calls:
                    row = {
                        "seq": c.seq,
                        "name": c.name,
                        "arguments": c.arguments,
                        "result": c.result,
                        "error": c.error,
                        "start_s": c.start - t0,
                        "end_s": None if c.end is None else c.end - t0,
                        "sample_s": c.sample_s,
                        "duration_s": c.duration_s,
                        "attempt": c.attempt,
                    }
                    f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    return 0


async def _http(task: Task, cfg: RuntimeSettings, backend: Model, args: argparse.Namespace) -> int:
    from ..agents.host import AgentHost
    from ..agents.rebuild import AgentOutcome, AgentRun, rebuild
    from ..groundtruth import ground_truth
    from ..scoring import score

    host = AgentHost(backend, args.host, args.port, args.model_port)
    try:
        await host.start()
    except OSError as exc:  # name the flag whose port is taken: the default 8913 is easy to miss
        flag, port = (
            ("--model-port", args.model_port) if host.unbound == "model proxy" else ("--port", args.port)
        )
        raise OSError(f"{flag} {port}: {exc}") from None
    session = host.open(task, cfg, token="")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started = time.perf_counter()
    try:
        async with host.tools.serving(session) as url:
            base = host.model_base_url(session)
            print(
                f"fanout serve-tools: task {task.id} ({task.pattern}), {len(task.tools)} tools, seed {cfg.seed}"
            )
            print(f"  MCP (streamable HTTP)  {url}")
            print(f"  model proxy            {base}/v1  (OpenAI; Anthropic: {base}), serving {backend.name}")
            print(f"  prompt                 {task.prompt}")
            print("Ctrl-C to stop and score the episode.", flush=True)
            await stop.wait()
        session.finish()
    finally:
        await host.stop()
        await backend.aclose()
    answer = next((t.response.text for t in reversed(session.turns) if t.response is not None), None)
    out = AgentOutcome(started, time.perf_counter(), 0, False, answer)
    trace = rebuild(session, f"serve-tools/{backend.name}", out, AgentRun(agent="external"))
    sc = score(ground_truth(task, cfg.seed), trace)
    print(
        f"\n{len(session.turns)} model turns, {len(session.calls)} tool calls; success {sc.success}, "
        f"recall {sc.fan_out_recall}, redundant {sc.redundant_calls}, wall {sc.wall_s:.2f} s",
        file=sys.stderr,
    )
    if args.record:
        doc = {"task_id": task.id, "scores": sc.model_dump(), "trace": trace.model_dump(exclude_none=True)}
        Path(args.record).write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
        print(f"episode: {args.record}", file=sys.stderr)
    return 0
