"""`fanout compare A B`: the per-task diff of two runs, for reading a failed gate.

List the paired episodes of two run folders whose success, number of turns or call class counts
changed, newly failing tasks first. Task sets may differ (the leftovers are listed).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..compare import FORMATS, compare_runs, render
from ..errors import EXIT_OK
from ..gate import run_pairs
from . import Subparsers, command


def register(sub: Subparsers) -> None:
    p = command(sub, "compare", __doc__, "per-task diff of two runs (success, turns, call classes)")
    p.add_argument("baseline", metavar="A", help="run folder (baseline), or a folder of run folders")
    p.add_argument("candidate", metavar="B", help="run folder (candidate), or a folder of run folders")
    p.add_argument("--format", choices=FORMATS, default="text", help="output format (default: text)")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    pairs = run_pairs(args.baseline, args.candidate)
    if args.format == "json" and len(pairs) > 1:
        docs = [json.loads(render(compare_runs(b, c), "json")) for b, c in pairs]
        sys.stdout.write(json.dumps(docs, indent=2) + "\n")
        return EXIT_OK
    for i, (b, c) in enumerate(pairs):
        if i:
            sys.stdout.write("\n")
        sys.stdout.write(render(compare_runs(b, c), args.format))
    return EXIT_OK
