"""What-if: re-time stored traces under other inference profiles, tool latencies and runtime policies.

No model is called. The trace's turns and calls are what they are; only the clock is replayed:
model turns from their recorded tokens through an inference profile (or as run), tool calls
from their raw latency samples through scale, timeout, hedging and the fan-out cap. The
arithmetic is the runtime's own (`evals.timing`), so a virtual-clock run re-timed with its own
settings reproduces its stored time metrics bit for bit; a real-clock run re-timed the same way
gives the virtual timeline its measured overhead was taken against.

Limitation: a setting that would have made a call time out (or not) cannot change what the
model did next; such calls are counted (`timed_out_calls`) beside the time, not replayed.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mock_tools.canonical import normalized_key

from .aggregate import frame
from .episodes import EpisodeRecord, parse_line
from .errors import UsageError, describe_validation
from .fixtures import FixtureErrors, Suite, Task, load_suite
from .groundtruth import GroundTruth, GroundTruthError, ground_truth
from .metrics import METRICS, EpisodeView, Span, aggregate, aggregate_by, episode_values
from .prompts import PromptTemplateError, PromptTemplates
from .reference import complete, episode_scores, profile_timed, reference, waits_for_run
from .runs import RunConfig, episode_lines, is_run_folder, read_run_config, run_folders_in, unique_records
from .settings import RuntimeSettings, from_text
from .timing import (
    INFERENCE_PROFILES,
    InferenceProfile,
    Samples,
    batch_times,
    episode_time_metrics,
    time_call,
    turn_latency,
)
from .trace import Trace


class WhatIfError(UsageError, ValueError):
    """Bad what-if input (a setting value, a run folder); the message names what is wrong."""


class _Keep:
    """Sentinel: leave this setting as the run had it."""

    def __repr__(self) -> str:
        return "as-run"


KEEP = _Keep()
AS_RUN = "as-run"
NO_SERVER_ERRORS = ("invalid_json", "unknown_tool")  # calls that never reached a tool: no latency


SETTING_KEYS = RuntimeSettings.whatif_fields()  # the settings declared with whatif=True, in field order


class Setting:
    """One what-if point: the runtime settings it changes, any of `SETTING_KEYS` (read from the
    `RuntimeSettings` declarations, so a setting declared with `whatif=True` is one here without
    another edit); every setting left at KEEP takes the run's own value. `None` for an optional
    setting means unbounded / none / off. Immutable and compared by value, like a frozen dataclass."""

    __slots__ = ("_changes",)
    _changes: dict[str, Any]

    def __init__(self, **changes: Any) -> None:
        unknown = sorted(set(changes) - set(SETTING_KEYS))
        if unknown:
            raise TypeError(f"what-if cannot vary {', '.join(unknown)}; it varies {', '.join(SETTING_KEYS)}")
        kept = {k: changes[k] for k in SETTING_KEYS if k in changes and changes[k] is not KEEP}
        object.__setattr__(self, "_changes", kept)

    def __getattr__(self, name: str) -> Any:
        if name in SETTING_KEYS:
            return self._changes.get(name, KEEP)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a what-if Setting is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Setting) and self._changes == other._changes

    def __hash__(self) -> int:
        return hash(tuple(self._changes.items()))

    def __repr__(self) -> str:
        return f"Setting({', '.join(f'{k}={v!r}' for k, v in self._changes.items())})"

    def changes(self) -> dict[str, Any]:
        return dict(self._changes)


@dataclass(frozen=True)
class Effective:
    """A Setting resolved against one run: the run's runtime settings with the what-if's changes."""

    settings: RuntimeSettings
    profile_label: str  # the inference profile's name, or "as-run" for turns timed as the run timed them
    resample: bool  # the latency profile differs from the run's: draw new samples


def _norm_latency_profile(p: str | None) -> str | None:
    return None if p in (None, "default") else p


def effective(setting: Setting, run: RuntimeSettings) -> Effective:
    settings = run.replace(**setting.changes())
    return Effective(
        settings=settings,
        profile_label=settings.profile_label or AS_RUN,
        resample=_norm_latency_profile(settings.latency_profile)
        != _norm_latency_profile(run.latency_profile),
    )


# -- one episode ------------------------------------------------------------------------------


def retime(
    trace: Trace,
    eff: Effective,
    task: Task | None = None,
    gt: GroundTruth | None = None,
    prompts: PromptTemplates | None = None,
) -> dict:
    """Time metrics of one stored episode under `eff` (the virtual clock, always).

    `task` is needed to resample latencies or to hedge (which tools are reads); `gt` for the
    reference schedules (ideal_wall_s NaN without it), which run under `prompts` (the run's).
    Measured turns leave the references' fixed turn latency to `retime_run` (the run's median).
    """
    s = eff.settings
    prof = s.profile
    lats = [
        turn_latency(prof, t.measured_latency_s, t.prompt_tokens, t.cached_tokens, t.completion_tokens)
        for t in trace.turns
    ]
    need_task = eff.resample or s.hedge_after is not None
    by_turn: dict[int, list[float]] = {}
    durations: list[float] = []
    timed_out = hedged = 0
    changed = False  # a call times out here and not in the run, or the reverse: another conversation
    for c in trace.calls:
        if c.arguments is None or c.error in NO_SERVER_ERRORS:
            d = 0.0  # answered by the runtime itself, at once
        else:
            tool = task.tool_by_name.get(c.name) if task is not None and need_task else None
            if need_task and tool is None:
                raise WhatIfError(
                    f"task {trace.task_id!r}: tool {c.name!r} is not in the suite any more; "
                    "resampling latencies and hedging need it"
                )
            recorded = None if eff.resample else Samples(c.sample_s, c.hedge_sample_s)
            overrides = task.spec.latency if task is not None else None
            canon = normalized_key(c.arguments) if tool is not None else ""
            tm = time_call(s, tool, trace.task_id, canon, c.attempt, overrides, recorded)
            d = tm.duration_s
            timed_out += tm.timed_out
            hedged += tm.hedged
            changed = changed or tm.timed_out != c.timed_out
        durations.append(d)
        by_turn.setdefault(c.turn, []).append(d)
    now = 0.0
    batches: list[float] = []
    spans: list[list[Span]] = []
    for t, lat in zip(trace.turns, lats, strict=True):
        now = now + lat  # the runtime's own order of float operations
        durs = by_turn.get(t.index)
        b = 0.0
        if durs:
            starts, ends, b = batch_times(now, durs, s.fan_out_cap)
            spans.append(list(zip(starts, ends, strict=True)))
        now += b
        batches.append(b)
    m = episode_time_metrics(lats, batches, durations, [t.n_calls for t in trace.turns], now)
    refs: dict[str, Any] = {"ideal_wall_s": math.nan, "reference_turn_s": None, "oracle_turns": None}
    refs |= {"sequential_wall_s": None, "speedup_vs_sequential": None}
    if gt is not None:
        timed = profile_timed(trace, s)
        refs = episode_scores(reference(gt, s, prompts), m["wall_s"], timed)
        if not timed:  # measured turns: the run's median turn latency, once every episode is re-timed
            refs |= {"reference_turn_s": None, "ideal_wall_s": None}
    return {
        "wall_s": m["wall_s"],
        "serial_wall_s": m["serial_wall_s"],
        "parallel_speedup": m["serial_wall_s"] / m["wall_s"] if m["wall_s"] > 0 else None,
        **refs,
        "rejoin_s": m["rejoin_s"],
        "model_time_s": m["model_time_s"],
        "tool_time_s": m["tool_time_s"],
        "timed_out_calls": timed_out,
        "hedged_calls": hedged,
        "conversation_changed": changed,
        **episode_values(EpisodeView(trace, spans), timing_only=True),
    }


# -- runs -------------------------------------------------------------------------------------


@dataclass
class LoadedRun:
    path: Path
    cfg: RunConfig
    records: list[EpisodeRecord]
    suite: Suite | None
    warnings: list[str] = field(default_factory=list)

    @property
    def traces(self) -> list[Trace]:
        return [r.trace for r in self.records]

    def task(self, task_id: str) -> Task | None:
        return self.suite.by_id.get(task_id) if self.suite is not None else None

    @functools.cached_property
    def prompts(self) -> PromptTemplates | None:
        """The run's prompt templates (None: they cannot be read any more; references are n/a)."""
        try:
            return PromptTemplates.load(self.cfg.system_prompt, self.cfg.user_prompt)
        except PromptTemplateError:
            self.warnings.append(
                f"run {self.cfg.run_id}: its prompt templates cannot be read; reference schedules use the shipped ones"
            )
            return None

    def ground_truth(self, task: Task | None) -> GroundTruth | None:
        if task is None:
            return None
        try:
            return ground_truth(task, self.cfg.runtime.seed)
        except GroundTruthError:
            return None


def _run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    """Run folders; a folder holding run folders (a `fanout run --out` target) stands for all of them."""
    out: list[Path] = []
    for p in map(Path, paths):
        if is_run_folder(p):
            out.append(p)
        elif subs := run_folders_in(p):
            out.extend(subs)
        else:
            raise WhatIfError(f"{p} is not a run folder (no run.json in it or in its subfolders)")
    return out


def _open_suite(cfg: RunConfig, cache: dict[str, Suite | None], warnings: list[str]) -> Suite | None:
    key = cfg.suite_path or cfg.suite
    if key not in cache:
        suite = None
        for where in (cfg.suite_path, cfg.suite):
            try:
                suite = load_suite(where, collect=True)
                break
            except (FileNotFoundError, FixtureErrors):
                continue
        if suite is None:
            warnings.append(
                f"suite {cfg.suite!r} ({cfg.suite_path}) cannot be loaded: ideal_wall_s is n/a "
                "and settings that resample latencies or hedge are refused"
            )
        cache[key] = suite
    suite = cache[key]
    if suite is not None and suite.hash != cfg.suite_hash:
        warnings.append(
            f"run {cfg.run_id}: suite {cfg.suite!r} changed since the run (hash {suite.hash} != "
            f"{cfg.suite_hash}); latency models and ideal schedules come from the current suite"
        )
    return suite


def load_runs(paths: Sequence[str | Path]) -> list[LoadedRun]:
    runs = []
    suites: dict[str, Suite | None] = {}
    for d in _run_dirs(paths):
        try:
            cfg = read_run_config(d)  # an invalid run.json is a usage error already
            lines = episode_lines(d / "episodes.jsonl")
        except OSError as exc:
            raise WhatIfError(f"{d}: cannot read the run: {exc}") from None
        warnings: list[str] = []
        if not lines:
            warnings.append(f"run {cfg.run_id} has no finished episode")
        try:
            records = unique_records(
                [parse_line(line, cfg.runtime) for _, line in lines], d / "episodes.jsonl"
            )
        except ValidationError as exc:
            why = describe_validation(exc.errors())
            raise WhatIfError(
                f"{d}/episodes.jsonl: an episode has no valid trace and scores: {why}"
            ) from None
        suite = _open_suite(cfg, suites, warnings)
        runs.append(LoadedRun(d, cfg, records, suite, warnings))
    return runs


def retime_run(run: LoadedRun, setting: Setting) -> list[dict]:
    """One row per episode: its stored scores with the time metrics replaced by the what-if's."""
    eff = effective(setting, run.cfg.runtime)
    out = []
    latencies: list[float] = []  # the re-timed turns of measured episodes: their median is the run's turn
    prof = eff.settings.profile
    for rec in run.records:
        task = run.task(rec.trace.task_id)
        times = retime(rec.trace, eff, task, run.ground_truth(task), run.prompts)
        if waits_for_run(times):
            latencies += [
                turn_latency(
                    prof, t.measured_latency_s, t.prompt_tokens, t.cached_tokens, t.completion_tokens
                )
                for t in rec.trace.turns
            ]
        out.append({**rec.scores_row(), **times})
    complete(out, latencies)
    return out


# -- aggregation ------------------------------------------------------------------------------


# Column order of whatif.json / whatif.csv as published (append only); metrics added to the
# registry's `whatif` surface later follow in declaration order.
_PUBLISHED_COLUMNS = [
    "episodes",
    "calls",
    "wall_s_p50",
    "wall_s_p95",
    "wall_s_mean",
    "serial_wall_s_mean",
    "fan_out_saved_s_mean",
    "parallel_speedup",
    "ideal_wall_s_mean",
    "rejoin_s_mean",
    "model_share",
    "tool_share",
    "timed_out_calls",
    "hedged_calls",
    "straggler_wait_s_mean",
    "runtime_concurrency",
    "runtime_lost_s_mean",
]
METRIC_COLUMNS = METRICS.columns(_PUBLISHED_COLUMNS, "whatif", intervals=False)
_WHATIF = [METRICS[k] for k in METRIC_COLUMNS]


class WhatIfRow(BaseModel):
    """One line of the what-if table / CSV / JSON: a model (run) under one setting, over all its
    episodes (`pattern` None) or one pattern's. The JSON file is a list of these. The effective
    value of each what-if setting (`SETTING_KEYS`; `inference_profile` as its label), then the
    metric values (`METRIC_COLUMNS`, the registry's `whatif` metrics), follow the fields below as
    extra fields: both lists come from their declarations, so neither is repeated here."""

    model_config = ConfigDict(extra="allow")

    model: str
    suite: str
    run_id: str
    clock: str
    pattern: str | None

    def metric(self, name: str) -> Any:
        return (self.model_extra or {}).get(name)


COLUMNS = [*WhatIfRow.model_fields, *SETTING_KEYS, *METRIC_COLUMNS]


def whatif_rows(
    runs: Sequence[LoadedRun], settings: Sequence[Setting], by_pattern: bool = True
) -> list[WhatIfRow]:
    """The grid: for each run (model) and setting, an all-patterns row then one row per pattern."""
    rows: list[WhatIfRow] = []
    for run in runs:
        cfg = run.cfg
        for setting in settings:
            eff = effective(setting, cfg.runtime)
            s = eff.settings
            head: dict[str, Any] = {
                "model": cfg.model,
                "suite": cfg.suite,
                "run_id": cfg.run_id,
                "clock": s.clock,
                "pattern": None,
                **{k: eff.profile_label if k == "inference_profile" else getattr(s, k) for k in SETTING_KEYS},
            }
            df = frame(retime_run(run, setting))
            rows.append(WhatIfRow(**head, **aggregate(df, _WHATIF)))
            if by_pattern:
                for pattern, values in aggregate_by(df, "pattern", _WHATIF).items():
                    rows.append(WhatIfRow(**{**head, "pattern": pattern}, **values))
    return rows


# -- settings from the command line ------------------------------------------------------------

DIMENSIONS = tuple(k.replace("_", "-") for k in SETTING_KEYS)


def _parse_value(dim: str, text: str) -> Any:
    """One value of a what-if dimension, checked by the RuntimeSettings field it sets."""
    v = text.strip()
    low = v.lower()
    if low == AS_RUN:
        return KEEP
    name = dim.replace("-", "_")
    if name == "inference_profile":  # names stand for the profiles, so a sweep can label its rows
        if low not in INFERENCE_PROFILES:
            raise WhatIfError(
                f"{dim}: {text!r} is not a valid value (known: {', '.join(INFERENCE_PROFILES)}, {AS_RUN})"
            )
        return INFERENCE_PROFILES[low]
    try:
        return getattr(from_text({name: v}), name)
    except UsageError as exc:
        reason = str(exc).split(": ", 1)[-1]
        raise WhatIfError(f"{dim}: {text!r} is not a valid value ({reason})") from None


def parse_values(dim: str, text: str) -> list[Any]:
    """`fast,typical,slow` -> values of one dimension (`as-run` keeps the run's own)."""
    if dim not in DIMENSIONS:
        raise WhatIfError(f"unknown what-if setting {dim!r}; known: {', '.join(DIMENSIONS)}")
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise WhatIfError(f"{dim}: no value given")
    return [_parse_value(dim, p) for p in parts]


def parse_sweep(specs: Sequence[str]) -> dict[str, list[Any]]:
    """`["inference-profile=fast,slow", "fan-out-cap=2,none"]` -> {dimension: values}."""
    out: dict[str, list[Any]] = {}
    for spec in specs:
        dim, sep, values = spec.partition("=")
        dim = dim.strip().lstrip("-").replace("_", "-")
        if not sep:
            raise WhatIfError(
                f"--sweep {spec!r}: expected SETTING=V1,V2,... (settings: {', '.join(DIMENSIONS)})"
            )
        if dim in out:
            raise WhatIfError(f"--sweep names {dim!r} twice")
        out[dim] = parse_values(dim, values)
    return out


def custom_profile(ttft: float, prefill_tps: float, decode_tps: float) -> InferenceProfile:
    if not (ttft >= 0 and prefill_tps > 0 and decode_tps > 0):
        raise WhatIfError("--ttft must be >= 0 and --prefill-tps, --decode-tps > 0")
    label = f"custom(ttft={ttft:g},prefill={prefill_tps:g},decode={decode_tps:g})"
    return InferenceProfile(name=label, ttft_s=ttft, prefill_tps=prefill_tps, decode_tps=decode_tps)


def grid(dims: dict[str, list[Any]]) -> list[Setting]:
    """Every combination of the given dimensions (others as run), in DIMENSIONS order."""
    names = [d for d in DIMENSIONS if d in dims]
    settings = []
    for combo in itertools.product(*(dims[d] for d in names)):
        kw = {d.replace("-", "_"): v for d, v in zip(names, combo, strict=True)}
        settings.append(Setting(**kw))
    return settings or [Setting()]
