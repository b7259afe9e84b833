"""`fanout run`: run models on a suite and write one run folder per model.

Run one or more models on a task suite. Writes <out>/<run_id>/{run.json,episodes.jsonl,summary.json}
per model and prints a summary row per model. Every flag also reads FANOUT_<FLAG> (e.g.
FANOUT_SEED=3, FANOUT_MODEL=policy/oracle,policy/greedy).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from types import UnionType
from typing import Any, Literal, TextIO, Union, get_args, get_origin

from ..clocks import OverheadError
from ..errors import EXIT_EPISODE_ERRORS, EXIT_OK, FanoutError, InfrastructureError, UsageError
from ..fixtures import Suite
from ..metrics import METRICS
from ..models import Model
from ..prompts import PromptTemplates
from ..runs import (
    RunConfig,
    build_model,
    execute,
    lock_run,
    model_for,
    open_suite,
    open_suite_for,
    read_run_config,
    start_run,
)
from ..settings import RuntimeSettings, flag, from_text
from . import Subparsers, command, env
from .provider_flags import _bool, add_provider_flags, model_options


def _metavar(annotation: object) -> str:
    if get_origin(annotation) in (Union, UnionType):  # Optional: the value's own type
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    choices = get_args(annotation) if get_origin(annotation) is Literal else ()
    if choices:
        return "{" + ",".join(map(str, choices)) + "}"
    return {int: "N", float: "X"}.get(annotation, "V") if isinstance(annotation, type) else "V"


def add_runtime_flags(p: argparse.ArgumentParser) -> None:
    """One flag per RuntimeSettings field, documented by the field; values are checked when the
    settings are built (`runtime_settings`), so a bad one is a one-line usage error."""
    g = p.add_argument_group("runtime settings (each also read from FANOUT_<SETTING>)")
    for name, f in RuntimeSettings.model_fields.items():
        default = "none" if f.default is None else f.default
        g.add_argument(
            flag(name),
            dest=name,
            default=argparse.SUPPRESS,
            metavar=_metavar(f.annotation),
            help=f"{f.description} (default: {default}) [FANOUT_{name.upper()}]",
        )


def runtime_settings(args: argparse.Namespace) -> RuntimeSettings:
    """The flags given, else FANOUT_* values, else the defaults; a bad value raises UsageError."""
    values: dict[str, str | None] = {}
    labels: dict[str, str] = {}
    for name in RuntimeSettings.model_fields:
        given = getattr(args, name, None)
        values[name] = given if given is not None else env(name)
        labels[name] = flag(name) if given is not None else f"FANOUT_{name.upper()}"
    return from_text(values, labels=labels)


def register(sub: Subparsers) -> None:
    p = command(
        sub, "run", __doc__, "run models on a suite", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--model",
        action="append",
        default=None,
        help="model string, repeatable: policy/<oracle|sequential|greedy|redundant|lazy|prompt-sensitive>, openai/<m>, "
        "anthropic/<m>, openai-responses/<m>, google/<m>, replay/<run dir> [FANOUT_MODEL, comma-separated]",
    )
    p.add_argument("--suite", default=env("suite", "core"), help="suite name or folder [FANOUT_SUITE]")
    p.add_argument("--task", action="append", default=None, help="task id glob, repeatable [FANOUT_TASK]")
    p.add_argument("--epochs", type=int, default=env("epochs", "1"), help="runs per task [FANOUT_EPOCHS]")
    p.add_argument(
        "--max-concurrency",
        type=int,
        default=env("max_concurrency", "32"),
        help="episodes run concurrently [FANOUT_MAX_CONCURRENCY]",
    )
    p.add_argument(
        "--system-prompt",
        default=env("system_prompt"),
        help="system prompt: a shipped one by name (default: says when to call tools in parallel; "
        "neutral: no hint about parallel calls) or a jinja2 template file [FANOUT_SYSTEM_PROMPT]",
    )
    p.add_argument(
        "--user-prompt", default=env("user_prompt"), help="jinja2 user prompt template [FANOUT_USER_PROMPT]"
    )
    p.add_argument(
        "--prices", default=env("prices"), help="JSON price table overriding the shipped one [FANOUT_PRICES]"
    )
    p.add_argument("--out", default=env("out", "runs"), help="folder for run folders [FANOUT_OUT]")
    p.add_argument(
        "--resume",
        default=env("resume"),
        metavar="RUN_DIR",
        help="continue an interrupted or stopped run (other flags are taken from its run.json) [FANOUT_RESUME]",
    )
    p.add_argument(
        "--retry-errors",
        action="store_true",
        default=env("retry_errors", False, _bool) is True,
        help="with --resume: also rerun the episodes that ended in provider errors [FANOUT_RETRY_ERRORS]",
    )
    p.add_argument(
        "--shard",
        default=env("shard"),
        metavar="K/N",
        help="run only the K-th of N deterministic slices of the (task, epoch) pairs, e.g. on N CI "
        "machines; `fanout merge` combines the shard folders into one run [FANOUT_SHARD]",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        default=bool(env("no_progress", False)),
        help="hide the progress bar [FANOUT_NO_PROGRESS]",
    )
    add_runtime_flags(p)
    add_provider_flags(p)
    p.set_defaults(func=cmd_run)


ROW = METRICS.on("run")  # the summary row's columns, after the model
HEADER = ["model", *(m.short or m.name for m in ROW)]


def _row(cfg: RunConfig, s: dict) -> list[str]:
    return [cfg.model, *(m.terminal(s) for m in ROW)]


def print_table(rows: list[list[str]], header: list[str] = HEADER, file: TextIO | None = None) -> None:
    file = file or sys.stdout
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), file=file)
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)), file=file)


def _errors_note(cfg: RunConfig, summary: dict[str, Any], run_dir: Path) -> bool:
    """One line on stderr when episodes ended in errors (a provider failure that outlived the
    retries, an agent that crashed): they count as failed episodes in the summary, so the run is
    not a clean measurement until they are retried."""
    n = summary.get("errors") or 0
    if not n:
        return False
    of = summary.get("episodes") or 0
    print(
        f"fanout run: {cfg.model}: {n} of {of} episodes ended in errors (counted as failures); "
        f"retry them with: fanout run --resume {run_dir} --retry-errors",
        file=sys.stderr,
    )
    return True


def cmd_run(args: argparse.Namespace) -> int:
    if args.resume:
        return _resume(Path(args.resume), not args.no_progress, args.retry_errors)
    if args.retry_errors:
        raise UsageError("--retry-errors reruns the failed episodes of a run: use it with --resume RUN_DIR")
    runtime = runtime_settings(args)  # before anything is loaded or made: a bad value is exit 2
    models = args.model or [m for m in (env("model") or "").split(",") if m] or ["policy/oracle"]
    patterns = args.task or [t for t in (env("task") or "").split(",") if t] or None
    suite = open_suite(args.suite)
    settings = dict(
        epochs=args.epochs,
        max_concurrency=args.max_concurrency,
        system_prompt=args.system_prompt,
        user_prompt=args.user_prompt,
        prices=args.prices,
        model_options=model_options(args),
        shard=args.shard,
    )
    out = Path(args.out)
    built: list[Model] = []
    try:  # every model string is checked before any folder is made or any model run
        for spec in models:
            built.append(model_for(spec, [suite], runtime.seed, settings["model_options"]))
        started = [
            start_run(spec, suite, out, runtime=runtime, task_patterns=patterns, **settings)
            for spec in models
        ]
    except FanoutError:
        asyncio.run(_close(built))
        raise
    rows, dirs, summaries = [], [], []
    for model, (run_dir, cfg) in zip(built, started, strict=True):
        summary = asyncio.run(_execute_and_close(run_dir, cfg, model, suite, not args.no_progress))
        rows.append(_row(cfg, summary))
        dirs.append(run_dir)
        summaries.append((cfg, summary))
    print_table(rows)
    for d in dirs:
        print(f"run: {d}", file=sys.stderr)
    errors = [_errors_note(cfg, s, d) for (cfg, s), d in zip(summaries, dirs, strict=True)]
    return EXIT_EPISODE_ERRORS if any(errors) else EXIT_OK


def _resume(run_dir: Path, progress: bool, retry_errors: bool = False) -> int:
    cfg = read_run_config(run_dir)
    lock_run(run_dir)  # before anything else: a second resume of this folder fails at once
    suite = open_suite_for(cfg)
    if suite.hash != cfg.suite_hash:
        raise UsageError(
            f"--resume: suite {cfg.suite!r} changed since the run started "
            f"(hash {suite.hash} != {cfg.suite_hash}); start a new run"
        )
    prompts = PromptTemplates.load(cfg.system_prompt, cfg.user_prompt)
    for tid in cfg.task_ids:
        prompts.render(suite.by_id[tid])
    if prompts.hash != cfg.prompt_hash:
        raise UsageError(
            f"--resume: the prompt templates changed since the run started "
            f"(hash {prompts.hash} != {cfg.prompt_hash}); resuming would mix two prompts in one run"
        )
    model = build_model(cfg, [suite])
    summary = asyncio.run(_execute_and_close(run_dir, cfg, model, suite, progress, retry_errors))
    print_table([_row(cfg, summary)])
    print(f"run: {run_dir}", file=sys.stderr)
    return EXIT_EPISODE_ERRORS if _errors_note(cfg, summary, run_dir) else EXIT_OK


async def _execute_and_close(
    run_dir: Path, cfg: RunConfig, model: Model, suite: Suite, progress: bool, retry_errors: bool = False
) -> dict[str, Any]:
    try:
        return await execute(run_dir, cfg, model, suite, progress=progress, retry_errors=retry_errors)
    except InfrastructureError as exc:
        if isinstance(exc, OverheadError):  # resuming would measure the same overload again
            raise
        raise type(exc)(f"{exc} [run stopped; continue it with: fanout run --resume {run_dir}]") from None
    finally:
        await model.aclose()


async def _close(models: list[Model]) -> None:
    for m in models:
        await m.aclose()
