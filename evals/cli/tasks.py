"""`fanout tasks`: list, show and validate suites."""

from __future__ import annotations

import json
import sys

from ..fixtures import FixtureErrors, load_suite
from ..groundtruth import GroundTruthError, resolve
from . import EXIT_FAIL, EXIT_MISUSE


def register(sub) -> None:
    p = sub.add_parser("tasks", help="list, show, validate task suites")
    tsub = p.add_subparsers(dest="tasks_command", metavar="ACTION")

    ls = tsub.add_parser("list", help="list tasks")
    ls.add_argument("suite", nargs="?", default="core")
    ls.add_argument("--pattern", help="only this dependency pattern")
    ls.set_defaults(func=cmd_list)

    sh = tsub.add_parser("show", help="prompt, tools, graph and resolved ground truth of a task")
    sh.add_argument("task_id")
    sh.add_argument("--suite", default="core")
    sh.add_argument("--seed", type=int, default=0)
    sh.set_defaults(func=cmd_show)

    va = tsub.add_parser("validate", help="check a suite: schema, DAG, references, oracle success")
    va.add_argument("suite", nargs="?", default="core", help="suite name or path")
    va.add_argument("--seeds", default="0", help="comma-separated seeds to validate under")
    va.set_defaults(func=cmd_validate)
    try:  # `fanout tasks import ...` lives with the importers
        from ..importers.cli import register as register_import
    except ModuleNotFoundError as exc:
        if exc.name not in ("evals.importers.cli", "evals.importers"):
            raise
    else:
        register_import(tsub)
    p.set_defaults(func=lambda a: (p.print_help(), EXIT_MISUSE)[1])


def _load(name: str, collect: bool = False):
    try:
        return load_suite(name, collect=collect)
    except (FixtureErrors, FileNotFoundError) as exc:
        print(f"fanout tasks: {exc}", file=sys.stderr)
        return None


def cmd_list(args) -> int:
    suite = _load(args.suite)
    if suite is None:
        return EXIT_MISUSE
    for t in suite.tasks:
        if args.pattern and t.pattern != args.pattern:
            continue
        print(f"{t.id}\t{t.pattern}\t{len(t.nodes)} calls\t{t.prompt[:80]}")
    return 0


def cmd_show(args) -> int:
    suite = _load(args.suite)
    if suite is None:
        return EXIT_MISUSE
    task = suite.by_id.get(args.task_id)
    if task is None:
        print(f"fanout tasks show: no task {args.task_id!r} in suite {suite.name!r}", file=sys.stderr)
        return EXIT_MISUSE
    print(f"id:      {task.id}\npattern: {task.pattern}\nfile:    {task.file}\nprompt:  {task.prompt}")
    print(f"tools:   {', '.join(t.name for t in task.tools)}")
    print("graph:")
    for lvl, nodes in enumerate(task.graph.levels()):
        for v in nodes:
            n = task.node_by_id[v]
            deps = f" <- {', '.join(n.deps)}" if n.deps else ""
            flags = " (optional)" if not n.required else ""
            print(f"  L{lvl} {v}: {n.tool}{flags}{deps}")
    try:
        gt = resolve(task, args.seed)
    except GroundTruthError as exc:
        print(f"ground truth: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"ground truth (seed {args.seed}):")
    for v, n in gt.nodes.items():
        print(f"  {v}: {n.tool}({json.dumps(n.args)}) -> {json.dumps(n.output)[:200]}")
    if gt.inactive:
        print(f"  inactive (condition false): {', '.join(gt.inactive)}")
    print(
        f"ideal turns: {gt.ideal_turns}; |P| = {len(gt.parallelizable)}; answer must contain: {gt.answer_contains}"
    )
    return 0


def cmd_validate(args) -> int:
    from ..validate import validate_suite

    suite = _load(args.suite, collect=True)
    if suite is None:
        return EXIT_MISUSE
    seeds = tuple(int(s) for s in str(args.seeds).split(","))
    problems = validate_suite(suite, seeds)
    if problems:
        print(f"{len(problems)} problem(s) in suite {suite.name!r}:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return EXIT_FAIL
    print(f"suite {suite.name!r}: {len(suite.tasks)} tasks valid (seeds {','.join(map(str, seeds))})")
    return 0
