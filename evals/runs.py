"""Run folders: run.json, append-only episodes.jsonl, summary.json; execution and resume.

Each finished episode is one JSON line, written and flushed before the next is reported, so a
killed run loses at most the episodes in flight; `--resume` drops a torn last line and runs only
the (task, epoch) pairs that have no line yet.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import os
import platform
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator
from tqdm import tqdm

from . import __version__
from .aggregate import frame, summarize, summarize_by_pattern
from .budget import Budget
from .episodes import EpisodeRecord, parse_line
from .errors import FanoutError, UsageError, describe_validation
from .fixtures import Suite, Task, load_suite
from .groundtruth import GroundTruthCache
from .models import Model, make_model
from .prices import PriceTable, load_prices
from .prompts import PromptTemplates
from .reference import complete_records
from .runtime import run_episode
from .scoring import score
from .settings import RuntimeSettings


class RunConfig(BaseModel):
    run_id: str
    model: str
    suite: str
    suite_path: str
    suite_hash: str
    task_patterns: list[str] | None = None
    task_ids: list[str]
    epochs: int = 1
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    max_concurrency: int = 32
    system_prompt: str | None = None
    user_prompt: str | None = None
    prompt_hash: str
    model_options: dict[str, Any] = Field(default_factory=dict)
    model_info: dict[str, Any] = Field(
        default_factory=dict, description="Model.describe(): resolved endpoint etc."
    )
    prices: str | None = None
    price_table_version: str | None = None
    harness_version: str = __version__
    python: str = Field(default_factory=lambda: platform.python_version())
    created: str
    finished: str | None = None
    status: str = "running"  # running | complete | interrupted

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """run.json written before `runtime` existed kept the runtime settings at the top level."""
        if isinstance(data, dict) and "runtime" not in data:
            flat = [k for k in RuntimeSettings.model_fields if k in data]
            if flat:
                data = dict(data)
                data["runtime"] = {k: data.pop(k) for k in flat}
        return data


def slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", s).strip("-")[:60]


def stamp_time() -> _dt.datetime:
    """When a run is stamped (run id, created, finished): now, or SOURCE_DATE_EPOCH when set, the
    reproducible-builds convention, so a published report regenerates byte for byte (`make reports`)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), _dt.UTC)
    return _dt.datetime.now(_dt.UTC)


def new_run_id(model: str, when: _dt.datetime | None = None) -> str:
    when = when or stamp_time()
    return f"{when.strftime('%Y%m%d-%H%M%S')}-{slug(model)}"


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def episode_lines(path: Path, repair: bool = False) -> list[tuple[int, bytes]]:
    """(line number, line) of each complete, non-blank line of an episodes.jsonl. A torn last line
    (no newline: the writer was killed mid-line) is dropped, and with `repair` also cut from the
    file so appends start on a clean line."""
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if repair and end != len(data):
        with open(path, "r+b") as f:
            f.truncate(end)
    return [(n, line) for n, line in enumerate(data[:end].splitlines(), start=1) if line.strip()]


def read_episodes(path: Path, repair: bool = False) -> list[dict[str, Any]]:
    """Episode lines of a run, decoded as written. A complete line that is not an episode (disk
    corruption, a hand edit) is skipped with a warning, and the lines after it are kept: its task
    then counts as not run, so a resume runs it again."""
    out = []
    for n, line in episode_lines(path, repair):
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if not isinstance(rec, dict) or "task_id" not in rec:
            print(f"warning: {path}: line {n} is not an episode; skipped", file=sys.stderr)
            continue
        out.append(rec)
    return out


def read_records(path: Path, runtime: RuntimeSettings | None) -> list[EpisodeRecord]:
    """Typed, upgraded episode records (`runtime`: the run's settings, for version-1 lines). A line
    that is not a valid episode is skipped with a warning, as `read_episodes` does."""
    out = []
    for n, line in episode_lines(path):
        try:
            out.append(parse_line(line, runtime))
        except ValidationError as exc:
            why = describe_validation(exc.errors())
            print(f"warning: {path}: line {n} is not a valid episode ({why}); skipped", file=sys.stderr)
    return out


class NotARunFolder(UsageError, FileNotFoundError):
    """A folder without run.json."""


class BadRunFolder(UsageError, ValueError):
    """A run folder that cannot be used: an invalid run.json, a task its suite no longer has."""


def read_run_config(run_dir: str | Path) -> RunConfig:
    d = Path(run_dir)
    if not (d / "run.json").is_file():
        raise NotARunFolder(f"{d} is not a run folder (no run.json)")
    try:
        return RunConfig.model_validate_json((d / "run.json").read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise BadRunFolder(f"{d}: run.json is not valid: {describe_validation(exc.errors())}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRunFolder(f"{d}/run.json cannot be read: {exc}") from None


def load_run(run_dir: str | Path) -> tuple[RunConfig, list[dict[str, Any]]]:
    """run.json and the decoded episode lines, as written (see `load_records` for typed ones)."""
    cfg = read_run_config(run_dir)
    return cfg, read_episodes(Path(run_dir) / "episodes.jsonl")


def load_records(run_dir: str | Path) -> tuple[RunConfig, list[EpisodeRecord]]:
    """run.json and the typed episode records, older lines upgraded with the run's settings."""
    cfg = read_run_config(run_dir)
    return cfg, read_records(Path(run_dir) / "episodes.jsonl", cfg.runtime)


class RunWriter:
    def __init__(self, run_dir: Path):
        self.path = run_dir / "episodes.jsonl"
        self.f = open(self.path, "a", encoding="utf-8")

    def write(self, record: EpisodeRecord) -> None:
        self.f.write(record.line() + "\n")
        self.f.flush()

    def close(self) -> None:
        self.f.close()


async def execute(
    run_dir: Path,
    cfg: RunConfig,
    model: Model,
    suite: Suite,
    progress: bool = True,
    prices: PriceTable | None = None,
    budget: Budget | None = None,
) -> dict:
    """Run every (task, epoch) of `cfg` that episodes.jsonl does not hold yet; return the summary.
    With a `budget`, no episode starts once it is exhausted (the run is then left resumable)."""
    done_rows = read_episodes(run_dir / "episodes.jsonl", repair=True)
    done = {(r["task_id"], r.get("epoch", 0)) for r in done_rows}
    prompts = PromptTemplates.load(cfg.system_prompt, cfg.user_prompt)
    model_settings = dict(cfg.model_options.get("settings", {}))
    gts = GroundTruthCache()
    prices = prices or load_prices(cfg.prices)
    price = prices.lookup(model.priced_as())
    cfg.model_info = model.describe()
    todo: list[tuple[Task, int]] = []
    for tid in cfg.task_ids:
        if tid not in suite.by_id:
            raise BadRunFolder(f"task {tid!r} of this run is not in suite {suite.name!r} any more")
        for e in range(cfg.epochs):
            if (tid, e) not in done:
                todo.append((suite.by_id[tid], e))
    writer = RunWriter(run_dir)
    sem = asyncio.Semaphore(max(1, cfg.max_concurrency))
    bar = tqdm(
        total=len(cfg.task_ids) * cfg.epochs,
        initial=len(done),
        desc=cfg.model,
        unit="ep",
        file=sys.stderr,
        disable=not progress,
        leave=False,
        dynamic_ncols=True,
    )

    async def one(task: Task, epoch: int) -> None:
        async with sem:
            if budget is not None and budget.exhausted:
                return
            gt = gts.get(task, cfg.runtime.seed)
            # agents (issue 14): an agent model runs whole episodes itself (a process, a proxy, MCP tools)
            agent_episode = getattr(model, "run_episode", None)
            if agent_episode is not None:
                trace = await agent_episode(task, cfg.runtime, epoch, prompts=prompts)
            else:
                trace = await run_episode(
                    model, task, cfg.runtime, epoch, prompts=prompts, model_settings=model_settings
                )
            sc = score(gt, trace, price, prompts)
            if budget is not None:
                budget.spend(sc.cost_usd)
            writer.write(
                EpisodeRecord(task_id=task.id, epoch=epoch, pattern=task.pattern, scores=sc, trace=trace)
            )
            bar.update(1)

    try:
        await asyncio.gather(*(one(t, e) for t, e in todo))
    finally:
        writer.close()
        bar.close()
    return finalize(run_dir, cfg)


def finalize(run_dir: Path, cfg: RunConfig) -> dict:
    recs = read_records(run_dir / "episodes.jsonl", cfg.runtime)
    complete_records(recs)  # measured turns: the references at the run's median turn latency
    df = frame(r.scores_row() for r in recs)
    summary = summarize(df)
    summary_doc = {
        "run_id": cfg.run_id,
        "model": cfg.model,
        "suite": cfg.suite,
        "suite_hash": cfg.suite_hash,
        "prompt_hash": cfg.prompt_hash,
        "clock": cfg.runtime.clock,
        "seed": cfg.runtime.seed,
        **summary,
        "by_pattern": summarize_by_pattern(df),
    }
    write_json_atomic(run_dir / "summary.json", summary_doc)
    expected = len(cfg.task_ids) * cfg.epochs
    cfg.status = "complete" if len(recs) >= expected else "interrupted"
    cfg.finished = stamp_time().isoformat(timespec="seconds")
    write_json_atomic(run_dir / "run.json", cfg.model_dump())
    return summary_doc


def start_run(
    model_spec: str,
    suite: Suite,
    out: Path,
    *,
    runtime: RuntimeSettings | None = None,
    task_patterns: list[str] | None = None,
    run_id: str | None = None,
    **settings: Any,
) -> tuple[Path, RunConfig]:
    """Make the run folder and its run.json; `settings` are RunConfig fields (epochs, prompts, ...)."""
    unknown = sorted(set(settings) - set(RunConfig.model_fields))
    if unknown:  # a programming error, not a user's: runtime settings go in `runtime`
        raise TypeError(f"start_run: unknown run settings {unknown}; runtime settings go in `runtime`")
    tasks = suite.select(task_patterns)
    if not tasks:
        raise UsageError(f"no task of suite {suite.name!r} matches {task_patterns}")
    prompts = PromptTemplates.load(settings.get("system_prompt"), settings.get("user_prompt"))
    for t in tasks:  # fail before the run starts if the template needs what a task lacks
        prompts.render(t)
    rid = run_id or new_run_id(model_spec)
    run_dir = out / rid
    if (run_dir / "run.json").exists():
        if run_id:
            raise UsageError(f"{run_dir} already holds a run; use --resume {run_dir}")
        n = 2
        while (out / f"{rid}-{n}").exists():
            n += 1
        rid = f"{rid}-{n}"
        run_dir = out / rid
    run_dir.mkdir(parents=True, exist_ok=True)
    prices = load_prices(settings.get("prices"))
    cfg = RunConfig(
        run_id=rid,
        model=model_spec,
        suite=suite.name,
        suite_path=str(suite.path),
        suite_hash=suite.hash,
        task_patterns=task_patterns,
        task_ids=[t.id for t in tasks],
        prompt_hash=prompts.hash,
        created=stamp_time().isoformat(timespec="seconds"),
        price_table_version=prices.version,
        runtime=runtime or RuntimeSettings(),
        **{k: v for k, v in settings.items() if v is not None},
    )
    write_json_atomic(run_dir / "run.json", cfg.model_dump())
    (run_dir / "episodes.jsonl").touch()
    return run_dir, cfg


def open_suite(name: str | Path) -> Suite:
    """A suite by name or path; a missing one is a usage error (fixture errors already are)."""
    try:
        return load_suite(name)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None


def open_suite_for(cfg: RunConfig) -> Suite:
    """The suite a run was made on: its path, else its name."""
    try:
        return load_suite(cfg.suite_path)
    except FileNotFoundError:
        return open_suite(cfg.suite)


def model_for(spec: str, suites: Iterable[Suite], seed: int, options: dict[str, Any]) -> Model:
    """The model of a model string; one no provider accepts (or a bad option) is a usage error."""
    try:
        return make_model(spec, list(suites), seed=seed, options=options)
    except FanoutError:
        raise
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def build_model(cfg: RunConfig, suites: Iterable[Suite]) -> Model:
    """The run's model, as its run.json describes it."""
    return model_for(cfg.model, suites, cfg.runtime.seed, cfg.model_options)
