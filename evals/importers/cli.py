"""`fanout tasks import {bfcl,nestful,taskbench}`: turn a public benchmark into a Fanout suite."""

from __future__ import annotations

import sys
from pathlib import Path

from .common import DUPLICATE_POLICIES, ImportError_, ImportReport

EXIT_FAIL, EXIT_MISUSE = 1, 2


def register(tsub) -> None:
    p = tsub.add_parser("import", help="import an external benchmark (BFCL, NESTFUL, TaskBench) as a suite")
    isub = p.add_subparsers(dest="import_format", metavar="FORMAT")

    b = isub.add_parser("bfcl", help="BFCL from a bfcl-eval wheel, sdist or data folder")
    b.add_argument(
        "--source", required=True, help="bfcl-eval .whl / .tar.gz, or a folder with its data files"
    )
    b.add_argument(
        "--categories",
        default=None,
        help="comma-separated; default parallel,parallel_multiple,live_parallel,live_parallel_multiple,simple,multiple",
    )
    _common(b, "tasks/bfcl")
    b.set_defaults(func=cmd_bfcl)

    n = isub.add_parser("nestful", help="NESTFUL v1 folder (*-data.json + *-spec.json) or a v2 JSONL file")
    n.add_argument("--source", required=True, help="folder of v1 files, a v1 *-data.json, or a v2 .jsonl")
    _common(n, "tasks/nestful")
    n.set_defaults(func=cmd_nestful)

    t = isub.add_parser("taskbench", help="TaskBench domain (data.json + tool_desc.json) or a hub dataset")
    t.add_argument("--source", required=True, help="domain folder, data JSONL file, or a hub dataset name")
    t.add_argument("--tools", help="tool_desc.json (default: beside the data file)")
    t.add_argument("--domain", help="hub config / domain name (huggingface, multimedia, dailylifeapis)")
    t.add_argument(
        "--dailylife",
        choices=("after", "skip"),
        default="after",
        help="DailyLife links are temporal order: import them as `after` edges (default) or skip the domain",
    )
    _common(t, "tasks/taskbench")
    t.set_defaults(func=cmd_taskbench)
    p.set_defaults(func=lambda a: (p.print_help(), EXIT_MISUSE)[1])


def _common(p, default_out: str) -> None:
    p.add_argument("--out", default=default_out, help=f"suite folder to write (default {default_out})")
    p.add_argument("--force", action="store_true", help="replace the suite files already in --out")
    p.add_argument(
        "--duplicate-prompts",
        choices=DUPLICATE_POLICIES,
        default="tag",
        help="a prompt already used by another entry: tag it with the entry id (default) or skip the entry",
    )


def _finish(report: ImportReport, out: Path) -> int:
    report.print()
    print(f"wrote {report.total} tasks to {out}; check them with: fanout tasks validate {out}")
    return 0 if report.total else EXIT_FAIL


def cmd_bfcl(args) -> int:
    from .bfcl import DEFAULT_CATEGORIES, import_bfcl

    cats = (
        tuple(c.strip() for c in args.categories.split(",") if c.strip())
        if args.categories
        else DEFAULT_CATEGORIES
    )
    try:
        report = import_bfcl(Path(args.source), Path(args.out), cats, args.force, args.duplicate_prompts)
    except ImportError_ as exc:
        print(f"fanout tasks import bfcl: {exc}", file=sys.stderr)
        return EXIT_MISUSE
    return _finish(report, Path(args.out))


def cmd_nestful(args) -> int:
    from .nestful import import_nestful

    try:
        report = import_nestful(Path(args.source), Path(args.out), args.force, args.duplicate_prompts)
    except ImportError_ as exc:
        print(f"fanout tasks import nestful: {exc}", file=sys.stderr)
        return EXIT_MISUSE
    return _finish(report, Path(args.out))


def cmd_taskbench(args) -> int:
    from .taskbench import import_taskbench

    try:
        report = import_taskbench(
            args.source,
            Path(args.out),
            tools=Path(args.tools) if args.tools else None,
            domain=args.domain,
            dailylife=args.dailylife,
            force=args.force,
            duplicates=args.duplicate_prompts,
        )
    except ImportError_ as exc:
        print(f"fanout tasks import taskbench: {exc}", file=sys.stderr)
        return EXIT_MISUSE
    return _finish(report, Path(args.out))
