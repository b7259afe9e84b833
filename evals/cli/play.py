"""`fanout play TASK`: play the model on one task in the terminal, then read the scores explained.

The player is a model adapter (`evals.models.play`), and the episode runs through `runs.execute`,
the same runtime, scoring and run-folder writer as `fanout run`: a played episode is scored
exactly as a provider's would be, and `--out` keeps it as an ordinary run folder (which
`fanout report`, `compare` and `replay/` read like any other). Nothing about the scoring is
shown until the episode is over. An episode the player does not finish (end of input, `quit`,
a responses file that runs out) is not scored and leaves no run folder; it exits 130 for `quit`
(as for Ctrl-C) and 2 when the input ended.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import difflib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from ..errors import EXIT_INTERRUPTED, EXIT_USAGE
from ..explain import explain, render
from ..fixtures import FixtureErrors, Suite, Task, load_suite
from ..groundtruth import resolve
from ..models.play import FileSource, InteractiveSource, PlayModel, ResponseFormatError, ResponseSource
from ..prompts import PromptTemplates
from ..runs import (
    RunConfig,
    RunWriter,
    execute,
    finalize,
    load_run,
    lock_run,
    open_suite_for,
    read_records,
    read_run_config,
    start_run,
)
from ..scoring import Scores
from ..settings import RuntimeSettings
from ..trace import Trace
from . import env


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "play",
        help="play the model on one task in the terminal, then see the scores explained",
        description="Play the model on one task: see the system prompt, the user prompt and the tools as a "
        "provider request carries them, answer each turn with tool calls as JSON or a final answer "
        "('answer: ...'), read the tool results, and at the end get the episode's scores with every "
        "call's class explained. Same runtime and scoring as `fanout run`. Format and play-test rules: "
        "docs/play.md.",
    )
    p.add_argument("task", metavar="TASK", help="task id (see `fanout tasks list SUITE`)")
    p.add_argument("--suite", default=env("suite", "core"), help="suite name or folder [FANOUT_SUITE]")
    p.add_argument(
        "--seed", type=int, default=env("seed", 0, int), help="world and latency seed [FANOUT_SEED]"
    )
    p.add_argument(
        "--system-prompt",
        default=env("system_prompt"),
        help="system prompt: default, neutral or a jinja2 template file [FANOUT_SYSTEM_PROMPT]",
    )
    p.add_argument(
        "--user-prompt", default=env("user_prompt"), help="jinja2 user prompt template [FANOUT_USER_PROMPT]"
    )
    p.add_argument(
        "--responses",
        metavar="FILE",
        default=None,
        help="read the responses from FILE (one per turn; '-' = stdin) instead of asking; bad input is an "
        "error naming the line, and a file that runs out before the answer stops the episode there",
    )
    p.add_argument(
        "--out",
        default=None,
        help="keep the episode as a run folder under this folder (default: keep nothing)",
    )
    p.add_argument(
        "--append",
        metavar="RUN_DIR",
        default=None,
        help="add the episode to an existing play run folder (one folder for a whole play-test); its "
        "suite, seed, prompts, max turns and player come from its run.json, and the flags for them are ignored",
    )
    p.add_argument(
        "--player",
        default="human",
        help="name recorded as the model: play/<player> (e.g. an agent's name) (default: human)",
    )
    p.add_argument("--max-turns", type=int, default=env("max_turns", 30, int), help="[FANOUT_MAX_TURNS]")
    p.add_argument(
        "--json",
        action="store_true",
        help="after the explanation, print one JSON line with the scores and the per-call explanation",
    )
    p.set_defaults(func=cmd_play)


def _err(msg: str) -> int:
    print(f"fanout play: {msg}", file=sys.stderr)
    return EXIT_USAGE


def find_task(suite: Suite, task_id: str) -> Task:
    task = suite.by_id.get(task_id)
    if task is None:
        close = difflib.get_close_matches(task_id, list(suite.by_id), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; see `fanout tasks list {suite.name}`"
        raise LookupError(f"no task {task_id!r} in suite {suite.name!r}{hint}")
    return task


def _target(args: argparse.Namespace) -> tuple[Suite, RunConfig | None]:
    """The suite, and with --append the run folder's config (whose settings replace the flags)."""
    if args.append is None:
        return load_suite(args.suite), None
    if args.out is not None:
        raise ValueError("--out and --append exclude each other")
    cfg, _ = load_run(args.append)
    lock_run(Path(args.append))  # held until this play has appended (the process ends)
    if not cfg.model.startswith("play/"):
        raise ValueError(
            f"{args.append} is a run of {cfg.model}, not a play run; --append adds only to play runs"
        )
    suite = open_suite_for(cfg)
    if suite.hash != cfg.suite_hash:
        raise ValueError(
            f"suite {cfg.suite!r} changed since {args.append} started (hash {suite.hash} != {cfg.suite_hash}); "
            "start a new play run with --out"
        )
    args.seed, args.max_turns = cfg.runtime.seed, cfg.runtime.max_turns
    args.system_prompt, args.user_prompt = cfg.system_prompt, cfg.user_prompt
    args.player = cfg.model.split("/", 1)[1]
    return suite, cfg


def cmd_play(args: argparse.Namespace) -> int:
    if args.max_turns < 1:
        return _err("--max-turns must be >= 1")
    if "/" in args.player or not args.player.strip():
        return _err("--player must be a non-empty name without '/'")
    try:
        suite, appending = _target(args)
    except FixtureErrors as exc:
        return _err(f"the suite has errors:\n{exc}")
    except (FileNotFoundError, ValueError) as exc:
        return _err(str(exc))
    try:
        task = find_task(suite, args.task)
    except LookupError as exc:
        return _err(str(exc.args[0]))
    if appending is not None and task.id in appending.task_ids:
        return _err(f"{args.append} already holds an episode of {task.id}")
    try:
        PromptTemplates.load(args.system_prompt, args.user_prompt).render(task)
    except ValueError as exc:
        return _err(str(exc))
    try:
        resolve(task, args.seed)  # a task whose ground truth fails is the suite's fault: say so first
    except ValueError as exc:
        return _err(str(exc))
    source: ResponseSource
    if args.responses is not None:
        try:
            source = FileSource.read(args.responses)
        except ResponseFormatError as exc:
            return _err(str(exc))
    else:
        source = InteractiveSource(sys.stdin, sys.stdout)
    model = PlayModel(source, sys.stdout, args.player)
    if isinstance(source, InteractiveSource):
        source.replay = model.replay_transcript

    if args.out is not None:
        return _play(args, suite, task, model, Path(args.out), keep=True)
    with tempfile.TemporaryDirectory(prefix="fanout-play-") as tmp:
        code = _play(args, suite, task, model, Path(tmp), keep=False)
        if code == 0 and appending is not None:
            [played] = [p for p in Path(tmp).iterdir() if p.is_dir()]
            _append(Path(args.append), appending, played, suite)
            print(f"run: {args.append} (+ {task.id})", file=sys.stderr)
        return code


def _append(run_dir: Path, cfg: RunConfig, played: Path, suite: Suite) -> None:
    """Add a scored episode to a play run: its line as written, the task to `task_ids`, the prompt
    hash recomputed over every task now in the run (as `start_run` computes it), the summary
    rebuilt. Only a finished episode gets here, so an abandoned one never touches the run."""
    [row] = read_records(played / "episodes.jsonl", cfg.runtime)
    cfg.task_ids.append(row.task_id)
    cfg.task_patterns = None
    prompts = PromptTemplates.load(cfg.system_prompt, cfg.user_prompt)
    for tid in cfg.task_ids:
        prompts.render(suite.by_id[tid])
    cfg.prompt_hash = prompts.hash
    writer = RunWriter(run_dir)
    try:
        writer.write(row)
    finally:
        writer.close()
    finalize(run_dir, cfg)


def _play(args: argparse.Namespace, suite: Suite, task: Task, model: PlayModel, out: Path, keep: bool) -> int:
    created = not out.exists()
    try:
        run_dir, cfg = start_run(
            model.name,
            suite,
            out,
            task_patterns=[task.id],
            runtime=RuntimeSettings(seed=args.seed, max_turns=args.max_turns),
            max_concurrency=1,
            system_prompt=args.system_prompt,
            user_prompt=args.user_prompt,
        )
    except (ValueError, OSError) as exc:
        return _err(str(exc))
    cfg.task_ids = [task.id]  # exactly this task, even if its id reads as a glob

    def discard() -> None:
        shutil.rmtree(run_dir, ignore_errors=True)
        if keep and created:
            try:
                out.rmdir()
            except OSError:
                pass

    try:
        asyncio.run(execute(run_dir, cfg, model, suite, progress=False))
    except KeyboardInterrupt:
        discard()
        print("\nfanout play: interrupted; nothing was scored", file=sys.stderr)
        return EXIT_INTERRUPTED
    if model.stopped is not None:
        discard()
        print(f"fanout play: {model.stopped}; nothing was scored", file=sys.stderr)
        return model.stopped.exit_code  # 130 for quit, 2 for input that ended
    sys.stdout.write(report(run_dir, cfg, task))
    if isinstance(model.source, FileSource) and model.source.unused:
        n = model.source.unused
        print(
            f"fanout play: warning: the episode ended at turn {model.turn}, so {n} response"
            f"{'s' if n != 1 else ''} went unused (from line {model.source.lines[model.source.used]} "
            f"of {model.source.label})",
            file=sys.stderr,
        )
    if args.json:
        print(json_line(run_dir, task))
    if keep:
        print(f"run: {run_dir}", file=sys.stderr)
    return 0


def _episode(run_dir: Path) -> tuple[Trace, Scores]:
    [row] = [json.loads(x) for x in (run_dir / "episodes.jsonl").read_text(encoding="utf-8").splitlines()]
    return Trace.model_validate(row["trace"]), Scores.model_validate(row["scores"])


def report(run_dir: Path, cfg: RunConfig, task: Task) -> str:
    """The explanation of the episode as written in the run folder (the same record `fanout
    report` reads), so what the player reads is what was recorded."""
    trace, scores = _episode(run_dir)
    gt = resolve(task, cfg.runtime.seed)
    head = ""
    if trace.stop == "max_turns":
        head = f"\nThe episode reached --max-turns {cfg.runtime.max_turns} without a final answer.\n"
    return head + render(explain(gt, trace, scores), scores, gt)


def json_line(run_dir: Path, task: Task) -> str:
    trace, scores = _episode(run_dir)
    cfg = read_run_config(run_dir)
    ex = explain(resolve(task, cfg.runtime.seed), trace, scores)
    return json.dumps(
        {
            "task_id": task.id,
            "scores": scores.model_dump(),
            "calls": [dataclasses.asdict(n) for n in ex.calls],
            "penalties": ex.penalties,
            "success_reasons": ex.success_reasons,
        },
        ensure_ascii=False,
    )
