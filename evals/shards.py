"""Shards: one run split across machines, and the shard folders merged back into one run.

`fanout run ... --shard K/N` runs only the K-th of N deterministic slices of the run's (task,
epoch) pairs: the pairs in canonical order (the run's task order, then epoch) dealt round-robin,
so pair i belongs to shard i mod N + 1. Every shard of a run is made with the same command apart
from K, on any machine (a CI matrix, see examples/github-actions-matrix.yml): no scheduler, no
coordination, and a lost shard is re-run alone (or its run resumed).

`fanout merge SHARD_DIR... --out DIR` checks that the folders are shards of one run (same model,
suite and suite hash, tasks, epochs, runtime settings, prompts, price table, shard count), copies
their episode lines into one new run folder, and summarises them. The merged summary.json is the
one an unsharded run of the same command writes, byte for byte, except `run_id`; run.json differs
from an unsharded run's in `run_id`, `created` (the earliest shard's) and `finished` (the merge's)
and records the shard folders it came from. A pair no shard holds leaves the run `interrupted`:
`fanout run --resume` on the merged folder runs exactly those.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import LocalIOError, UsageError
from .files import write_json_atomic

if TYPE_CHECKING:
    from .runs import RunConfig

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")

# run.json fields every shard of one run must share: they decide which episodes run and how.
IDENTITY = (
    "model",
    "suite",
    "suite_hash",
    "task_patterns",
    "task_ids",
    "epochs",
    "runtime",
    "system_prompt",
    "user_prompt",
    "prompt_hash",
    "prices",
    "price_table_version",
    "harness_version",
)


@dataclass(frozen=True)
class Shard:
    """The `index`-th (1-based) of `count` slices of a run's (task, epoch) pairs."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        m = _SHARD.match(text or "")
        if not m:
            raise UsageError(f"--shard {text!r}: expected K/N, e.g. 2/8")
        k, n = int(m.group(1)), int(m.group(2))
        if n < 1 or not 1 <= k <= n:
            raise UsageError(f"--shard {text!r}: K must be between 1 and N (N >= 1)")
        return cls(k, n)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def takes(self, position: int) -> bool:
        """Whether the pair at `position` of the canonical order is this shard's."""
        return position % self.count == self.index - 1


def pairs(task_ids: Sequence[str], epochs: int) -> Iterator[tuple[str, int]]:
    """A run's (task, epoch) pairs in canonical order: its task order, then epoch."""
    for tid in task_ids:
        for e in range(epochs):
            yield tid, e


def assigned(task_ids: Sequence[str], epochs: int, shard: str | None) -> list[tuple[str, int]]:
    """The pairs a run (or one shard of it, `shard` = "K/N") runs."""
    if shard is None:
        return list(pairs(task_ids, epochs))
    s = Shard.parse(shard)
    return [p for i, p in enumerate(pairs(task_ids, epochs)) if s.takes(i)]


def merge(dirs: Sequence[Path], out: Path, run_id: str | None = None) -> tuple[Path, dict]:
    """Merge shard folders of one run into a new run folder under `out`; returns (folder, summary).
    The episodes are gathered in a temporary file first: a shard that turns out not to belong
    leaves no folder behind. The folder is then claimed and locked as a run's is (`runs._claim`)."""
    from .aggregate import ScoreRows
    from .runs import (
        _claim,
        _unclaim,
        finalize,
        iter_records,
        new_run_id,
        read_run_config,
        unlock_run,
        warn_duplicates,
    )

    if not dirs:
        raise UsageError("no shard folders given")
    cfgs = [read_run_config(d) for d in dirs]
    first = cfgs[0]
    _check_shards(dirs, cfgs)
    cfg = first.model_copy(deep=True)
    rows = ScoreRows()
    seen: set[tuple[str, int]] = set()
    wanted = set(pairs(cfg.task_ids, cfg.epochs))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {out}: {exc.strerror or exc}") from None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=".merge-", suffix=".jsonl", dir=out)
    except OSError as exc:
        raise LocalIOError(f"cannot write the merged episodes to {out}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            for d, c in zip(dirs, cfgs, strict=True):
                mine: set[tuple[str, int]] = set()
                path = d / "episodes.jsonl"
                for line, rec in iter_records(path, c.runtime):
                    key = (rec.task_id, rec.epoch)
                    if key in mine:  # written twice in one shard: the first line counts, as in a run
                        warn_duplicates(path, 1)
                        continue
                    mine.add(key)
                    if key in seen:
                        raise UsageError(f"{d}: task {key[0]!r} epoch {key[1]} is also in another shard")
                    if key not in wanted:
                        raise UsageError(f"{d}: task {key[0]!r} epoch {key[1]} is not part of this run")
                    seen.add(key)
                    f.write(line + b"\n")
                    rows.add_record(rec)  # with its turns: measured references need the run's median
        run_dir = _claim(out, run_id or new_run_id(first.model), explicit=run_id is not None)
        os.replace(tmp, run_dir / "episodes.jsonl")
    except OSError as exc:  # a full disk: one line (exit 4), not a traceback
        raise LocalIOError(f"cannot write the merged episodes to {out}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
    made = False
    try:
        cfg.run_id = run_dir.name
        cfg.shard = None
        cfg.merged_from = [f"{c.run_id} (shard {c.shard})" for c in cfgs]
        cfg.created = min(c.created for c in cfgs)
        cfg.status = "running"
        missing = len(wanted) - len(seen)
        if missing:
            print(
                f"warning: {missing} of {len(wanted)} episodes are in no shard; the merged run is "
                f"incomplete (fanout run --resume {run_dir} runs them)",
                file=sys.stderr,
            )
        write_json_atomic(run_dir / "run.json", cfg.model_dump())
        made = True  # a run folder from here on: a failure to summarise leaves it resumable
        return run_dir, finalize(run_dir, cfg, rows)
    except BaseException:
        if not made:  # episodes without a run.json: a folder no command can read, so none at all
            _unclaim(run_dir)
        raise
    finally:
        unlock_run(run_dir)


def _check_shards(dirs: Sequence[Path], cfgs: Sequence[RunConfig]) -> None:
    first = cfgs[0]
    seen: dict[str, Path] = {}
    for d, c in zip(dirs, cfgs, strict=True):
        if c.shard is None:
            raise UsageError(f"{d} is not a shard (its run.json has no shard; run with --shard K/N)")
        for field in IDENTITY:
            if getattr(c, field) != getattr(first, field):
                raise UsageError(f"{d} is not a shard of the same run as {dirs[0]}: its {field} differs")
        # The model's own settings (temperature, reasoning effort...) decide results; how a machine
        # reaches the model (base URL, connections, cache) may differ from shard to shard.
        if c.model_options.get("settings") != first.model_options.get("settings"):
            raise UsageError(f"{d} is not a shard of the same run as {dirs[0]}: its model settings differ")
        s, s0 = Shard.parse(c.shard), Shard.parse(first.shard or "")
        if s.count != s0.count:
            raise UsageError(f"{d} is shard {s} but {dirs[0]} is shard {s0}: not the same split")
        if str(s) in seen:
            raise UsageError(f"{d} and {seen[str(s)]} are both shard {s}")
        seen[str(s)] = d
        if c.status != "complete":
            print(f"warning: {d}: shard {s} is {c.status}; merging the episodes it has", file=sys.stderr)
