"""`make run`: the core suite against the five reference models, then the leaderboard.

Each step is a `fanout` command, so the demo shows exactly what a user would type. The models go
through real HTTP: the wire-format emulator (`fanout serve`) runs in-process on a free loopback port
and serves the reference policies over the OpenAI Chat Completions and Anthropic Messages formats,
so `openai/oracle` means "the oracle policy, reached through the openai/ adapter". The inference
profile is fixed so the virtual times match an in-process `policy/...` run.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from evals.cli import main as fanout
from evals.emulator import EmulatorServer
from evals.fixtures import load_suite

MODELS = ["openai/oracle", "openai/sequential", "openai/greedy", "openai/redundant", "anthropic/lazy"]
OUT = Path("runs/demo")
# The emulator accepts any key; a dummy one keeps a real key in the environment off the wire.
DEMO_KEYS = {"OPENAI_API_KEY": "fanout-demo", "ANTHROPIC_API_KEY": "fanout-demo"}


def run(argv: list[str]) -> None:
    print("$ fanout " + " ".join(argv), flush=True)
    code = fanout(argv)
    if code:
        sys.exit(code)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    os.environ.update(DEMO_KEYS)
    with EmulatorServer([load_suite("core")]) as emulator:
        print(f"emulator serving the reference policies on {emulator.base_url}", flush=True)
        args = [
            "run",
            "--suite",
            "core",
            "--out",
            str(OUT),
            "--no-progress",
            "--base-url",
            emulator.base_url + "/v1",
        ]
        args += ["--inference-profile", "typical", "--no-cache"]
        for m in MODELS:
            args += ["--model", m]
        run(args)
    whatif = OUT / "whatif"  # not a run folder: `fanout report runs/demo` skips it
    run(["whatif", str(OUT), "--sweep", "inference-profile=fast,typical,slow", "--out", str(whatif)])
    run(["report", str(OUT), "--out", "reports", "--whatif", str(whatif / "whatif.json")])


if __name__ == "__main__":
    main()
