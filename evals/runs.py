"""Run folders: run.json, append-only episodes.jsonl, summary.json; execution and resume.

Each finished episode is one JSON line, written and flushed before the next is reported, so a
killed run loses at most the episodes in flight; `--resume` drops a torn last line and runs only
the (task, epoch) pairs that have no line yet.

One process at a time owns a run folder: `start_run` claims a new folder (an atomic mkdir, so two
runs started in the same second get two folders) and takes its lock (`flock` on `.lock`, which
the kernel releases when the holder dies, so a crash never leaves a folder locked); `execute`
holds it until the run ends. A second `fanout run --resume` of the folder fails at once with
`RunLockedError`. Readers count each (task, epoch) once, whatever the file holds.

An `InfrastructureError` from any episode (credentials, quota, a server that cannot be reached,
the disk, the cache, a runtime too loaded to measure) stops the run: the episodes in flight are cancelled and not written, run.json
says `stopped` and why, and `--resume` continues it. Episodes that ended in provider errors are
written (the run is scored as it happened) and rerun by `--resume --retry-errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import fcntl
import gc
import json
import os
import platform
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator

from . import __version__
from .aggregate import ScoreRows, summaries
from .budget import Budget
from .clocks import OverheadCheck
from .episodes import EpisodeRecord, parse_line
from .errors import FanoutError, InfrastructureError, RunLockedError, UsageError, describe_validation
from .files import claim_new_folder, io_error, write_bytes_atomic, write_json_atomic
from .fixtures import FixtureErrors, Suite, Task, load_suite, require_tasks
from .groundtruth import GroundTruthError, ground_truth
from .models import Model, make_model
from .prices import PriceTable, load_prices
from .prompts import PromptTemplates
from .runtime import run_episode
from .scoring import score
from .settings import RuntimeSettings
from .shards import Shard, assigned


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
    # running | complete | interrupted (Ctrl-C, a kill) | stopped (an infrastructure failure)
    status: str = "running"
    stop_reason: str | None = None  # why a stopped run stopped, as `fanout run` printed it
    warnings: list[str] = Field(default_factory=list)  # e.g. the real clock's overhead warning
    shard: str | None = Field(None, description="K/N: this folder runs the K-th of N slices (evals.shards)")
    merged_from: list[str] | None = Field(None, description="the shard runs `fanout merge` combined")

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


LOCK_NAME = ".lock"
_HELD: dict[Path, int] = {}  # run folders this process holds: resolved path -> lock file descriptor


def lock_run(run_dir: Path) -> None:
    """Take the run folder's exclusive lock (a no-op if this process holds it already), or raise
    `RunLockedError` at once. `flock` locks belong to the open file, so the kernel drops the lock
    when its holder exits or is killed: a crashed run leaves its folder resumable."""
    key = Path(run_dir).resolve()
    if key in _HELD:
        return
    lock = key / LOCK_NAME
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise io_error(lock, exc, "open") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        for _ in range(20):  # the holder writes its pid just after taking the lock: give it a moment
            if holder:
                break
            time.sleep(0.01)
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        os.close(fd)
        by = f" (pid {holder})" if holder.isdigit() else ""
        raise RunLockedError(
            f"{run_dir} is in use by another fanout run{by}; wait for it to end, or stop it, then resume"
        ) from None
    except OSError as exc:
        os.close(fd)
        raise io_error(lock, exc, "lock") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError as exc:  # a full disk: one line naming the file, as any other write
        os.close(fd)
        raise io_error(lock, exc) from None
    _HELD[key] = fd


def unlock_run(run_dir: Path) -> None:
    """Release the run folder's lock if this process holds it."""
    fd = _HELD.pop(Path(run_dir).resolve(), None)
    if fd is not None:
        os.close(fd)  # closing the last descriptor of the open file releases the flock


def _first_of_each(rows: list[Any], key: Any, path: Path) -> list[Any]:
    """Each (task, epoch) once, its first line kept: a file that holds one twice (written by two
    processes before run folders were locked, or concatenated by hand) never counts it twice."""
    seen: set[tuple[str, int]] = set()
    out = []
    for r in rows:
        k = key(r)
        if k not in seen:
            seen.add(k)
            out.append(r)
    warn_duplicates(path, len(rows) - len(out))
    return out


def warn_duplicates(path: Path, n: int) -> None:
    if n:
        print(
            f"warning: {path}: {n} duplicate episode line{'s' if n != 1 else ''} (a task and epoch "
            "written twice) ignored; the first of each is kept",
            file=sys.stderr,
        )


def unique_records(records: list[EpisodeRecord], path: Path) -> list[EpisodeRecord]:
    """`records` with each (task, epoch) once (see `_first_of_each`)."""
    return _first_of_each(records, lambda r: (r.task_id, r.epoch), path)


def episode_lines(path: Path, repair: bool = False) -> list[tuple[int, bytes]]:
    """(line number, line) of each complete, non-blank line of an episodes.jsonl. A torn last line
    (no newline: the writer was killed mid-line) is dropped, and with `repair` also cut from the
    file so appends start on a clean line."""
    return list(iter_episode_lines(path, repair))


def iter_episode_lines(path: Path, repair: bool = False) -> Iterator[tuple[int, bytes]]:
    """`episode_lines` one line at a time, so reading a run of any size holds one line in memory."""
    if not path.exists():
        return
    end = 0  # offset just past the last complete line
    torn = False
    with open(path, "rb") as f:
        for n, line in enumerate(f, start=1):
            if not line.endswith(b"\n"):
                torn = True
                break
            end += len(line)
            if line.strip():
                yield n, line.rstrip(b"\r\n")
    if repair and torn:
        with open(path, "r+b") as f:
            f.truncate(end)


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


def iter_records(
    path: Path,
    runtime: RuntimeSettings | None,
    repair: bool = False,
    invalid: Callable[[bytes], None] | None = None,
) -> Iterator[tuple[bytes, EpisodeRecord]]:
    """(line as written, typed and upgraded record) of each valid episode, one at a time
    (`runtime`: the run's settings, for version-1 lines). A complete line that is not a valid
    episode is skipped with a warning, and handed to `invalid`."""
    for n, line in iter_episode_lines(path, repair):
        try:
            rec = parse_line(line, runtime)
        except ValidationError as exc:
            why = describe_validation(exc.errors())
            print(f"warning: {path}: line {n} is not a valid episode ({why}); skipped", file=sys.stderr)
            if invalid is not None:
                invalid(line)
            continue
        yield line, rec


def read_records(path: Path, runtime: RuntimeSettings | None) -> list[EpisodeRecord]:
    """Typed, upgraded episode records, each (task, epoch) once (`iter_records`)."""
    return unique_records([rec for _, rec in iter_records(path, runtime)], path)


class NotARunFolder(UsageError, FileNotFoundError):
    """A folder without run.json."""


class BadRunFolder(UsageError, ValueError):
    """A run folder that cannot be used: an invalid run.json, a task its suite no longer has."""


def is_run_folder(path: Path) -> bool:
    return (path / "run.json").is_file()


def run_folders_in(folder: Path) -> list[Path]:
    """The run folders directly inside `folder` (a `fanout run --out` target, such as runs/demo),
    by name; none when `folder` is no folder. Report, what-if and gate read such a folder as its
    runs: this is the one place that says which subfolders those are."""
    if not folder.is_dir():
        return []
    return sorted(c for c in folder.iterdir() if is_run_folder(c))


def read_run_config(run_dir: str | Path) -> RunConfig:
    d = Path(run_dir)
    if not is_run_folder(d):
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
    """Appends episode lines to episodes.jsonl. Each line goes to the kernel in one unbuffered
    append, so a kill leaves at most a torn last line (which resume drops). A failed write (disk
    full) is cut back off the file and raises `LocalIOError`; the writer then refuses further
    lines, so nothing is ever appended after a fragment."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / "episodes.jsonl"
        self.failed: InfrastructureError | None = None
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as exc:
            raise io_error(self.path, exc, "open") from None

    def write(self, record: EpisodeRecord) -> None:
        if self.failed is not None:
            raise self.failed
        view = memoryview(record.line_bytes() + b"\n")
        size = -1
        try:
            size = os.fstat(self.fd).st_size
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            if size >= 0:
                try:
                    os.ftruncate(self.fd, size)
                except OSError:
                    pass
            self.failed = io_error(self.path, exc)
            raise self.failed from None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def drop_error_episodes(path: Path) -> int:
    """Remove the lines of episodes that ended in a provider error, so a resume runs them again;
    returns how many. The file is rewritten beside itself and renamed over the old one (under the
    run's lock), so a crash leaves either every line or every line but those."""
    keep: list[bytes] = []
    dropped = 0
    for _, line in episode_lines(path):
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        trace = rec.get("trace") if isinstance(rec, dict) else None
        if isinstance(trace, dict) and trace.get("stop") == "error":
            dropped += 1
        else:
            keep.append(line + b"\n")
    if dropped:
        write_bytes_atomic(path, b"".join(keep))
    return dropped


async def execute(
    run_dir: Path,
    cfg: RunConfig,
    model: Model,
    suite: Suite,
    progress: bool = True,
    prices: PriceTable | None = None,
    retry_errors: bool = False,
    budget: Budget | None = None,
) -> dict:
    """Run every (task, epoch) of `cfg` that episodes.jsonl does not hold yet (with
    `retry_errors`, also those that ended in a provider error); return the summary. Holds the
    run folder's lock throughout and releases it when done. With a `budget`, no episode starts
    once it is exhausted (the run is then left resumable)."""
    lock_run(run_dir)
    try:
        return await _execute(run_dir, cfg, model, suite, progress, prices, retry_errors, budget)
    finally:
        unlock_run(run_dir)


async def _execute(
    run_dir: Path,
    cfg: RunConfig,
    model: Model,
    suite: Suite,
    progress: bool,
    prices: PriceTable | None,
    retry_errors: bool,
    budget: Budget | None,
) -> dict:
    path = run_dir / "episodes.jsonl"
    if retry_errors:
        dropped = drop_error_episodes(path)
        if dropped:
            plural = "s" if dropped != 1 else ""
            print(f"{cfg.model}: retrying {dropped} episode{plural} that ended in errors", file=sys.stderr)
    done, rows = read_done(path, cfg.runtime)
    prompts = PromptTemplates.load(cfg.system_prompt, cfg.user_prompt)
    model_settings = dict(cfg.model_options.get("settings", {}))
    prices = prices or load_prices(cfg.prices)
    price = prices.lookup(model.priced_as())
    cfg.model_info = model.describe()
    for tid in cfg.task_ids:
        if tid not in suite.by_id:
            raise BadRunFolder(f"task {tid!r} of this run is not in suite {suite.name!r} any more")
    mine = assigned(cfg.task_ids, cfg.epochs, cfg.shard)  # every pair, or this shard's
    todo = [(suite.by_id[tid], e) for tid, e in mine if (tid, e) not in done]
    if cfg.status != "running":  # a resume: say so until it ends
        cfg.status, cfg.stop_reason = "running", None
        write_json_atomic(run_dir / "run.json", cfg.model_dump())
    writer = RunWriter(run_dir)
    # agents (issue 14): an agent model runs whole episodes itself (a process, a proxy, MCP tools)
    agent_episode = getattr(model, "run_episode", None)
    # The overhead check watches this process's runtime; an agent's own time is what agent/ measures.
    in_process_real = cfg.runtime.clock == "real" and agent_episode is None
    overhead = OverheadCheck(cfg.max_concurrency) if in_process_real else None
    bar = _progress_bar(len(mine), len(done & set(mine)), cfg.model) if progress else _NoBar()

    def warn(message: str) -> None:
        bar.clear()
        print(f"warning: {cfg.model}: {message}", file=sys.stderr)
        cfg.warnings.append(message)

    async def one(task: Task, epoch: int) -> None:
        if budget is not None and budget.exhausted:
            return
        gt = ground_truth(task, cfg.runtime.seed)
        if agent_episode is not None:
            trace = await agent_episode(task, cfg.runtime, epoch, prompts=prompts)
        else:
            trace = await run_episode(
                model, task, cfg.runtime, epoch, prompts=prompts, model_settings=model_settings
            )
        sc = score(gt, trace, price, prompts)
        if budget is not None:
            budget.spend(sc.cost_usd)
        rec = EpisodeRecord(task_id=task.id, epoch=epoch, pattern=task.pattern, scores=sc, trace=trace)
        writer.write(rec)
        rows.add_record(rec)  # the summary's row; the trace is dropped here
        bar.update(1)
        if overhead is not None and (message := overhead.add(trace)):
            warn(message)

    # A fixed pool of workers takes the (task, epoch) pairs in order: memory stays flat however
    # many episodes the run has (one coroutine per episode, made up front, would not).
    pending = iter(todo)

    async def worker() -> None:
        for task, epoch in pending:
            await one(task, epoch)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(max(1, cfg.max_concurrency), len(todo)))]
    try:
        await asyncio.gather(*workers)
    except BaseException as exc:
        # Stop everything still in flight; a cancelled episode writes nothing.
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        _stopped(run_dir, cfg, exc)
        raise
    finally:
        writer.close()
        bar.close()
    if overhead is not None and (message := overhead.finish()):
        warn(message)
    return finalize(run_dir, cfg, rows)


class _NoBar:
    """The progress bar when none is shown (tqdm is not even imported)."""

    def update(self, n: int) -> None:
        pass

    def clear(self) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(total: int, initial: int, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="ep",
        file=sys.stderr,
        leave=False,
        dynamic_ncols=True,
    )


def read_done(path: Path, runtime: RuntimeSettings | None) -> tuple[set[tuple[str, int]], ScoreRows]:
    """The (task, epoch) pairs an episodes.jsonl already holds and the score rows of its valid
    episodes, read one line at a time (a torn last line is cut off), so reading a run of any size
    holds one line at a time. A complete line that is not a valid episode is skipped with a
    warning (if it names its task, that pair still counts as done, so a resume does not write it
    twice); a pair written twice counts once, its first line kept (`_first_of_each`)."""
    done: set[tuple[str, int]] = set()
    rows = ScoreRows()
    duplicates = 0

    def named(line: bytes) -> None:
        try:
            raw = json.loads(line)
        except ValueError:
            return
        if isinstance(raw, dict) and isinstance(raw.get("task_id"), str):
            epoch = raw.get("epoch", 0)
            done.add((raw["task_id"], epoch if isinstance(epoch, int) else 0))

    for _, rec in iter_records(path, runtime, repair=True, invalid=named):
        key = (rec.task_id, rec.epoch)
        if key in done:
            duplicates += 1
            continue
        done.add(key)
        rows.add_record(rec)
    warn_duplicates(path, duplicates)
    return done, rows


def _stopped(run_dir: Path, cfg: RunConfig, exc: BaseException) -> None:
    """Record in run.json that the run stopped and why, if the disk still takes it (it may be
    what failed: the original error is the one to report)."""
    if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
        cfg.status, cfg.stop_reason = "interrupted", None
    else:
        cfg.status = "stopped"
        cfg.stop_reason = str(exc) if isinstance(exc, FanoutError) else f"{type(exc).__name__}: {exc}"
    cfg.finished = stamp_time().isoformat(timespec="seconds")
    try:
        write_json_atomic(run_dir / "run.json", cfg.model_dump())
    except FanoutError:
        pass


def finalize(run_dir: Path, cfg: RunConfig, rows: ScoreRows | None = None) -> dict:
    """Write summary.json from the run's score rows (`rows`: kept by `execute` as episodes finished;
    None: read from episodes.jsonl, scores only kept) and mark the run complete or interrupted."""
    if rows is None:
        rows = read_done(run_dir / "episodes.jsonl", cfg.runtime)[1]
    rows.complete_references()  # measured turns: the references at the run's median turn latency
    summary, by_pattern = summaries(rows)
    summary_doc = {
        "run_id": cfg.run_id,
        "model": cfg.model,
        "suite": cfg.suite,
        "suite_hash": cfg.suite_hash,
        "prompt_hash": cfg.prompt_hash,
        "clock": cfg.runtime.clock,
        "seed": cfg.runtime.seed,
        **summary,
        "by_pattern": by_pattern,
    }
    write_json_atomic(run_dir / "summary.json", summary_doc)
    expected = set(assigned(cfg.task_ids, cfg.epochs, cfg.shard))
    cfg.status = "complete" if expected <= rows.pairs() else "interrupted"
    cfg.stop_reason = None
    cfg.finished = stamp_time().isoformat(timespec="seconds")
    write_json_atomic(run_dir / "run.json", cfg.model_dump())
    return summary_doc


def _claim(out: Path, rid: str, explicit: bool) -> Path:
    """Make and lock a new run folder. An automatic id that is taken (another run started in the
    same second, in this process or another) gets the next free `-2`, `-3`...: mkdir is atomic,
    so two runs can never share a folder (`files.claim_new_folder`, as reports are claimed). An
    explicit id that holds a run is an error."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {out}: {exc.strerror or exc}") from None
    if explicit:
        run_dir = out / rid
        run_dir.mkdir(exist_ok=True)
        lock_run(run_dir)
        if (run_dir / "run.json").exists():
            unlock_run(run_dir)
            raise UsageError(f"{run_dir} already holds a run; use --resume {run_dir}")
        return run_dir
    run_dir = claim_new_folder(out, rid)
    try:
        lock_run(run_dir)
    except BaseException:
        _unclaim(run_dir)
        raise
    return run_dir


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
    """Make the run folder and its run.json; `settings` are RunConfig fields (epochs, prompts, ...).
    The folder stays locked by this process until `execute` has run it."""
    unknown = sorted(set(settings) - set(RunConfig.model_fields))
    if unknown:  # a programming error, not a user's: runtime settings go in `runtime`
        raise TypeError(f"start_run: unknown run settings {unknown}; runtime settings go in `runtime`")
    tasks = suite.select(task_patterns)
    if not tasks:
        if not task_patterns:
            raise UsageError(f"suite {suite.name!r} holds no tasks")
        raise UsageError(f"no task of suite {suite.name!r} matches {task_patterns}")
    prompts = PromptTemplates.load(settings.get("system_prompt"), settings.get("user_prompt"))
    for t in tasks:  # fail before the run starts if the template needs what a task lacks
        prompts.render(t)
    seed = (runtime or RuntimeSettings()).seed
    for t in tasks:  # or if a task's ground truth does not resolve (memoised: the episodes reuse it)
        try:
            ground_truth(t, seed)
        except GroundTruthError as exc:  # the task's file, id and node: a fixture problem, exit 2
            raise UsageError(str(exc)) from None
    shard = settings.get("shard")
    if shard is not None:
        settings["shard"] = shard = str(Shard.parse(shard))  # a bad K/N: exit 2 before any folder
    prices = load_prices(settings.get("prices"))
    rid = run_id or new_run_id(model_spec) + (f"-shard{shard.replace('/', 'of')}" if shard else "")
    run_dir = _claim(out, rid, explicit=run_id is not None)
    try:
        return run_dir, _new_run(
            run_dir, model_spec, suite, tasks, prompts, prices, runtime, task_patterns, settings
        )
    except BaseException:
        # A full disk (run.json or episodes.jsonl cannot be written) or a Ctrl-C: the folder
        # would hold no run.json, which no command can read or resume. Nothing ran: remove it.
        _unclaim(run_dir)
        raise


def _unclaim(run_dir: Path) -> None:
    """Undo `_claim` for a folder no run was started in: what a run writes is removed, and the
    folder too once empty (an explicit id's folder may have held something else before)."""
    unlock_run(run_dir)
    for name in (LOCK_NAME, "run.json", "episodes.jsonl"):
        (run_dir / name).unlink(missing_ok=True)
    for tmp in run_dir.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        run_dir.rmdir()


def _new_run(
    run_dir: Path,
    model_spec: str,
    suite: Suite,
    tasks: list[Task],
    prompts: PromptTemplates,
    prices: PriceTable,
    runtime: RuntimeSettings | None,
    task_patterns: list[str] | None,
    settings: dict[str, Any],
) -> RunConfig:
    """Write a claimed folder's run.json and its empty episodes.jsonl."""
    cfg = RunConfig(
        run_id=run_dir.name,
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
    RunWriter(run_dir).close()  # an empty episodes.jsonl
    return cfg


@contextlib.contextmanager
def _long_lived() -> Iterator[None]:
    """For loading what a command keeps until it exits (the suite): the cyclic garbage collector
    is not run while it is built, and afterwards it, and everything else alive then (the modules),
    is moved out of the collector's reach (`gc.freeze`). Otherwise every full collection of the
    run traverses it again as the run's own objects grow: a tenth of the CPU of a short run."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.freeze()


def open_suite(name: str | Path) -> Suite:
    """A suite by name or path, kept for the rest of the process; a missing one, or one that holds
    no tasks, is a usage error (fixture errors already are), and so is an export."""
    try:
        with _long_lived():
            suite = load_suite(name)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    except FixtureErrors:
        _refuse_export(name)  # a JSONL export reads as bad YAML
        raise
    if not suite.tasks:
        _refuse_export(name)  # a datasets folder holds no YAML
    return require_tasks(suite, name)


def _refuse_export(name: str | Path) -> None:
    """`fanout run` reads YAML suites only (docs/tasks.md): an export given as its suite is said to
    be one, in one line, instead of a YAML syntax error or an empty suite. Checked only once the
    suite did not load, so a run never imports the export module."""
    from .suite_export import is_export

    path = Path(name)
    if is_export(path):
        kind = "a JSONL export" if path.is_file() else "a datasets export"
        raise UsageError(
            f"{path}: {kind} is not a suite `fanout run` reads (YAML suites only, docs/tasks.md); "
            "run the suite folder it was exported from, or give the export to `fanout tasks` commands"
        )


def open_suite_for(cfg: RunConfig) -> Suite:
    """The suite a run was made on (its path, else its name), kept for the rest of the process."""
    try:
        with _long_lived():
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
