"""`fanout compare A B`: the per-task diff of two runs, for reading a failed gate.

List the paired episodes of two run folders whose success, number of turns or call class counts
changed, newly failing tasks first. Task sets may differ (the leftovers are listed).
"""

from __future__ import annotations

import argparse
import sys

from ..compare import FORMATS, compare_runs, render
from ..errors import EXIT_OK
from . import Subparsers, command


def register(sub: Subparsers) -> None:
    p = command(sub, "compare", __doc__, "per-task diff of two runs (success, turns, call classes)")
    p.add_argument("baseline", metavar="A", help="run folder (baseline)")
    p.add_argument("candidate", metavar="B", help="run folder (candidate)")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    rep = compare_runs(args.baseline, args.candidate)
    sys.stdout.write(render(rep, args.format))
    return EXIT_OK
