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

from pydantic import BaseModel, Field
from tqdm import tqdm

from . import __version__
from .aggregate import frame, summarize, summarize_by_pattern
from .fixtures import Suite, Task, load_suite
from .groundtruth import GroundTruthCache
from .models import Model, make_model
from .prices import PriceTable, load_prices
from .prompts import PromptTemplates
from .runtime import RuntimeConfig, run_episode
from .scoring import score


class RunConfig(BaseModel):
    run_id: str
    model: str
    suite: str
    suite_path: str
    suite_hash: str
    task_patterns: list[str] | None = None
    task_ids: list[str]
    epochs: int = 1
    seed: int = 0
    clock: str = "virtual"
    inference_profile: str | None = None
    latency_scale: float = 1.0
    latency_profile: str | None = None
    fan_out_cap: int | None = None
    tool_timeout: float | None = None
    hedge_after: float | None = None
    max_turns: int = 30
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


def slug(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", s).strip("-")[:60]


def new_run_id(model: str, when: _dt.datetime | None = None) -> str:
    when = when or _dt.datetime.now(_dt.UTC)
    return f"{when.strftime('%Y%m%d-%H%M%S')}-{slug(model)}"


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_episodes(path: Path, repair: bool = False) -> list[dict]:
    """Episode lines of a run. A torn last line (no newline: the writer was killed mid-line) is
    dropped, and with `repair` also cut from the file so appends start on a clean line. A complete
    line that is not an episode (disk corruption, a hand edit) is skipped with a warning, and
    the lines after it are kept: its task then counts as not run, so a resume runs it again."""
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if repair and end != len(data):
        with open(path, "r+b") as f:
            f.truncate(end)
    out = []
    for n, line in enumerate(data[:end].splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if not isinstance(rec, dict) or "task_id" not in rec:
            print(f"warning: {path}: line {n} is not an episode; skipped", file=sys.stderr)
            continue
        out.append(rec)
    return out


def load_run(run_dir: str | Path) -> tuple[RunConfig, list[dict]]:
    d = Path(run_dir)
    if not (d / "run.json").exists():
        raise FileNotFoundError(f"{d} is not a run folder (no run.json)")
    cfg = RunConfig.model_validate_json((d / "run.json").read_text(encoding="utf-8"))
    return cfg, read_episodes(d / "episodes.jsonl")


def runtime_config(cfg: RunConfig) -> RuntimeConfig:
    return RuntimeConfig(
        seed=cfg.seed,
        clock=cfg.clock,
        inference_profile=cfg.inference_profile,
        latency_scale=cfg.latency_scale,
        latency_profile=cfg.latency_profile,
        fan_out_cap=cfg.fan_out_cap,
        tool_timeout=cfg.tool_timeout,
        hedge_after=cfg.hedge_after,
        max_turns=cfg.max_turns,
        settings=dict(cfg.model_options.get("settings", {})),
        prompts=PromptTemplates.load(cfg.system_prompt, cfg.user_prompt),
    )


class RunWriter:
    def __init__(self, run_dir: Path):
        self.path = run_dir / "episodes.jsonl"
        self.f = open(self.path, "a", encoding="utf-8")

    def write(self, record: dict) -> None:
        self.f.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=str) + "\n")
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
) -> dict:
    """Run every (task, epoch) of `cfg` that episodes.jsonl does not hold yet; return the summary."""
    done_rows = read_episodes(run_dir / "episodes.jsonl", repair=True)
    done = {(r["task_id"], r.get("epoch", 0)) for r in done_rows}
    rt = runtime_config(cfg)
    gts = GroundTruthCache()
    prices = prices or load_prices(cfg.prices)
    price = prices.lookup(model.priced_as())
    cfg.model_info = model.describe()
    todo: list[tuple[Task, int]] = []
    for tid in cfg.task_ids:
        if tid not in suite.by_id:
            raise ValueError(f"task {tid!r} of this run is not in suite {suite.name!r} any more")
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
            gt = gts.get(task, cfg.seed)
            # agents (issue 14): an agent model runs whole episodes itself (a process, a proxy, MCP tools)
            agent_episode = getattr(model, "run_episode", None)
            if agent_episode is not None:
                trace = await agent_episode(task, rt, epoch)
            else:
                trace = await run_episode(model, task, rt, epoch)
            sc = score(gt, trace, rt.latency, price)
            writer.write(
                {
                    "task_id": task.id,
                    "epoch": epoch,
                    "pattern": task.pattern,
                    "scores": sc.model_dump(),
                    "trace": trace.model_dump(exclude_none=True),
                }
            )
            bar.update(1)

    try:
        await asyncio.gather(*(one(t, e) for t, e in todo))
    finally:
        writer.close()
        bar.close()
    return finalize(run_dir, cfg)


def finalize(run_dir: Path, cfg: RunConfig) -> dict:
    rows = read_episodes(run_dir / "episodes.jsonl")
    df = frame({**r["scores"], "epoch": r.get("epoch", 0)} for r in rows)
    summary = summarize(df)
    summary_doc = {
        "run_id": cfg.run_id,
        "model": cfg.model,
        "suite": cfg.suite,
        "suite_hash": cfg.suite_hash,
        "prompt_hash": cfg.prompt_hash,
        "clock": cfg.clock,
        "seed": cfg.seed,
        **summary,
        "by_pattern": summarize_by_pattern(df),
    }
    write_json_atomic(run_dir / "summary.json", summary_doc)
    expected = len(cfg.task_ids) * cfg.epochs
    cfg.status = "complete" if len(rows) >= expected else "interrupted"
    cfg.finished = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    write_json_atomic(run_dir / "run.json", cfg.model_dump())
    return summary_doc


def start_run(
    model_spec: str,
    suite: Suite,
    out: Path,
    *,
    task_patterns: list[str] | None = None,
    run_id: str | None = None,
    **settings: Any,
) -> tuple[Path, RunConfig]:
    tasks = suite.select(task_patterns)
    if not tasks:
        raise ValueError(f"no task of suite {suite.name!r} matches {task_patterns}")
    prompts = PromptTemplates.load(settings.get("system_prompt"), settings.get("user_prompt"))
    for t in tasks:  # fail before the run starts if the template needs what a task lacks
        prompts.render(t)
    rid = run_id or new_run_id(model_spec)
    run_dir = out / rid
    if (run_dir / "run.json").exists():
        if run_id:
            raise FileExistsError(f"{run_dir} already holds a run; use --resume {run_dir}")
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
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        price_table_version=prices.version,
        **{k: v for k, v in settings.items() if v is not None},
    )
    write_json_atomic(run_dir / "run.json", cfg.model_dump())
    (run_dir / "episodes.jsonl").touch()
    return run_dir, cfg


def open_suite_for(cfg: RunConfig) -> Suite:
    try:
        return load_suite(cfg.suite_path)
    except FileNotFoundError:
        return load_suite(cfg.suite)


def build_model(cfg: RunConfig, suites: Iterable[Suite]) -> Model:
    return make_model(cfg.model, list(suites), seed=cfg.seed, options=cfg.model_options)
