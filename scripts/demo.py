"""`make run`: the core suite against the five reference models, then the leaderboard.

`make run` writes everything under runs/demo/ (the report in runs/demo/report/), so it never
modifies a tracked file. `make reports` (this script with --publish) writes the published
leaderboard, reports/ and docs/leaderboard.png, with the runs stamped at SOURCE_DATE_EPOCH, so
regenerating it from the same commit gives the same bytes; when only the stamp would change, the
published report keeps its own (keep_published_stamp).

Each step is a `fanout` command, so the demo shows exactly what a user would type. The models go
through real HTTP: the wire-format emulator (`fanout serve`) runs in-process on a free loopback port
and serves the reference policies over the OpenAI Chat Completions and Anthropic Messages formats,
so `openai/oracle` means "the oracle policy, reached through the openai/ adapter". The inference
profile is fixed so the virtual times match an in-process `policy/...` run.

Last, the two shipped system prompts side by side (`--system-prompt default` tells the model when
to call tools in parallel, `neutral` does not). The reference policies read the ground truth, not
the prompt, so their rows cannot move with it; the one reference model that reads its prompt,
`policy/prompt-sensitive`, reacts only to "one call at a time" and "re-fetch" phrases, so it too
makes the same calls under both. The step shows that honestly (the comparison finds no changed
episode, only the recorded prompt hash and the prompt's own tokens differ) and prints how to
measure a real model's unprompted behaviour. It writes under runs/demo/prompts/, which is not a
run folder, so the leaderboard and the five rows above are unchanged.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from evals.cli import main as fanout
from evals.emulator import EmulatorServer
from evals.fixtures import load_suite

MODELS = ["openai/oracle", "openai/sequential", "openai/greedy", "openai/redundant", "anthropic/lazy"]
OUT = Path("runs/demo")
PUBLISHED = Path("reports")
AGENT_RUNTIMES = PUBLISHED / "agent_runtimes.json"  # measured by examples/agents/measure.py
# The emulator accepts any key; a dummy one keeps a real key in the environment off the wire.
DEMO_KEYS = {"OPENAI_API_KEY": "fanout-demo", "ANTHROPIC_API_KEY": "fanout-demo"}


def run(argv: list[str]) -> None:
    print("$ fanout " + " ".join(argv), flush=True)
    code = fanout(argv)
    if code:
        sys.exit(code)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--publish", action="store_true", help="write reports/ and docs/leaderboard.png")
    publish = ap.parse_args().publish
    os.environ.update(DEMO_KEYS)
    report = PUBLISHED if publish else OUT / "report"
    kept = publish and keep_published_stamp()
    if not kept:
        leaderboard(report)
    prompt_variants()
    if publish:
        screenshot(report / "leaderboard.html", Path("docs/leaderboard.png"))
    print(
        f"\nThe leaderboard: {report / 'leaderboard.html'} (make view opens it).\n"
        "To type fanout commands yourself, put it on your PATH first:\n"
        "  . .venv/bin/activate        # then: fanout --help, fanout tasks suites, ...\n"
        "or call it by its path: .venv/bin/fanout --help",
        flush=True,
    )


def leaderboard(report: Path) -> None:
    """The five reference models through the emulator, re-timed by whatif, then the report."""
    if OUT.exists():
        shutil.rmtree(OUT)
    with EmulatorServer([load_suite("core")]) as emulator:
        print(f"emulator serving the reference policies on {emulator.base_url}", flush=True)
        args = ["run", "--suite", "core", "--out", str(OUT), "--base-url", emulator.base_url + "/v1"]
        args += ["--inference-profile", "typical", "--no-cache"]
        for m in MODELS:
            args += ["--model", m]
        run(args)
    whatif = OUT / "whatif"  # not a run folder: `fanout report runs/demo` skips it
    run(["whatif", str(OUT), "--sweep", "inference-profile=fast,typical,slow", "--out", str(whatif)])
    args = ["report", str(OUT), "--out", str(report), "--whatif", str(whatif / "whatif.json")]
    if AGENT_RUNTIMES.is_file():
        args += ["--agent-runtimes", str(AGENT_RUNTIMES)]
    run(args)


REPORT_FILES = ("leaderboard.html", "leaderboard.md", "leaderboard.csv", "leaderboard.json")


def published_epoch() -> int | None:
    """When the published runs were stamped (their `created`), or None without a published report."""
    try:
        rows = json.loads((PUBLISHED / "leaderboard.json").read_text())["rows"]
        when = _dt.datetime.fromisoformat(rows[0]["created"])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return int(when.timestamp())


def keep_published_stamp() -> bool:
    """Regenerate the published report at its own stamp first: when nothing but the stamp would
    change (a commit to code or docs that does not touch the results), the files stay byte for byte
    as they are, so `make reports` after any commit leaves no diff of run ids and dates. Only when
    the content changed is the report made again at SOURCE_DATE_EPOCH. True when the stamp was kept."""
    old = published_epoch()
    new = os.environ.get("SOURCE_DATE_EPOCH")
    if old is None or new is None or str(old) == new:
        return False
    before = {n: (PUBLISHED / n).read_bytes() for n in REPORT_FILES if (PUBLISHED / n).is_file()}
    os.environ["SOURCE_DATE_EPOCH"] = str(old)
    print(f"$ (regenerating the published report at its own stamp, SOURCE_DATE_EPOCH={old})", flush=True)
    leaderboard(PUBLISHED)
    os.environ["SOURCE_DATE_EPOCH"] = new
    after = {n: (PUBLISHED / n).read_bytes() for n in REPORT_FILES if (PUBLISHED / n).is_file()}
    if after == before:
        print("the published report is unchanged but for its stamp: kept as it was", flush=True)
        return True
    print(f"the published report changed: made again at SOURCE_DATE_EPOCH={new}", flush=True)
    return False


def screenshot(page: Path, png: Path) -> None:
    """docs/leaderboard.png, when Playwright and Chromium are there (the browser tests' set-up)."""
    code = subprocess.run([sys.executable, "scripts/screenshot.py", str(page), str(png)]).returncode
    if code:
        print(f"(no screenshot: scripts/screenshot.py exited {code}; {png} left as it was)", flush=True)


# `make run` prompt variants (docs/prompts.md): not part of the leaderboard.
PROMPT_MODEL = "policy/prompt-sensitive"


def prompt_variants() -> None:
    print(
        "\nprompt variants: --system-prompt default (says when to call tools in parallel) vs neutral (no hint)"
    )
    dirs = []
    for name in ("default", "neutral"):
        folder = OUT / "prompts" / name
        run(
            ["run", "--model", PROMPT_MODEL, "--suite", "core", "--system-prompt", name, "--out", str(folder)]
            + ["--inference-profile", "typical", "--no-progress"]
        )
        [run_dir] = [p for p in folder.iterdir() if p.is_dir()]
        dirs.append(str(run_dir))
    run(["compare", *dirs])
    print(
        "\nThe reference models read the ground truth, not the prompt, so no reference row can move with it;\n"
        f"{PROMPT_MODEL} reacts only to 'one call at a time' / 're-fetch' wording, so it makes the same calls\n"
        "under both prompts (the token and wall figures differ only by the prompt's own length). To measure\n"
        "what a real model does unprompted, run it under both and compare:\n"
        "  fanout run --model openai/<model> --suite core --system-prompt default --out runs/default\n"
        "  fanout run --model openai/<model> --suite core --system-prompt neutral --out runs/neutral\n"
        "  fanout compare runs/default/<run_id> runs/neutral/<run_id>",
        flush=True,
    )


if __name__ == "__main__":
    main()
