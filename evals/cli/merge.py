"""`fanout merge`: combine the shard folders of one run into one run folder.

Combine the folders written by `fanout run ... --shard K/N` (K = 1..N, on any machines) into one
run folder under --out, with one episodes.jsonl and the summary.json an unsharded run of the same
command writes (identical but for its run_id). The folders must be shards of one run: same
model, suite, tasks, epochs, runtime settings, prompts and shard count. Episodes no shard holds
leave the merged run incomplete; `fanout run --resume` on it runs just those.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import EXIT_OK
from . import Subparsers, command, env


def register(sub: Subparsers) -> None:
    p = command(sub, "merge", __doc__, "combine shard folders (run --shard K/N) into one run")
    p.add_argument("shards", nargs="+", metavar="SHARD_DIR", help="run folders of `fanout run --shard K/N`")
    p.add_argument("--out", default=env("out", "runs"), help="folder for the merged run folder [FANOUT_OUT]")
    p.add_argument("--run-id", default=None, help="the merged run's id (default: a new one)")
    p.set_defaults(func=cmd_merge)


def cmd_merge(args: argparse.Namespace) -> int:
    import sys

    from ..shards import merge
    from .run import _row, print_table

    run_dir, summary = merge([Path(d) for d in args.shards], Path(args.out), args.run_id)
    from ..runs import read_run_config

    print_table([_row(read_run_config(run_dir), summary)])
    print(f"run: {run_dir}", file=sys.stderr)
    return EXIT_OK
