"""`fanout report`: leaderboard HTML, Markdown, CSV and JSON from run folders.

Aggregate run folders (several models, several suites) into leaderboard.html (self-contained, no
network), leaderboard.md, leaderboard.csv and leaderboard.json in --out (default: a new folder
runs/report-<date>-<time>, so an earlier report, such as the published reports/, is never
overwritten unless named). A folder that holds run folders (e.g. runs/demo) stands for all of
them. Runs that do not compare (other suites, task subsets, clocks, seeds, inference profiles,
tool latencies, runtime policies or prompts) are ranked in separate groups, with a warning.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from pathlib import Path

from ..errors import EXIT_OK, UsageError
from ..files import claim_new_folder
from . import Subparsers, command, env, out_folder

DEFAULT_PARENT = Path("runs")


def register(sub: Subparsers) -> None:
    p = command(sub, "report", __doc__, "leaderboard (HTML, Markdown, CSV, JSON) from run folders")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folder, or a folder of run folders")
    p.add_argument(
        "--out",
        default=env("report-out"),
        help="output folder (default: a new runs/report-<date>-<time>) [FANOUT_REPORT_OUT]",
    )
    p.add_argument("--title", default=None, help="page title (default: Fanout leaderboard)")
    p.add_argument("--whatif", default=None, metavar="FILE.json", help="`fanout whatif --out` file to chart")
    p.add_argument(
        "--agent-runtimes",
        default=None,
        metavar="FILE.json",
        help="agent-runtimes table to add (examples/agents/measure.py; e.g. reports/agent_runtimes.json)",
    )
    p.set_defaults(func=cmd_report)


def fresh_folder(parent: Path = DEFAULT_PARENT, now: _dt.datetime | None = None) -> Path:
    """A new report folder, made now: runs/report-YYYYmmdd-HHMMSS[-N]. It is claimed as a run
    folder is (an atomic mkdir, `files.claim_new_folder`), so two reports started in the same
    second, in this process or another, never share one. `build_report` calls it only when the
    runs have loaded, so a report that fails leaves no folder."""
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {parent}: {exc.strerror or exc}") from None
    return claim_new_folder(parent, f"report-{stamp}")


def cmd_report(args: argparse.Namespace) -> int:
    from ..report.build import DEFAULT_TITLE, build_report

    named = out_folder(args.out, "the report files") if args.out else None
    t0 = time.perf_counter()
    try:
        files = build_report(
            args.runs,
            named or fresh_folder,
            title=args.title or DEFAULT_TITLE,
            whatif=args.whatif,
            agent_runtimes=args.agent_runtimes,
        )
    except OSError as exc:  # --out is not writable: the caller named a bad place
        raise UsageError(f"cannot write to {named or DEFAULT_PARENT}: {exc.strerror or exc}") from None
    out = files.html.parent
    dt = time.perf_counter() - t0
    episodes = sum(r["episodes"] or 0 for r in files.rows)
    print(f"report: {len(files.rows)} runs, {episodes} episodes in {dt:.2f} s")
    for path in (files.html, files.markdown, files.csv, files.json):
        print(f"  {path} ({path.stat().st_size:,} bytes)")
    for w in files.warnings:
        print(f"fanout report: warning: {w}", file=sys.stderr)
    print(f"open it: fanout view {out}   (or {files.html.resolve().as_uri()})")
    return EXIT_OK
