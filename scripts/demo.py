"""`make run`: the core suite against the five reference models, then the leaderboard.

Each step is a `fanout` command, so the demo shows exactly what a user would type.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from evals.cli import main as fanout

MODELS = ["policy/oracle", "policy/sequential", "policy/greedy", "policy/redundant", "policy/lazy"]
OUT = Path("runs/demo")


def run(argv: list[str]) -> None:
    print("$ fanout " + " ".join(argv), flush=True)
    code = fanout(argv)
    if code:
        sys.exit(code)


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    args = ["run", "--suite", "core", "--out", str(OUT), "--no-progress"]
    for m in MODELS:
        args += ["--model", m]
    run(args)


if __name__ == "__main__":
    main()
