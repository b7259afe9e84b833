"""`fanout tasks`: list, show, validate, stats and export task suites."""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import EXIT_OK, EXIT_USAGE, FanoutError, LocalIOError, UsageError
from ..fixtures import FixtureErrors, Suite, Task, load_suite, require_tasks
from ..groundtruth import GroundTruthError, resolve
from . import Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser("tasks", help="list, show, validate, describe and export task suites")
    tsub = p.add_subparsers(dest="tasks_command", metavar="ACTION")

    ls = tsub.add_parser("list", help="list tasks")
    ls.add_argument("suite", nargs="?", default="core", help="suite name, folder, YAML file or export")
    ls.add_argument("--pattern", action="append", help="only this dependency pattern (repeatable)")
    ls.add_argument("--task", action="append", help="only task ids matching this glob (repeatable)")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=cmd_list)

    sh = tsub.add_parser("show", help="prompt, tools, graph and resolved ground truth of a task")
    sh.add_argument("task_id")
    sh.add_argument("--suite", default="core")
    sh.add_argument("--seed", type=int, default=0)
    sh.set_defaults(func=cmd_show)

    va = tsub.add_parser("validate", help="check a suite: schema, DAG, references, oracle success")
    va.add_argument("suite", nargs="?", default="core", help="suite name, folder, YAML file or export")
    va.add_argument("--seeds", default="0", help="comma-separated seeds to validate under")
    va.add_argument(
        "--strict",
        action="store_true",
        help="fail on answer-lint warnings too (an answer check whose every value is in the prompt, "
        "empty, a boolean or a generic word)",
    )
    va.set_defaults(func=cmd_validate)

    st = tsub.add_parser("stats", help="tasks per pattern, width and depth distribution, tools used")
    st.add_argument("suite", nargs="?", default="core", help="suite name, folder, YAML file or export")
    st.add_argument("--seed", type=int, default=0, help="seed of the ground truth the shapes come from")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_stats)

    su = tsub.add_parser("suites", help="list the suites: ./tasks/* and the ones shipped with the package")
    su.add_argument("--json", action="store_true", help="one JSON object per line")
    su.set_defaults(func=cmd_suites)

    it = tsub.add_parser("init", help="scaffold a new suite: one task of each kind, ready to validate")
    it.add_argument("name", help="suite name (letters, digits, _ and -)")
    it.add_argument("--out", help="folder to create (default: tasks/NAME)")
    it.set_defaults(func=cmd_init)

    ex = tsub.add_parser("export", help="write a suite as JSONL or a Hugging Face datasets folder")
    ex.add_argument("suite", help="suite name, folder or YAML file")
    ex.add_argument("--format", choices=("jsonl", "hf"), default="jsonl")
    ex.add_argument("--out", required=True, help="output file (jsonl) or folder (hf)")
    ex.add_argument("--force", action="store_true", help="overwrite an existing output")
    ex.set_defaults(func=cmd_export)
    try:  # `fanout tasks import ...` lives with the importers
        from ..importers.cli import register as register_import
    except ModuleNotFoundError as exc:
        if exc.name not in ("evals.importers.cli", "evals.importers"):
            raise
    else:
        register_import(tsub)
    p.set_defaults(func=lambda a: (p.print_help(), EXIT_USAGE)[1])


def _suite_folders() -> list[tuple[str, Path, str]]:
    """(name, folder, where) of every suite: ./tasks/<name>, then the shipped ones not shadowed."""
    from importlib import resources

    out: list[tuple[str, Path, str]] = []
    seen: set[str] = set()
    local = Path("tasks")
    if local.is_dir():
        for d in sorted(p for p in local.iterdir() if p.is_dir() and _has_yaml(p)):
            out.append((d.name, d, str(d)))
            seen.add(d.name)
    shipped = Path(str(resources.files("fanout_tasks")))
    for d in sorted(p for p in shipped.iterdir() if p.is_dir() and _has_yaml(p)):
        if d.name not in seen:
            out.append((d.name, d, "shipped with the package"))
    return out


def _has_yaml(d: Path) -> bool:
    return any(d.glob("*.yaml")) or any(d.glob("*.yml"))


def cmd_suites(args: argparse.Namespace) -> int:
    rows: list[dict[str, Any]] = []
    for name, folder, where in _suite_folders():
        try:
            suite = load_suite(folder, collect=True)
            rec = {
                "name": name,
                "tasks": len(suite.tasks),
                "patterns": len({t.pattern for t in suite.tasks}),
                "problems": len(suite.errors),
                "where": where,
                "description": " ".join((suite.spec.description or "").split()),
            }
        except (FixtureErrors, FileNotFoundError) as exc:
            problems = len(exc.errors) if isinstance(exc, FixtureErrors) else 1
            rec = {
                "name": name,
                "tasks": 0,
                "patterns": 0,
                "problems": problems,
                "where": where,
                "description": "",
            }
        rows.append(rec)
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return EXIT_OK
    if not rows:
        print("no suite found (./tasks/ has none and none is shipped)")
        return EXIT_OK
    nw = max(4, *(len(str(r["name"])) for r in rows))
    ww = max(5, *(len(str(r["where"])) for r in rows))
    print(f"{'name':<{nw}}  tasks  patterns  {'where':<{ww}}  description")
    for r in rows:
        desc = str(r["description"])
        desc = desc if len(desc) <= 70 else desc[:69] + "\u2026"
        if r["problems"]:
            desc = f"({r['problems']} problem(s): fanout tasks validate {r['name']}) " + desc
        print(f"{r['name']:<{nw}}  {r['tasks']:>5}  {r['patterns']:>8}  {r['where']:<{ww}}  {desc}")
    return EXIT_OK


SUITE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def cmd_init(args: argparse.Namespace) -> int:
    from importlib import resources

    if not SUITE_NAME.match(args.name):
        raise UsageError(f"suite name {args.name!r}: use letters, digits, _ and -, starting with a letter")
    out = Path(args.out) if args.out else Path("tasks") / args.name
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} exists and is not an empty folder; choose another --out")
    template = resources.files("evals") / "data" / "suite_template"
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in ("suite.yaml", "tasks.yaml", "README.md"):
            text = (template / name).read_text(encoding="utf-8")
            text = text.replace("__SUITE__", args.name).replace("__PATH__", str(out))
            (out / name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the suite to {out}: {exc.strerror or exc}") from None
    print(
        f"created suite {args.name!r} in {out}: suite.yaml, tasks.yaml (7 tasks, one of each kind), README.md"
    )
    print(f"next: fanout tasks validate {out} --strict")
    print(f"      fanout run --suite {out} --model policy/oracle --model policy/sequential")
    return EXIT_OK


def _read(name: str, collect: bool = False) -> Suite:
    """A suite from a name, folder or YAML file, or from a JSONL / datasets export."""
    from ..suite_export import is_export, load_export

    path = Path(name)
    if is_export(path):
        return load_export(path)
    return load_suite(name, collect=collect)


def _load(name: str, collect: bool = False) -> Suite:
    """`_read`, with a missing suite as a usage error (fixture and export errors already are)."""
    try:
        return _read(name, collect)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None


def _selected(suite: Suite, patterns: list[str] | None, globs: list[str] | None) -> Iterator[Task]:
    for t in suite.select(globs):
        if patterns and t.pattern not in patterns:
            continue
        yield t


def cmd_list(args: argparse.Namespace) -> int:
    suite = _load(args.suite)
    known = {t.pattern for t in suite.tasks}
    unknown = sorted(set(args.pattern or ()) - known)
    if unknown:
        raise UsageError(
            f"no pattern {', '.join(map(repr, unknown))} in suite {suite.name!r}; "
            f"patterns: {', '.join(sorted(known))}"
        )
    rows = list(_selected(suite, args.pattern, args.task))
    if args.json:
        for t in rows:
            rec = {
                "id": t.id,
                "pattern": t.pattern,
                "calls": len(t.nodes),
                "depth": t.graph.longest_path(),
                "width": t.graph.width(),
                "tools": [x.name for x in t.tools],
                "prompt": t.prompt,
            }
            print(json.dumps(rec, ensure_ascii=False))
        return EXIT_OK
    idw = max((len(t.id) for t in rows), default=2)
    pw = max((len(t.pattern) for t in rows), default=7)
    print(f"{'id':<{idw}}  {'pattern':<{pw}}  calls  depth  width  prompt")
    for t in rows:
        prompt = " ".join(t.prompt.split())
        prompt = prompt if len(prompt) <= 72 else prompt[:71] + "…"
        print(
            f"{t.id:<{idw}}  {t.pattern:<{pw}}  {len(t.nodes):>5}  {t.graph.longest_path():>5}  "
            f"{t.graph.width():>5}  {prompt}"
        )
    print(f"{len(rows)} of {len(suite.tasks)} tasks in suite {suite.name!r}")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    suite = _load(args.suite)
    task = suite.by_id.get(args.task_id)
    if task is None:
        close = [t for t in suite.by_id if fnmatch.fnmatchcase(t, f"*{args.task_id}*")][:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"no task {args.task_id!r} in suite {suite.name!r}{hint}")
    print(f"id:      {task.id}\npattern: {task.pattern}\nfile:    {task.file}\nprompt:  {task.prompt}")
    print(f"tools:   {', '.join(t.name + (' (write)' if t.write else '') for t in task.tools)}")
    print("graph:")
    for lvl, nodes in enumerate(task.graph.levels()):
        for v in nodes:
            n = task.node_by_id[v]
            deps = f" <- {', '.join(n.deps)}" if n.deps else ""
            flags = []
            if not n.required:
                flags.append("optional")
            if n.spec.when:
                flags.append(f"when {n.spec.when.strip()}")
            if n.spec.after:
                flags.append(f"after {', '.join(n.spec.after)}")
            if n.spec.accept:
                flags.append(f"accepts {json.dumps(n.spec.accept)}")
            if n.spec.omissible:
                flags.append(f"may omit {', '.join(n.spec.omissible)}")
            for alt, route in zip(n.spec.alternatives, n.routes[1:], strict=True):
                via = ", ".join(sorted(route)) or "the prompt"
                flags.append(f"or {json.dumps(alt, ensure_ascii=False)} via {via}")
            if n.spec.not_routes:
                flags.append(f"not routes: {json.dumps(n.spec.not_routes, ensure_ascii=False)}")
            extra = f"  [{'; '.join(flags)}]" if flags else ""
            print(f"  L{lvl} {v}: {n.tool}({json.dumps(n.spec.args, ensure_ascii=False)}){deps}{extra}")
    for name, lat in task.spec.latency.items():
        print(f"latency override: {name}: {lat.model_dump_json(exclude_defaults=True)}")
    gt = resolve(task, args.seed)  # a GroundTruthError: exit 1, the task is broken
    print(f"ground truth (seed {args.seed}):")
    for v, rn in gt.nodes.items():
        out = json.dumps(rn.output, ensure_ascii=False)
        print(
            f"  {v}: {rn.tool}({json.dumps(rn.args, ensure_ascii=False)}) -> {out[:200]}{'…' if len(out) > 200 else ''}"
        )
    if gt.inactive:
        print(f"  inactive (condition false): {', '.join(gt.inactive)}")
    if len(gt.answer_routes) > 1:
        print(f"answer routes: {' or '.join('{' + ', '.join(sorted(r)) + '}' for r in gt.answer_routes)}")
    if gt.has_routes:
        print(
            "ideal route: "
            + ", ".join(
                f"{v} <- {', '.join(sorted(gt.ideal.deps[v])) or '(prompt)'}" for v in gt.ideal.required
            )
            + (f"; bypassed: {', '.join(gt.ideal.bypassed)}" if gt.ideal.bypassed else "")
        )
    levels = gt.oracle_levels()
    print(f"oracle batches: {' | '.join('{' + ', '.join(lv) + '}' for lv in levels) or '(none)'}")
    print(
        f"ideal turns: {gt.ideal_turns}; |P| = {len(gt.parallelizable)}; nodes with dependencies: {len(gt.with_deps)}"
    )
    checks = [f"contains {gt.answer_contains}"] if gt.answer_contains else []
    checks += [f"one of {g}" for g in gt.answer_any]
    checks += [f"not {gt.answer_not}"] if gt.answer_not else []
    print(f"answer must: {'; '.join(checks) or '(no answer check)'}")
    return EXIT_OK


def _seeds(raw: str) -> tuple[int, ...] | None:
    try:
        seeds = tuple(int(s) for s in str(raw).split(",") if s.strip())
    except ValueError:
        return None
    return seeds or None


def cmd_validate(args: argparse.Namespace) -> int:
    from ..suite_export import ExportError
    from ..validate import validate_suite

    seeds = _seeds(args.seeds)
    if seeds is None:
        raise UsageError(f"--seeds must be comma-separated integers, got {args.seeds!r}")
    try:
        suite = _load(args.suite, collect=True)
    except (FixtureErrors, ExportError) as exc:  # the suite itself (suite.yaml, export) does not load
        errs = [str(e) for e in getattr(exc, "errors", [exc])]
        raise SuiteInvalid(f"{len(errs)} problem(s) loading {args.suite!r}:", errs) from None
    require_tasks(suite, args.suite)
    warnings: list[str] = []
    problems = validate_suite(suite, seeds, warnings)
    if args.strict:
        problems, warnings = problems + warnings, []
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if problems:
        raise SuiteInvalid(f"{len(problems)} problem(s) in suite {suite.name!r}:", problems)
    lint = f", {len(warnings)} answer-lint warning(s)" if warnings else ""
    print(f"suite {suite.name!r}: {len(suite.tasks)} tasks valid (seeds {','.join(map(str, seeds))}){lint}")
    return EXIT_OK


class SuiteInvalid(FanoutError):
    """`fanout tasks validate` found problems (exit 1): the report lists every one."""

    def __init__(self, headline: str, problems: list[str]):
        super().__init__("\n".join([headline, *(f"  - {p}" for p in problems)]))


def cmd_stats(args: argparse.Namespace) -> int:
    from ..suite_stats import format_stats, suite_stats

    suite = _load(args.suite)
    try:
        st = suite_stats(suite, args.seed)
    except GroundTruthError as exc:
        raise FanoutError(f"{exc} (run `fanout tasks validate`)") from None
    print(st.model_dump_json(indent=2) if args.json else format_stats(st))
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from ..suite_export import export_suite

    suite = _load(args.suite)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists (use --force to overwrite)")
    if args.format == "hf" and out.exists() and not out.is_dir():
        raise UsageError(f"--format hf writes a folder, but {out} is a file")
    try:
        export_suite(suite, args.format, out)
    except OSError as exc:
        raise LocalIOError(f"cannot write {out}: {exc}") from None
    print(f"exported {len(suite.tasks)} tasks of suite {suite.name!r} as {args.format} to {out}")
    return EXIT_OK
