"""`fanout view`: open a leaderboard in the browser.

Open leaderboard.html of a report folder (or the file itself) in the default browser, as
`inspect view` does for inspect_ai logs. Given run folders (or a folder of them), build their
report first, into a new runs/report-<date>-<time>. With no argument: the newest
runs/report-*/leaderboard.html, else reports/leaderboard.html. Without a browser (a server, CI,
--no-browser or FANOUT_NO_BROWSER=1) it prints the file's address instead.
"""

from __future__ import annotations

import argparse
import webbrowser
from pathlib import Path

from ..errors import EXIT_OK, UsageError
from . import Subparsers, boolean, command, env
from .report import DEFAULT_PARENT, fresh_folder

PAGE = "leaderboard.html"


def register(sub: Subparsers) -> None:
    p = command(sub, "view", __doc__, "open a leaderboard (a report folder, or run folders) in the browser")
    p.add_argument(
        "path", nargs="*", metavar="PATH", help="report folder, leaderboard.html, or run folder(s)"
    )
    p.add_argument(
        "--no-browser",
        action="store_true",
        default=env("no_browser", False, boolean),
        help="print the page's address, do not open it [FANOUT_NO_BROWSER]",
    )
    p.set_defaults(func=cmd_view)


def newest_report() -> Path | None:
    """The newest report under runs/ (`fanout report` with no --out, or `make run`'s demo), else
    the published one."""
    found = [*DEFAULT_PARENT.glob(f"report-*/{PAGE}"), *DEFAULT_PARENT.glob(f"demo/report/{PAGE}")]
    pages = sorted(found, key=lambda p: p.stat().st_mtime)
    if pages:
        return pages[-1]
    published = Path("reports") / PAGE
    return published if published.is_file() else None


def page_for(paths: list[str]) -> Path:
    """The page to open: a page, a report folder's page, or a new report of run folders."""
    if not paths:
        page = newest_report()
        if page is None:
            raise UsageError(
                "no report to open: none under runs/report-*, runs/demo/report or reports/; "
                "give a report folder or run folders (fanout view runs/)"
            )
        return page
    if len(paths) == 1:
        p = Path(paths[0])
        if p.is_file() and p.suffix == ".html":
            return p
        if (p / PAGE).is_file():
            return p / PAGE
        if not p.exists():
            raise UsageError(f"{p}: no such file or folder")
    from ..report.build import build_report

    files = build_report(list(paths), fresh_folder)
    print(f"report: {files.html.parent}")
    return files.html


def cmd_view(args: argparse.Namespace) -> int:
    page = page_for(args.path)
    uri = page.resolve().as_uri()
    if args.no_browser or not webbrowser.open(uri):
        print(f"open {uri} in a browser")
    else:
        print(f"opened {uri}")
    return EXIT_OK
