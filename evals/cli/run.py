"""`fanout run`: run models on a suite and write one run folder per model."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path

from ..fixtures import FixtureErrors, load_suite
from ..prompts import PromptTemplates
from ..runs import RunConfig, build_model, execute, load_run, open_suite_for, start_run
from . import EXIT_MISUSE, env
from .provider_flags import add_provider_flags, model_options


def _opt_int(v: str) -> int | None:
    return None if v.lower() in ("none", "0", "") else int(v)


def _opt_float(v: str) -> float | None:
    return None if v.lower() in ("none", "") else float(v)


def register(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run models on a suite",
        description="Run one or more models on a task suite. Writes <out>/<run_id>/{run.json,episodes.jsonl,"
        "summary.json} per model and prints a summary row per model. Every flag also reads FANOUT_<FLAG> "
        "(e.g. FANOUT_SEED=3, FANOUT_MODEL=policy/oracle,policy/greedy).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
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
    p.add_argument(
        "--seed", type=int, default=env("seed", 0, int), help="world and latency seed [FANOUT_SEED]"
    )
    p.add_argument("--epochs", type=int, default=env("epochs", 1, int), help="runs per task [FANOUT_EPOCHS]")
    p.add_argument(
        "--clock", choices=("virtual", "real"), default=env("clock", "virtual"), help="[FANOUT_CLOCK]"
    )
    p.add_argument(
        "--inference-profile",
        default=env("inference_profile"),
        help="fast|typical|slow|measured; default: measured for providers, typical for policies "
        "[FANOUT_INFERENCE_PROFILE]",
    )
    p.add_argument(
        "--latency-scale",
        type=float,
        default=env("latency_scale", 1.0, float),
        help="multiply every tool latency [FANOUT_LATENCY_SCALE]",
    )
    p.add_argument(
        "--latency-profile",
        default=env("latency_profile"),
        help="replace every tool's latency model: uniform|fast-tools|slow-tools|heavy-tail "
        "[FANOUT_LATENCY_PROFILE]",
    )
    p.add_argument(
        "--fan-out-cap",
        type=_opt_int,
        default=env("fan_out_cap", None, _opt_int),
        help="max concurrent tool calls per batch (none = unbounded) [FANOUT_FAN_OUT_CAP]",
    )
    p.add_argument(
        "--tool-timeout",
        type=_opt_float,
        default=env("tool_timeout", None, _opt_float),
        help="seconds before a tool call returns a timeout error [FANOUT_TOOL_TIMEOUT]",
    )
    p.add_argument(
        "--hedge-after",
        type=_opt_float,
        default=env("hedge_after", None, _opt_float),
        help="seconds after which a read call is hedged with a duplicate request [FANOUT_HEDGE_AFTER]",
    )
    p.add_argument("--max-turns", type=int, default=env("max_turns", 30, int), help="[FANOUT_MAX_TURNS]")
    p.add_argument(
        "--max-concurrency",
        type=int,
        default=env("max_concurrency", 32, int),
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
        help="continue an interrupted run (other flags are taken from its run.json) [FANOUT_RESUME]",
    )
    p.add_argument(
        "--no-progress",
        action="store_true",
        default=bool(env("no_progress", False)),
        help="hide the progress bar [FANOUT_NO_PROGRESS]",
    )
    add_provider_flags(p)
    p.set_defaults(func=cmd_run)


def _row(cfg: RunConfig, s: dict) -> list[str]:
    def f(v, fmt="{:.3f}"):
        return "n/a" if v is None else fmt.format(v)

    return [
        cfg.model,
        str(s["episodes"]),
        f(s["success_rate"]),
        f(s["fan_out_recall"]),
        f(s["incorrect_fan_out_rate"]),
        f(s["redundant_calls_per_task"], "{:.2f}"),
        f"{s['mean_turns']:.2f}/{s['mean_ideal_turns']:.2f}",
        f(s["wall_s_p50"], "{:.2f}"),
        f(s["parallel_speedup"], "{:.2f}"),
        str(s["prompt_tokens"] + s["completion_tokens"]),
        f(s["cost_usd"], "{:.4f}"),
        str(s["errors"]),
    ]


HEADER = [
    "model",
    "episodes",
    "success",
    "recall",
    "incorrect",
    "redund/task",
    "turns/ideal",
    "wall_p50_s",
    "speedup",
    "tokens",
    "cost_usd",
    "errors",
]


def print_table(rows: list[list[str]], header: list[str] = HEADER, file=None) -> None:
    file = file or sys.stdout
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), file=file)
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)), file=file)


def cmd_run(args) -> int:
    rows = []
    if args.resume:
        try:
            cfg, _ = load_run(args.resume)
            suite = open_suite_for(cfg)
        except (FileNotFoundError, FixtureErrors, ValueError) as exc:
            print(f"fanout run --resume: {exc}", file=sys.stderr)
            return EXIT_MISUSE
        if suite.hash != cfg.suite_hash:
            print(
                f"fanout run --resume: suite {cfg.suite!r} changed since the run started "
                f"(hash {suite.hash} != {cfg.suite_hash}); start a new run",
                file=sys.stderr,
            )
            return EXIT_MISUSE
        try:
            prompts = PromptTemplates.load(cfg.system_prompt, cfg.user_prompt)
            for tid in cfg.task_ids:
                prompts.render(suite.by_id[tid])
        except ValueError as exc:
            print(f"fanout run --resume: {exc}", file=sys.stderr)
            return EXIT_MISUSE
        if prompts.hash != cfg.prompt_hash:
            print(
                f"fanout run --resume: the prompt templates changed since the run started "
                f"(hash {prompts.hash} != {cfg.prompt_hash}); resuming would mix two prompts in one run",
                file=sys.stderr,
            )
            return EXIT_MISUSE
        try:
            model = build_model(cfg, [suite])
        except ValueError as exc:
            print(f"fanout run --resume: {exc}", file=sys.stderr)
            return EXIT_MISUSE
        summary = asyncio.run(_execute_and_close(Path(args.resume), cfg, model, suite, not args.no_progress))
        rows.append(_row(cfg, summary))
        print_table(rows)
        print(f"run: {args.resume}", file=sys.stderr)
        return 0
    models = args.model or [m for m in (env("model") or "").split(",") if m] or ["policy/oracle"]
    patterns = args.task or [t for t in (env("task") or "").split(",") if t] or None
    try:
        suite = load_suite(args.suite)
    except FixtureErrors as exc:
        print(f"fanout run: the suite has errors:\n{exc}", file=sys.stderr)
        return EXIT_MISUSE
    except FileNotFoundError as exc:
        print(f"fanout run: {exc}", file=sys.stderr)
        return EXIT_MISUSE
    settings = dict(
        seed=args.seed,
        epochs=args.epochs,
        clock=args.clock,
        inference_profile=args.inference_profile,
        latency_scale=args.latency_scale,
        latency_profile=args.latency_profile,
        fan_out_cap=args.fan_out_cap,
        tool_timeout=args.tool_timeout,
        hedge_after=args.hedge_after,
        max_turns=args.max_turns,
        max_concurrency=args.max_concurrency,
        system_prompt=args.system_prompt,
        user_prompt=args.user_prompt,
        prices=args.prices,
        model_options=model_options(args),
    )
    out = Path(args.out)
    dirs = []
    for spec in models:
        try:
            run_dir, cfg = start_run(spec, suite, out, task_patterns=patterns, **settings)
        except (ValueError, FileExistsError) as exc:
            print(f"fanout run: {exc}", file=sys.stderr)
            return EXIT_MISUSE
        try:
            model = build_model(cfg, [suite])
        except ValueError as exc:
            shutil.rmtree(run_dir)  # nothing ran: leave no half-made run folder behind
            print(f"fanout run: {exc}", file=sys.stderr)
            return EXIT_MISUSE
        summary = asyncio.run(_execute_and_close(run_dir, cfg, model, suite, not args.no_progress))
        rows.append(_row(cfg, summary))
        dirs.append(str(run_dir))
    print_table(rows)
    for d in dirs:
        print(f"run: {d}", file=sys.stderr)
    return 0


async def _execute_and_close(run_dir, cfg, model, suite, progress):
    try:
        return await execute(run_dir, cfg, model, suite, progress=progress)
    finally:
        await model.aclose()
