"""Reading run folders into what the report needs: one frame of episode scores and the traces.

A report is only as trustworthy as its inputs, so anything that is not a complete, readable run
folder stops the report with a message naming the folder (never a traceback, never a silent skip).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..aggregate import frame
from ..episodes import parse_line
from ..errors import UsageError, describe_validation
from ..reference import complete_records
from ..runs import RunConfig, episode_lines, is_run_folder, read_run_config, run_folders_in, unique_records
from ..trace import Trace


class ReportInputError(UsageError, ValueError):
    """A run folder the report cannot use; the message names the folder and the problem."""


def read_input_json(path: Path, what: str) -> Any:
    """The JSON of an input file the report reads besides runs (`what`: "what-if", "agent-runtimes");
    any problem reading it names that file, never the output folder."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportInputError(f"{path}: no such {what} file") from None
    except OSError as exc:
        raise ReportInputError(f"{path}: cannot read the {what} file: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise ReportInputError(f"{path}: not JSON ({exc})") from None


@dataclass
class RunData:
    path: Path
    config: RunConfig
    episodes: pd.DataFrame  # one row per episode: the scores, plus `epoch`; sorted by (task_id, epoch)
    traces: list[Trace]  # the traces, aligned with `episodes` rows
    label: str = ""  # how the run is named on the page (the model, disambiguated when needed)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.config.model, self.config.suite, self.config.run_id)


def expand_run_dirs(paths: list[str | Path]) -> list[Path]:
    """Run folders named directly, or every run folder directly inside a named folder (runs/demo)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise ReportInputError(f"{p}: no such folder")
        if is_run_folder(p):
            out.append(p)
            continue
        if not p.is_dir():
            raise ReportInputError(f"{p}: not a run folder (expected a folder holding run.json)")
        children = run_folders_in(p)
        if not children:
            raise ReportInputError(f"{p}: not a run folder and holds no run folders (no run.json found)")
        out.extend(children)
    seen: set[Path] = set()
    unique = []
    for p in out:
        r = p.resolve()
        if r not in seen:
            seen.add(r)
            unique.append(p)
    return unique


def load_one(path: Path) -> RunData:
    try:
        cfg = read_run_config(path)
    except UsageError as exc:  # not a run folder, an invalid run.json
        raise ReportInputError(str(exc)) from None
    records = []
    for n, line in episode_lines(path / "episodes.jsonl"):
        try:
            records.append(parse_line(line, cfg.runtime))
        except ValidationError as exc:
            raise ReportInputError(f"{path}/episodes.jsonl: line {n} {_problem(exc)}") from None
    records = unique_records(records, path / "episodes.jsonl")
    records.sort(key=lambda r: (r.task_id, r.epoch))
    complete_records(records)  # measured turns: the references at the run's median turn latency
    df = frame(r.scores_row() for r in records)
    return RunData(path=path, config=cfg, episodes=df, traces=[r.trace for r in records])


def _problem(exc: ValidationError) -> str:
    errors = exc.errors()
    if any(e["type"] == "missing" and e["loc"] in (("scores",), ("trace",)) for e in errors):
        return "has no 'scores' and 'trace'"
    return f"is not a valid episode: {describe_validation(errors)}"


def _distinct_ids(runs: list[RunData]) -> None:
    """Runs of one model started in the same second in two folders (two CI jobs, a seed sweep)
    share a run id; each is then named by its folder too (`<run id>@<parent folder>`), so no row
    of the report stands for two runs."""
    seen: dict[tuple[str, str, str], int] = {}
    for r in runs:
        seen[r.key] = seen.get(r.key, 0) + 1
    for r in runs:
        if seen[r.key] > 1:
            r.config = r.config.model_copy(update={"run_id": f"{r.config.run_id}@{r.path.parent.name}"})
    if len({r.key for r in runs}) < len(runs):  # the parent folders share a name too: the whole path
        for r in runs:
            r.config = r.config.model_copy(update={"run_id": str(r.path)})


def load_runs(paths: list[str | Path]) -> list[RunData]:
    """Load and label runs, in a stable order (suite, model, run id) whatever order they were named in."""
    runs = [load_one(p) for p in expand_run_dirs(paths)]
    _distinct_ids(runs)
    runs.sort(key=lambda r: (r.config.suite, r.config.model, r.config.run_id))
    counts: dict[tuple[str, str], int] = {}
    for r in runs:
        counts[(r.config.model, r.config.suite)] = counts.get((r.config.model, r.config.suite), 0) + 1
    for r in runs:
        twin = counts[(r.config.model, r.config.suite)] > 1
        r.label = f"{r.config.model} [{r.config.run_id}]" if twin else r.config.model
    return runs
