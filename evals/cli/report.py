"""`fanout report`: leaderboard HTML, Markdown, CSV and JSON from run folders.

Aggregate run folders (several models, several suites) into leaderboard.html (self-contained, no
network), leaderboard.md, leaderboard.csv and leaderboard.json in --out. A folder that holds run
folders (e.g. runs/demo) stands for all of them.
"""

from __future__ import annotations

import argparse
import time

from ..errors import EXIT_OK, UsageError
from . import Subparsers, command, env


def register(sub: Subparsers) -> None:
    p = command(sub, "report", __doc__, "leaderboard (HTML, Markdown, CSV, JSON) from run folders")
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run folder, or a folder of run folders")
    p.add_argument("--out", default=env("report-out", "reports"), help="output folder [FANOUT_REPORT_OUT]")
    p.add_argument("--title", default=None, help="page title (default: Fanout leaderboard)")
    p.add_argument("--whatif", default=None, metavar="FILE.json", help="`fanout whatif --out` file to chart")
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from ..report.build import DEFAULT_TITLE, build_report

    t0 = time.perf_counter()
    try:
        files = build_report(args.runs, args.out, title=args.title or DEFAULT_TITLE, whatif=args.whatif)
    except OSError as exc:  # --out is a file, or not writable: the caller named a bad place
        raise UsageError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    dt = time.perf_counter() - t0
    episodes = sum(r["episodes"] or 0 for r in files.rows)
    print(f"report: {len(files.rows)} runs, {episodes} episodes in {dt:.2f} s")
    for path in (files.html, files.markdown, files.csv, files.json):
        print(f"  {path} ({path.stat().st_size:,} bytes)")
    return EXIT_OK
