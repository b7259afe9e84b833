"""`fanout run`: run models on a suite and write one run folder per model.

Run one or more models on a task suite. Writes <out>/<run_id>/{run.json,episodes.jsonl,summary.json}
per model and prints a summary row per model. Every flag also reads FANOUT_<FLAG> (e.g.
FANOUT_SEED=3, FANOUT_MODEL=policy/oracle,policy/greedy).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import glob
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import UnionType
from typing import Any, Literal, TextIO, Union, get_args, get_origin

from ..budget import Budget
from ..clocks import OverheadError
from ..errors import (
    EXIT_BUDGET,
    EXIT_EPISODE_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    FanoutError,
    InfrastructureError,
    UsageError,
)
from ..files import write_json_atomic
from ..fixtures import Suite
from ..metrics import METRICS
from ..models import Model, model_strings
from ..prices import load_prices
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
    unlock_run,
)
from ..settings import RuntimeSettings, flag, from_text
from ..shards import assigned
from . import Subparsers, boolean, command, env, out_folder, positive_float, positive_int
from .provider_flags import add_provider_flags, model_options


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


MAX_EPOCHS = 10_000


def epochs(text: str) -> int:
    """An epoch count: a run plans every (task, epoch) pair up front, so a typo such as 1e20
    epochs would fill the memory before the first episode; beyond 10,000 it is refused."""
    n = positive_int(text)
    if n > MAX_EPOCHS:
        raise argparse.ArgumentTypeError(f"expected an integer from 1 to {MAX_EPOCHS}, not {text!r}")
    return n


def register(sub: Subparsers) -> None:
    p = command(
        sub, "run", __doc__, "run models on a suite", formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument(
        "--model",
        action="append",
        default=None,
        help=f"model string, repeatable: {', '.join(model_strings())} [FANOUT_MODEL, comma-separated]",
    )
    p.add_argument("--suite", default=env("suite", "core"), help="suite name or folder [FANOUT_SUITE]")
    p.add_argument(
        "--task",
        action="append",
        default=None,
        help="task id glob, repeatable [FANOUT_TASK, comma-separated]",
    )
    p.add_argument(
        "--sample-id",
        action="append",
        default=None,
        metavar="ID[,ID...]",
        help="exact task ids, repeatable or comma-separated (as inspect_ai's --sample-id) [FANOUT_SAMPLE_ID]",
    )
    p.add_argument(
        "--limit",
        type=positive_int,
        default=env("limit", None, positive_int),
        metavar="N",
        help="run only the first N selected tasks, in suite order [FANOUT_LIMIT]",
    )
    p.add_argument(
        "--epochs",
        type=epochs,
        default=env("epochs", 1, epochs),
        help=f"runs per task, 1 to {MAX_EPOCHS:,} [FANOUT_EPOCHS]",
    )
    p.add_argument(
        "--max-concurrency",
        type=positive_int,
        default=env("max_concurrency", 32, positive_int),
        help="episodes run concurrently [FANOUT_MAX_CONCURRENCY]",
    )
    p.add_argument(
        "--max-cost-usd",
        type=positive_float,
        default=env("max_cost_usd", None, positive_float),
        metavar="USD",
        help="stop starting episodes once this command has spent this much (episodes in flight finish); "
        "the runs stay resumable with --resume; every model needs a price [FANOUT_MAX_COST_USD]",
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
        default=env("retry_errors", False, boolean),
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
        default=env("no_progress", False, boolean),
        help="hide the progress bar [FANOUT_NO_PROGRESS=1; 0 or false shows it]",
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


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: handed to whatever handles SIGINT now. While episodes run that is
    asyncio's, which cancels the run at its next await, so no episode line, run.json or cache
    write is cut short; raising KeyboardInterrupt here instead lands at any bytecode, even inside
    pydantic serialising a line (which then surfaced as a PydanticSerializationError traceback,
    exit 1, the run marked `stopped`)."""
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM (a CI job cancelled, `timeout`, `kill`) stops a run as Ctrl-C does: the episodes in
    flight are cancelled, agents and what they left running are killed, their scratch folders
    removed, the run marked `interrupted` and the resume command printed. Left alone, SIGTERM
    would end the process at once and leave agents (in sessions of their own) running."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _noted_interrupts() -> Iterator[list[int]]:
    """While the run folders are made (no event loop runs yet), Ctrl-C and SIGTERM raise
    KeyboardInterrupt as usual and are also noted in the list yielded, so an interrupt that a
    library caught and re-raised as its own error is still known to be one."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def note(signum: int, frame: Any) -> None:
        seen.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_run(args: argparse.Namespace) -> int:
    with _sigterm_interrupts():
        return _cmd_run(args)


def _cmd_run(args: argparse.Namespace) -> int:
    if args.resume:
        _refuse_settings_on_resume(args)
        return _resume(Path(args.resume), not args.no_progress, args.retry_errors, args.max_cost_usd)
    if args.retry_errors:
        raise UsageError("--retry-errors reruns the failed episodes of a run: use it with --resume RUN_DIR")
    runtime = runtime_settings(args)  # before anything is loaded or made: a bad value is exit 2
    models = args.model or _listed(env("model"))
    if not models:
        raise UsageError("no model given: --model M (repeatable; e.g. --model policy/oracle) or FANOUT_MODEL")
    out = out_folder(args.out, "run folders")
    suite = open_suite(args.suite)
    patterns = select_tasks(suite, args.task or _listed(env("task")), args.sample_id, args.limit)
    settings = dict(
        epochs=args.epochs,
        max_concurrency=args.max_concurrency,
        system_prompt=args.system_prompt,
        user_prompt=args.user_prompt,
        prices=args.prices,
        model_options=model_options(args),
        shard=args.shard,
    )
    built: list[Model] = []
    started: list[tuple[Path, RunConfig]] = []
    out_existed = out.exists()
    signals: list[int] = []
    try:  # every model string (and its key) is checked before any folder is made or any model run
        with _noted_interrupts() as signals:
            built = build_models(models, suite, runtime.seed, settings["model_options"])
            budget = _budget(args.max_cost_usd, built, args.prices)
            for spec in models:
                started.append(
                    start_run(spec, suite, out, runtime=runtime, task_patterns=patterns, **settings)
                )
            for model, (_, cfg) in zip(built, started, strict=True):
                _refuse_unservable(model, cfg)
    except BaseException as exc:
        # Nothing ran yet: a Ctrl-C or SIGTERM here leaves no folder behind, as a usage error does
        # (not folders claiming to be `running`, or one without a run.json that cannot resume).
        asyncio.run(_close(built))
        _remove_unstarted(started, out, out_existed)
        if signals and not isinstance(exc, KeyboardInterrupt):
            # The interrupt landed inside a library that wrapped it (pydantic serialising a task
            # reports it as a PydanticSerializationError): it is still the interrupt.
            raise KeyboardInterrupt from None
        if isinstance(exc, OSError):  # --out cannot be written: the caller named a bad place
            raise UsageError(f"--out {out}: cannot make a run folder there ({exc.strerror or exc})") from None
        raise
    rows: list[list[str]] = []
    summaries: list[dict[str, Any]] = []
    try:
        for model, (run_dir, cfg) in zip(built, started, strict=True):
            summary = asyncio.run(
                _execute_and_close(run_dir, cfg, model, suite, not args.no_progress, budget=budget)
            )
            rows.append(_row(cfg, summary))
            summaries.append(summary)
    except BaseException as exc:
        later = started[len(rows) + 1 :]  # the models after the one that stopped never ran
        _not_started(later, started[len(rows)][1].model)
        if isinstance(exc, KeyboardInterrupt):
            if _resume_hint(started, "interrupted"):
                return EXIT_INTERRUPTED  # the hint is the message: main adds no bare `interrupted`
        elif later:
            _resume_hint(later, "these runs did not start")
        raise
    finally:
        if rows:  # the models that finished keep their row, whatever stopped the next one
            print_table(rows)
    for d, _ in started:
        print(f"run: {d}", file=sys.stderr)
    stopped = _budget_stop(started, budget)
    errors = [_errors_note(cfg, sm, d) for (d, cfg), sm in zip(started, summaries, strict=True)]
    if stopped:
        return EXIT_BUDGET
    return EXIT_EPISODE_ERRORS if any(errors) else EXIT_OK


def _listed(text: str | None) -> list[str]:
    """FANOUT_MODEL / FANOUT_TASK: comma-separated."""
    return [m.strip() for m in (text or "").split(",") if m.strip()]


def select_tasks(
    suite: Suite, patterns: list[str] | None, sample_ids: list[str] | None, limit: int | None
) -> list[str] | None:
    """The task patterns a run records: the --task globs, narrowed to --sample-id's exact ids and to
    the first --limit tasks (then written as exact ids, so run.json says what ran). None: all."""
    ids = [i.strip() for text in sample_ids or [] for i in text.split(",") if i.strip()]
    if not ids and limit is None:
        return patterns
    for i in ids:
        if i not in suite.by_id:
            close = difflib.get_close_matches(i, list(suite.by_id), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"--sample-id {i!r}: suite {suite.name!r} has no such task{hint}")
    tasks = suite.select(patterns)
    if ids:
        wanted = set(ids)
        tasks = [t for t in tasks if t.id in wanted]
    if limit is not None:
        tasks = tasks[:limit]
    if not tasks:  # only the filters that were given are named (open_suite refused an empty suite)
        given = [f"--task {patterns}"] if patterns else []
        given += [f"--sample-id {ids}"] if ids else []
        raise UsageError(f"no task of suite {suite.name!r} matches {' and '.join(given)}")
    return [glob.escape(t.id) for t in tasks]


def build_models(specs: list[str], suite: Suite, seed: int, options: dict[str, Any]) -> list[Model]:
    """Every model, or one usage error naming each model that cannot be built (a missing key, an
    unknown provider), so a second model's missing key is found before the first one runs."""
    built: list[Model] = []
    problems: list[str] = []
    for spec in specs:
        try:
            built.append(model_for(spec, [suite], seed, options))
        except UsageError as exc:
            problems.append(str(exc))
    if problems:
        asyncio.run(_close(built))
        raise UsageError("; ".join(problems))
    return built


def _refuse_unservable(model: Model, cfg: RunConfig) -> None:
    """A run whose model has no response at all for some of its episodes (a replay of a run that
    recorded other tasks or fewer epochs) is refused before it starts: it would only end in as
    many errors, with advice to retry them that cannot work."""
    pairs = assigned(cfg.task_ids, cfg.epochs, cfg.shard)
    missing = model.unservable(pairs)
    if missing:
        shown = ", ".join(f"{t} epoch {e}" for t, e in missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise UsageError(
            f"{model.name}: no recorded episode for {len(missing)} of the {len(pairs)} episodes this "
            f"run would make: {shown}; select the recorded tasks (--task, --sample-id) and epochs"
        )


def _budget(limit_usd: float | None, models: list[Model], prices_file: str | None) -> Budget | None:
    """The --max-cost-usd budget; every model must have a price (in the run's price table), or
    spending could not be counted: a new run and a resume are checked alike."""
    if limit_usd is None:
        return None
    prices = load_prices(prices_file)
    unpriced = [m.name for m in models if prices.lookup(m.priced_as()) is None]
    if unpriced:
        raise UsageError(
            f"--max-cost-usd: no price for {', '.join(unpriced)}, so its spending cannot be counted; "
            "add it with --prices FILE"
        )
    return Budget(limit_usd)


# What `--resume` uses from the command line; everything else comes from the run's run.json.
RESUME_FLAGS = {"resume", "retry_errors", "no_progress", "max_cost_usd"}


def _refuse_settings_on_resume(args: argparse.Namespace) -> None:
    """A flag given with --resume would be ignored (the run continues with the settings in its
    run.json, or it would mix two settings in one run): say so instead of running without it."""
    from . import build_parser

    parser = build_parser(["run"])
    defaults = vars(parser.parse_args(["run"]))  # FANOUT_* values included
    (run_parser,) = (a.choices["run"] for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    names = {a.dest: a.option_strings[-1] for a in run_parser._actions if a.option_strings}
    typed = _typed_flags(run_parser, getattr(args, "argv", None))
    given = sorted(
        names[k]
        for k, v in vars(args).items()
        if k in names and k not in RESUME_FLAGS and (defaults.get(k) != v or k in typed)
    )
    if given:
        flags = ", ".join(given)
        raise UsageError(
            f"--resume continues a run with the settings in its run.json; {flags} would be ignored: "
            "drop it, or start a new run to change it"
        )


def _typed_flags(run_parser: argparse.ArgumentParser, argv: list[str] | None) -> set[str]:
    """The dests of the flags typed on the command line, even with their default value
    (`--epochs 1` on a three-epoch run would be ignored as surely as `--epochs 5`). argparse
    keeps a value already in the namespace instead of its default, so each flag starts as a
    marker and the ones still holding it were not typed. FANOUT_* values are not typed flags."""
    if not argv or "run" not in argv:
        return set()
    rest = argv[argv.index("run") + 1 :]
    unset = object()
    ns = argparse.Namespace()
    for a in run_parser._actions:
        if a.option_strings and a.dest != "help":  # an append action must start from None
            setattr(ns, a.dest, None if isinstance(a, argparse._AppendAction) else unset)
    run_parser.parse_known_args(rest, namespace=ns)
    return {k for k, v in vars(ns).items() if v is not unset and v is not None}


def _budget_stop(started: list[tuple[Path, RunConfig]], budget: Budget | None) -> bool:
    """Whether the budget stopped a run before its last episode (exit 5, not 0: a CI job must
    tell it from a finished run), saying how to continue."""
    if budget is None or not budget.exhausted:
        return False
    return _resume_hint(started, f"budget of ${budget.limit:g} reached (${budget.spent:.4f} spent)", budget)


def _resume_hint(started: list[tuple[Path, RunConfig]], why: str, budget: Budget | None = None) -> bool:
    """Say how to continue the runs that did not finish; False when every one finished."""
    left = [d for d, _ in started if read_run_config(d).status != "complete"]
    if not left:
        return False
    more = f" --max-cost-usd {budget.limit:g}" if budget is not None else ""
    print(f"fanout run: {why}; resume with:", file=sys.stderr)
    for d in left:
        print(f"  fanout run --resume {d}{more}", file=sys.stderr)
    return True


def _not_started(runs: list[tuple[Path, RunConfig]], stopped_model: str) -> None:
    """Mark the run folders of models that never ran because an earlier one stopped: `interrupted`
    (resumable, like any unfinished run), not `running`, which would claim a process still
    writes them."""
    for run_dir, cfg in runs:
        cfg.status = "interrupted"
        cfg.stop_reason = f"not started: the run of {stopped_model} before it stopped"
        try:
            write_json_atomic(run_dir / "run.json", cfg.model_dump())
        except FanoutError:  # write_json_atomic's LocalIOError: the disk may be what stopped the
            pass  # run, and its first error (with the resume command) is the one to report


def _remove_unstarted(started: list[tuple[Path, RunConfig]], out: Path, out_existed: bool) -> None:
    """Remove the run folders of a command that stopped before running anything (no episode),
    and --out itself when this command made it, so a usage error leaves nothing behind."""
    for d, _ in started:
        if not (d / "episodes.jsonl").exists() or (d / "episodes.jsonl").stat().st_size == 0:
            unlock_run(d)
            shutil.rmtree(d, ignore_errors=True)
    if not out_existed and out.is_dir() and not any(out.iterdir()):
        out.rmdir()


def _resume(
    run_dir: Path, progress: bool, retry_errors: bool = False, max_cost_usd: float | None = None
) -> int:
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
    _same_prices(cfg, model)
    budget = _budget(max_cost_usd, [model], cfg.prices)
    started = [(run_dir, cfg)]
    try:
        summary = asyncio.run(
            _execute_and_close(run_dir, cfg, model, suite, progress, retry_errors, budget=budget)
        )
    except KeyboardInterrupt:
        if _resume_hint(started, "interrupted"):
            return EXIT_INTERRUPTED  # the hint is the message: main adds no bare `interrupted`
        raise
    print_table([_row(cfg, summary)])
    print(f"run: {run_dir}", file=sys.stderr)
    stopped = _budget_stop(started, budget)
    errors = _errors_note(cfg, summary, run_dir)
    if stopped:
        return EXIT_BUDGET
    return EXIT_EPISODE_ERRORS if errors else EXIT_OK


def _same_prices(cfg: RunConfig, model: Model) -> None:
    """Each episode is priced when it is scored: a resume under another price table (an upgrade
    shipped a new one, the run's --prices file was edited) would price one run two ways. A model
    the table does not price is unaffected (its cost is unknown either way)."""
    if cfg.price_table_version is None:
        return
    prices = load_prices(cfg.prices)
    if prices.version != cfg.price_table_version and prices.lookup(model.priced_as()) is not None:
        raise UsageError(
            f"--resume: the price table changed since the run started (version {prices.version} != "
            f"{cfg.price_table_version}); resuming would price {cfg.model} two ways in one run"
        )


async def _execute_and_close(
    run_dir: Path,
    cfg: RunConfig,
    model: Model,
    suite: Suite,
    progress: bool,
    retry_errors: bool = False,
    budget: Budget | None = None,
) -> dict[str, Any]:
    try:
        return await execute(
            run_dir, cfg, model, suite, progress=progress, retry_errors=retry_errors, budget=budget
        )
    except InfrastructureError as exc:
        if isinstance(exc, OverheadError):  # resuming would measure the same overload again
            raise
        raise type(exc)(f"{exc} [run stopped; continue it with: fanout run --resume {run_dir}]") from None
    finally:
        await model.aclose()


async def _close(models: list[Model]) -> None:
    for m in models:
        await m.aclose()
