"""`fanout serve`: run the wire-format emulator in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import socket
import sys
import threading

from pydantic import ValidationError

from ..emulator import EmulatorServer, FaultConfig
from ..fixtures import FixtureErrors, Suite, load_suite
from ..models.policies import POLICIES
from . import EXIT_MISUSE, Subparsers, env


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "serve",
        help="serve reference policies over provider wire formats (emulator)",
        description="Serve the reference policies over the OpenAI Chat Completions, OpenAI Responses, Anthropic "
        "Messages and Gemini generateContent wire formats on loopback, with deterministic fault injection. "
        "The request's model field picks the policy (oracle, policy/greedy ...); anything else gets --policy.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--suite", action="append", default=None, help="suite name or folder, repeatable (default: core)"
    )
    p.add_argument("--policy", default="oracle", choices=POLICIES, help="policy for unrecognised model names")
    p.add_argument(
        "--seed", type=int, default=env("seed", 0, int), help="world seed the policies resolve with"
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (loopback unless --allow-remote)"
    )
    p.add_argument("--port", type=int, default=8911, help="port (0 = any free port)")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --host")
    p.add_argument("--fault-rate", type=float, default=0.0, help="fraction of requests that get a fault")
    p.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draws")
    p.add_argument(
        "--fault-kinds",
        default="429,500,503,529,slow,truncated,malformed,drop",
        help="comma-separated fault kinds to draw from",
    )
    p.add_argument(
        "--retry-after", type=float, default=0.05, help="seconds sent in Retry-After on 429/503/529"
    )
    p.add_argument("--slow-s", type=float, default=0.2, help="extra delay of a 'slow' fault, seconds")
    p.add_argument(
        "--max-faults-per-request", type=int, default=2, help="faults one identical request can get in a row"
    )
    p.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between streamed chunks")
    p.add_argument(
        "--reasoning",
        action="store_true",
        help="act as a reasoning model: emit thought signatures, thinking blocks and reasoning items, "
        "and reject a follow-up request that does not send them back (docs/emulator.md)",
    )
    p.set_defaults(func=cmd_serve)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    from ..emulator import EmulatorServer, FaultConfig

    def fail(msg: str) -> int:
        print(f"fanout serve: {msg}", file=sys.stderr)
        return EXIT_MISUSE

    if not is_loopback(args.host) and not args.allow_remote:
        return fail(f"--host {args.host} is not a loopback address; pass --allow-remote to serve on it")
    if not 0 <= args.port <= 65535:
        return fail(f"--port {args.port} is out of range 0..65535")
    if args.chunk_delay < 0:
        return fail("--chunk-delay must be >= 0")
    try:
        faults = FaultConfig(
            rate=args.fault_rate,
            seed=args.fault_seed,
            kinds=[k.strip() for k in args.fault_kinds.split(",") if k.strip()],
            retry_after_s=args.retry_after,
            slow_s=args.slow_s,
            max_per_request=args.max_faults_per_request,
        )
    except ValidationError as exc:
        errs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return fail(f"invalid fault settings: {errs}")
    suites = []
    for name in args.suite or ["core"]:
        try:
            suites.append(load_suite(name))
        except FixtureErrors as exc:
            return fail(f"suite {name!r} has errors:\n{exc}")
        except FileNotFoundError as exc:
            return fail(str(exc))
    server = EmulatorServer(
        suites, args.policy, args.seed, args.host, args.port, faults, args.chunk_delay, args.reasoning
    )
    try:
        server.start()
    except OSError as exc:
        return fail(str(exc))
    print_banner(server, suites, faults)
    stop = threading.Event()
    # SIGTERM (how scripts stop a background server, whose SIGINT the shell ignores) stops it cleanly too.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
        counts = server.faults.counts()
        injected = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"
        print(
            f"\nstopped after {server.requests_served} requests (faults injected: {injected})",
            file=sys.stderr,
        )
    return 0


def print_banner(server: EmulatorServer, suites: list[Suite], faults: FaultConfig) -> None:
    url = server.base_url
    n = sum(len(s.tasks) for s in suites)
    names = ", ".join(s.name for s in suites)
    fault_desc = (
        f"faults {faults.rate:g} of requests ({','.join(faults.kinds)}), seed {faults.seed}"
        if faults.rate > 0
        else "faults off"
    )
    host = socket.gethostname() if server.host in ("0.0.0.0", "::") else server.host
    print(
        f"fanout emulator on {host}: policy {server.policy}, suites {names} ({n} task{'s' if n != 1 else ''}), seed {server.seed}, {fault_desc}"
        + (", reasoning mode" if server.reasoning else "")
    )
    rows = [
        ("OpenAI Chat Completions", f"{url}/v1", "POST /v1/chat/completions   model: openai/oracle"),
        ("OpenAI Responses", f"{url}/v1", "POST /v1/responses           model: openai-responses/oracle"),
        ("Anthropic Messages", url, "POST /v1/messages            model: anthropic/oracle"),
        ("Gemini", f"{url}/v1beta", "POST /v1beta/models/oracle:generateContent   model: google/oracle"),
    ]
    for name, base, how in rows:
        print(f"  {name:<24} {base:<32} {how}")
    print(
        f"e.g. OPENAI_API_KEY=test fanout run --model openai/{server.policy} --base-url {url}/v1"
        "  (any non-empty API key works)"
    )
    print("Ctrl-C to stop.", flush=True)
