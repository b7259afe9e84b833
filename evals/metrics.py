"""Every metric Fanout reports, declared once: what it reads, how a suite aggregates it, how it reads.

A metric here is one number about a run (a `summary.json` key, a leaderboard column, a gate rule)
together with the per-episode value it is built from. `summary.json`, the report (HTML, Markdown,
CSV, JSON), the gate, `compare`, `whatif` and `fanout run`'s summary row all iterate this registry,
so adding a metric is one `METRICS.add(...)` below (plus its docs and tests; docs/metrics.md is
rendered from this registry by `make docs-metrics`), and its aggregation, interval, direction and
formatting cannot disagree between two outputs.

Per-episode values come from a `Scores` field (counted by the scorer) or from an `EpisodeValue`
function over the trace and its timeline; those functions are run by the scorer, stored in the
episode's scores, recomputed by `whatif` on a re-timed timeline, and computed on read for episode
lines written before the metric existed. A value of None means "does not apply to this episode"
(a suite-specific metric on another suite, a ratio with no denominator); aggregates skip it, and a
metric no episode defines is null, never 0.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from .aggregations import (
    Aggregation,
    Columns,
    Count,
    Mean,
    Percentile,
    Quotient,
    Ratio,
    Reduce,
    Sum,
    Total,
    clean,
)
from .clocks import overhead_share
from .timeline import concurrency_sums, executed_batches

if TYPE_CHECKING:
    import pandas as pd

    from .groundtruth import GroundTruth
    from .trace import Trace

# How a value reads; each output maps a unit to its own format (page, terminal, gate).
Unit = Literal["rate", "share", "count", "int", "seconds", "factor", "tokens", "usd", "flag", "turns"]
Better = Literal["higher", "lower"]
# Where a metric is shown. summary: summary.json and the leaderboard's CSV/JSON rows; board: a
# leaderboard column (HTML and Markdown); patterns: a column of the per-pattern table; run: the
# row `fanout run` prints; whatif: `fanout whatif` rows; compare: a column of `fanout compare`.
Surface = Literal["summary", "board", "patterns", "run", "whatif", "compare"]
SURFACES: frozenset[str] = frozenset(("summary", "board", "patterns", "run", "whatif", "compare"))

Span = tuple[float, float]  # (start_s, end_s) on the episode's clock


@dataclass(frozen=True)
class EpisodeView:
    """What a per-episode metric function may read: the trace, and the timeline of its batches
    (the trace's own times when scoring, re-timed ones in `whatif`)."""

    trace: Trace
    batches: Sequence[Sequence[Span]]  # per turn that issued calls: each call's (start, end), in issue order
    gt: GroundTruth | None = None  # the task's ground truth when scoring (None: re-timing, old lines)

    @functools.cached_property
    def concurrency(self) -> tuple[float, float, float, float]:
        """`timeline.concurrency_sums` of the batches, once per view (five values read it)."""
        return concurrency_sums(self.batches)


@dataclass(frozen=True)
class EpisodeValue:
    """A per-episode value computed from the trace (not counted by the scorer itself)."""

    name: str  # key in the episode's scores
    fn: Callable[[EpisodeView], float | None]
    applies: Callable[[EpisodeView], bool] | None = None  # None: every episode
    timing: bool = True  # depends on the timeline, so `whatif` recomputes it; else it is kept as scored

    def __call__(self, view: EpisodeView) -> float | None:
        if self.applies is not None and not self.applies(view):
            return None
        return self.fn(view)


@dataclass(frozen=True)
class Metric:
    """One reported number, declared once."""

    name: str  # summary.json key and leaderboard column
    label: str  # column title on the page and in Markdown
    description: str  # what it measures: the page's column help and the metric reference
    agg: Aggregation
    unit: Unit
    better: Better | None = None  # None: neither direction is better (a count, a description)
    show: frozenset[Surface] = frozenset()
    short: str | None = (
        None  # header in terminal tables (`fanout run`, `fanout whatif`); None: not shown there
    )
    interval: bool = False  # the report shows a 95% bootstrap interval over tasks
    gate: bool = False  # `fanout gate` may rule on it
    gate_name: str | None = None  # the rule name in gate.toml when it differs from `name`
    # the per-episode value(s), when the scorer does not count them (several: a ratio's two sums)
    episode: EpisodeValue | tuple[EpisodeValue, ...] | None = None
    episode_key: str | None = None  # per-episode value shown by `compare` (default: see per_episode)
    narrow: bool = (
        True  # False: the page hides its leaderboard column on narrow screens (detail, not ranking)
    )

    def __post_init__(self) -> None:
        if not self.show <= SURFACES:
            raise ValueError(f"metric {self.name}: unknown surfaces {sorted(self.show - SURFACES)}")
        if self.interval and self.agg.interval_kind is None:
            raise ValueError(f"metric {self.name}: {type(self.agg).__name__} has no interval method")
        if self.gate and (self.agg.gate_kind is None or self.better is None):
            raise ValueError(f"metric {self.name}: a gated metric needs a direction and a paired method")

    @property
    def rule(self) -> str:
        """The metric's name in gate rules."""
        return self.gate_name or self.name

    @property
    def per_episode(self) -> str:
        """The key of the per-episode value this metric aggregates (the one `compare` shows): a
        ratio's is the metric's own name (the episode's ratio; see `per_episode_value`)."""
        if self.episode_key:
            return self.episode_key
        if isinstance(self.agg, Ratio):
            return self.name
        if isinstance(self.episode, EpisodeValue):
            return self.episode.name
        return self.agg.fields[0]

    def per_episode_value(self, row: Mapping[str, Any]) -> Any:
        """This metric's value for one episode (a row of its scores): the stored value under
        `per_episode`, else, for a ratio, the episode's own numerator over its denominator (None
        when either is missing or the denominator is 0), so a ratio declared over two per-episode
        values needs no third one for `compare`."""
        if self.per_episode in row or not isinstance(self.agg, Ratio):
            return row.get(self.per_episode)
        n, d = row.get(self.agg.num), row.get(self.agg.den)
        return None if n is None or d is None or d == 0 else n / d

    @property
    def worse_word(self) -> str:
        return "drop" if self.better == "higher" else "rise"

    def value(self, cols: Columns, done: Mapping[str, Any]) -> Any:
        if cols.n or self.agg.derived:
            return clean(self.agg.point(cols, done))
        return self.agg.empty()

    def lookup(self, row: Mapping[str, Any]) -> Any:
        """This metric's value in a row of suite values (derived metrics are computed from it)."""
        return self.agg.point(None, row) if self.agg.derived else row.get(self.name)

    def help(self) -> str:
        """The description with its direction and interval, as a column's help text."""
        notes = [*(["lower is better"] if self.better == "lower" else [])]
        notes += ["95% bootstrap interval over tasks"] if self.interval else []
        return self.description + (f" ({'; '.join(notes)})" if notes else "")

    def terminal(self, row: Mapping[str, Any]) -> str:
        """The value in a terminal table (`fanout run`, `fanout whatif`)."""
        v = self.lookup(row)
        if self.unit == "turns" and isinstance(self.agg, Quotient):
            n, d = row.get(self.agg.num), row.get(self.agg.den)
            return "n/a" if n is None or d is None else f"{_fixed(n, 2)}/{_fixed(d, 2)}"
        if v is None:
            return "n/a"
        if self.unit in ("int", "flag"):
            return str(v)
        if self.unit == "share":
            return f"{round(100 * v, 2) + 0.0:.0f}"
        return _fixed(v, TERMINAL_DIGITS[self.unit])


TERMINAL_DIGITS: dict[str, int] = {
    "rate": 3,
    "count": 2,
    "seconds": 2,
    "factor": 2,
    "tokens": 0,
    "usd": 4,
}


def _fixed(v: float, digits: int) -> str:
    return f"{round(v, digits) + 0.0:.{digits}f}"  # + 0.0: no "-0.00" for a float-noise difference


class Registry:
    """Metrics in declaration order: the order of every table that has no published column order."""

    def __init__(self) -> None:
        self._by_name: dict[str, Metric] = {}
        self._episode_values: list[EpisodeValue] | None = None  # asked once per episode scored

    def add(self, metric: Metric) -> Metric:
        if metric.name in self._by_name:
            raise ValueError(f"metric {metric.name!r} is declared twice")
        if metric.gate and self.by_rule(metric.rule) is not None:
            raise ValueError(f"gate rule name {metric.rule!r} is taken")
        self._by_name[metric.name] = metric
        self._episode_values = None
        return metric

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._by_name.values())

    def __getitem__(self, name: str) -> Metric:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def on(self, surface: Surface) -> list[Metric]:
        return [m for m in self if surface in m.show]

    def gated(self) -> list[Metric]:
        return [m for m in self if m.gate]

    def by_rule(self, rule: str) -> Metric | None:
        return next((m for m in self if m.gate and m.rule == rule), None)

    def episode_values(self) -> list[EpisodeValue]:
        if self._episode_values is None:
            out: list[EpisodeValue] = []
            for m in self:
                if isinstance(m.episode, EpisodeValue):
                    out.append(m.episode)
                elif m.episode is not None:
                    out.extend(m.episode)
            self._episode_values = out
        return list(self._episode_values)

    def columns(self, published: Sequence[str], *surfaces: Surface, intervals: bool = True) -> list[str]:
        """A published column order (append-only) followed by the metrics of `surfaces` it lacks
        (with `<name>_lo` and `<name>_hi` after a metric that has an interval, if `intervals`)."""
        out = list(published)
        seen = set(out)
        for m in self:
            if m.name not in seen and any(s in m.show for s in surfaces):
                out.append(m.name)
                seen.add(m.name)
                if m.interval and intervals:
                    out += [f"{m.name}_lo", f"{m.name}_hi"]
        return out


def aggregate(df: pd.DataFrame | Columns, metrics: Iterable[Metric]) -> dict[str, Any]:
    """The suite values of `metrics` over `df` (one row per episode), in declaration order."""
    cols = df if isinstance(df, Columns) else Columns(df)
    out: dict[str, Any] = {}
    for m in metrics:
        out[m.name] = m.value(cols, out)
    return out


def aggregate_by(df: pd.DataFrame, key: str, metrics: Sequence[Metric]) -> dict[str, dict[str, Any]]:
    """`aggregate` per value of column `key` (e.g. per pattern), in sorted order; every column
    is read from the frame once."""
    if df.empty:
        return {}
    cols = Columns(df)
    return {
        str(k): aggregate(cols.take(rows), metrics) for k, rows in sorted(df.groupby(key).indices.items())
    }


def intervals(df: pd.DataFrame, metrics: Iterable[Metric], seed: int = 0) -> dict[str, tuple[Any, Any]]:
    """95% bootstrap intervals over tasks (episodes of a task resampled together) of the metrics
    that declare one."""
    return {m.name: (m.agg.interval(df, seed) if len(df) else (None, None)) for m in metrics if m.interval}


def episode_values(view: EpisodeView, timing_only: bool = False) -> dict[str, float | None]:
    """The computed per-episode values of every registered metric, for one episode (`timing_only`:
    only those that depend on the timeline, for a re-timed episode)."""
    return {ev.name: ev(view) for ev in METRICS.episode_values() if ev.timing or not timing_only}


def batches_of(trace: Trace) -> list[list[Span]]:
    """The trace's own timeline: (start, end) of each executed call, grouped by the model response
    (turn) that issued it; an agent's calls before any response and calls it never ran are no batch."""
    return executed_batches(trace)


# -- per-episode values computed from the timeline --------------------------------------------


def straggler_wait(view: EpisodeView) -> float:
    """Per batch, how long everything waited for its last call alone: the batch's end minus the
    latest end among its other calls (zero for a batch of one); summed over the episode."""
    total = 0.0
    for batch in view.batches:
        if len(batch) < 2:
            continue
        last = second = -math.inf
        for _, end in batch:
            if end > last:
                last, second = end, last
            elif end > second:
                second = end
        total += last - second
    return total


def reasoning_tokens(view: EpisodeView) -> float:
    """Thinking tokens the provider reported (part of the completion tokens; zero when none)."""
    return float(sum(t.reasoning_tokens or 0 for t in view.trace.turns))


@functools.cache
def _verdicts() -> ModuleType:
    """`importers.verdicts`, imported when an episode is first scored (not by every command that
    reads the registry), then at the cost of a call."""
    from .importers import verdicts

    return verdicts


def bfcl_valid(view: EpisodeView) -> float | None:
    """BFCL's own verdict on the episode: 1 valid, 0 not; None off BFCL suites."""
    v = None if view.gt is None else _verdicts().bfcl_valid(view.gt, view.trace)
    return None if v is None else float(v)


def _taskbench(part: str, field: str) -> Callable[[EpisodeView], float]:
    """A pooled-F1 count of TaskBench's node (tool) or edge (link) sets: `num` = 2 x true
    positives, `den` = 2 x true positives + false positives + false negatives; the suite's F1 is
    their ratio of sums, what sklearn's binary F1 over the pooled items gives. Zero off TaskBench."""

    def count(view: EpisodeView) -> float:
        g = None if view.gt is None else _verdicts().taskbench_graph(view.gt, view.trace)
        if g is None:
            return 0.0
        gold, pred = (g.gold_nodes, g.pred_nodes) if part == "node" else (g.gold_links, g.pred_links)
        tp = len(gold & pred)
        return float(2 * tp if field == "num" else 2 * tp + len(pred - gold) + len(gold - pred))

    return count


def _runtime(field: str) -> Callable[[EpisodeView], float | None]:
    """One sum of the runtime-concurrency figures (docs/scoring.md, "Runtime concurrency") over
    the episode's timeline: work, span and longest call of its batches of two or more calls, the
    time lost against running every call at once, and the dispatch delay."""

    def value(view: EpisodeView) -> float | None:
        work, span, longest, lost = view.concurrency
        if field == "ratio":  # the episode's own value, as `compare` shows it (None: no wide batch)
            return work / span if span > 0 else None
        return {"work": work, "span": span, "longest": longest, "lost": lost}[field]

    return value


# -- the registry -----------------------------------------------------------------------------
# Declaration order is the column order of every table without a published order (the page, the
# terminal rows); a metric computed from others (Quotient, Total) comes after them.


def _on(surfaces: str) -> frozenset[Surface]:
    return frozenset(surfaces.split())  # type: ignore[arg-type]  # checked in Metric.__post_init__


METRICS = Registry()
add = METRICS.add
# fmt: off
add(Metric("episodes", "Episodes", "episodes in the run", Count(), "int", None,
           _on("summary run whatif"), short="episodes"))
add(Metric("tasks", "Tasks", "distinct tasks", Reduce("task_id", "distinct"), "int", None, _on("patterns")))
# The headline (docs/scoring.md, "Parallel success"): the leaderboard's default order.
add(Metric("parallel_success_rate", "Parallel success",
           "share of episodes solved with every call correct, every parallelisable call issued at the "
           "first turn it was ready, and no more model turns than the oracle: a premature, duplicate, "
           "wrong or unneeded call, a missed fan-out or a failed task each lose the episode",
           Mean(("parallel_success",)), "rate", "higher", _on("summary board patterns run compare"),
           short="par_success", interval=True, gate=True))
add(Metric("success_rate", "Success",
           "share of episodes whose required calls were all made and whose answer passed",
           Mean(("success",)), "rate", "higher", _on("summary board patterns run"),
           short="success", interval=True, gate=True))
add(Metric("successful_episodes", "Successful",
           "successful episodes: the ones every speed figure (wall percentiles, speedup vs sequential, "
           "wall / ideal) is computed over, so a model that skips work never looks fast",
           Count("success", True), "int", None, _on("summary board whatif"), narrow=False))
add(Metric("fan_out_recall", "Fan-out recall",
           "parallelisable nodes issued at the first turn they were ready, over all parallelisable "
           "nodes (micro-averaged)",
           Ratio("on_time", "parallelizable"), "rate", "higher", _on("summary board patterns run compare"),
           short="recall", interval=True, gate=True))
add(Metric("incorrect_fan_out_rate", "Incorrect fan-out",
           "nodes with a premature call, over nodes with a dependency (micro-averaged)",
           Ratio("premature_nodes", "nodes_with_deps"), "rate", "lower", _on("summary board patterns run"),
           short="incorrect", interval=True, gate=True))
add(Metric("redundant_calls_per_task", "Redundant/task", "duplicate + extraneous calls per episode",
           Mean(("redundant_calls",)), "count", "lower", _on("summary board patterns run"),
           short="redund/task", interval=True, gate=True))
add(Metric("redundant_rate", "Redundant rate", "duplicate + extraneous calls / all calls (micro-averaged)",
           Ratio("redundant_calls", "n_calls"), "rate", "lower", _on("summary"), interval=True, gate=True))
add(Metric("mean_turns", "Turns", "model responses per episode", Mean(("turns",)), "count", "lower",
           _on("summary"), gate=True, gate_name="turns_per_task"))
add(Metric("mean_ideal_turns", "Ideal turns", "longest dependency path (in nodes) + 1, per episode",
           Mean(("ideal_turns",)), "count", None, _on("summary")))
add(Metric("turns_over_ideal", "Turns/ideal",
           "mean model responses per episode against the ideal (longest path + 1)",
           Quotient("mean_turns", "mean_ideal_turns"), "turns", "lower", _on("board patterns run"),
           short="turns/ideal"))
add(Metric("wall_s_p50", "Wall p50", "median wall-clock of the successful episodes, on the run's clock",
           Percentile("wall_s", 50, where="success"), "seconds", "lower", _on("summary board patterns run whatif"),
           short="wall_p50_s", gate=True))
add(Metric("wall_s_p95", "Wall p95", "95th percentile wall-clock of the successful episodes",
           Percentile("wall_s", 95, where="success"), "seconds", "lower", _on("summary whatif"), short="wall_p95_s"))
add(Metric("wall_s_mean", "Wall mean", "mean episode wall-clock (every episode: a figure of the traces)",
           Mean(("wall_s",)), "seconds", "lower", _on("summary whatif compare"), gate=True))
add(Metric("speedup_vs_sequential", "Speedup vs sequential",
           "the sequential schedule of the task's required calls (one call per turn, the same latency "
           "samples, a fixed model latency per turn) over the actual wall-clock, summed over the "
           "successful episodes: how much faster than one call at a time the model really was",
           Ratio("sequential_wall_s", "wall_s", where="success"), "factor", "higher",
           _on("summary board patterns run whatif compare"), short="vs_seq", interval=True, gate=True))
add(Metric("wall_over_ideal", "Wall / ideal",
           "actual wall-clock over the oracle's on the same tasks (the same latency samples, runtime "
           "settings and fixed model latency per turn), summed over the successful episodes; 1 is ideal",
           Ratio("wall_s", "ideal_wall_s", where="success"), "factor", "lower",
           _on("summary board patterns run whatif"), short="wall/ideal", interval=True, gate=True))
add(Metric("serial_wall_s_mean", "Serial wall", "mean wall-clock of the trace with each batch run serially",
           Mean(("serial_wall_s",)), "seconds", None, _on("whatif"), short="serial"))
add(Metric("fan_out_saved_s_mean", "Saved by fan-out",
           "mean tool waiting the episode's fan-out saved: serial wall-clock - wall-clock",
           Mean(("serial_wall_s",), minus="wall_s"), "seconds", None, _on("whatif"), short="saved"))
add(Metric("parallel_speedup", "Trace speedup",
           "the episode's own trace with each batch run serially, over its actual wall-clock (sum over "
           "episodes): what concurrency saved on these traces, not model quality (redundant calls inflate it)",
           Ratio("serial_wall_s", "wall_s"), "factor", None, _on("summary whatif"), short="speedup"))
add(Metric("straggler_wait_s_mean", "Straggler wait",
           "seconds per episode that batches waited for their slowest call alone (per batch: its end "
           "minus the latest end among its other calls)",
           Mean(("straggler_wait_s",)), "seconds", "lower", _on("summary board patterns whatif compare"),
           short="straggler", interval=True, gate=True,
           episode=EpisodeValue("straggler_wait_s", straggler_wait), narrow=False))
add(Metric("ideal_wall_s_mean", "Ideal wall",
           "mean wall-clock of the oracle on the tasks (its retries of timed-out calls included) at the "
           "run's fixed model latency per turn", Mean(("ideal_wall_s",)), "seconds", None, _on("summary whatif"),
           short="ideal"))
add(Metric("rejoin_s_mean", "Rejoin", "mean model latency of turns that follow a batch of >= 2 calls",
           Mean(("rejoin_s",)), "seconds", None, _on("summary whatif"), short="rejoin"))
add(Metric("model_share", "Model share", "share of wall-clock spent in model turns",
           Ratio("model_time_s", "wall_s"), "share", None, _on("whatif"), short="model%"))
add(Metric("tool_share", "Tool share", "share of wall-clock spent waiting on tools",
           Ratio("tool_time_s", "wall_s"), "share", None, _on("whatif"), short="tool%"))
add(Metric("tokens_per_task", "Tokens/task", "prompt + completion tokens per episode",
           Mean(("prompt_tokens", "completion_tokens")), "tokens", "lower", _on("board"), gate=True, narrow=False))
add(Metric("prompt_tokens", "Prompt tokens", "prompt tokens (cached included)", Sum(("prompt_tokens",)),
           "int", None, _on("summary")))
add(Metric("completion_tokens", "Completion tokens", "completion tokens", Sum(("completion_tokens",)),
           "int", None, _on("summary")))
add(Metric("cached_tokens", "Cached tokens", "cached prompt tokens", Sum(("cached_tokens",)), "int", None,
           _on("summary")))
add(Metric("tokens_estimated", "Tokens estimated", "some usage was estimated offline",
           Reduce("usage_estimated", "any"), "flag", None, _on("summary")))
add(Metric("tokens", "Tokens", "prompt + completion tokens", Total(("prompt_tokens", "completion_tokens")),
           "int", None, _on("run"), short="tokens"))
add(Metric("cost_usd", "Cost", "USD for the run; unknown when the model has no price",
           Sum(("cost_usd",), integer=False), "usd", None, _on("summary run"), short="cost_usd"))
add(Metric("cost_per_task_usd", "Cost/task",
           "USD per episode from the price table; unknown when the model has no price",
           Mean(("cost_usd",), unknown_if_missing=True), "usd", "lower", _on("summary board"),
           gate=True, gate_name="cost_per_task", narrow=False))
add(Metric("errors", "Errors", "episodes that ended in a model error", Count("stop", "error"), "int", None,
           _on("summary board run"), short="errors", narrow=False))
add(Metric("calls", "Calls", "tool calls", Sum(("n_calls",)), "int", None, _on("summary whatif")))
add(Metric("timed_out_calls", "Timed-out calls", "calls cut by the tool timeout", Sum(("timed_out_calls",)),
           "int", None, _on("summary whatif"), short="timeouts"))
add(Metric("error_results", "Error results", "calls whose result was an error",
           Sum(("errors_in_results",)), "int", None, _on("summary")))
add(Metric("changed_episodes", "Changed episodes",
           "episodes where a call would time out under the what-if setting and did not in the run, or the "
           "reverse: the model would have seen another result, so its later turns, and every time figure of "
           "the episode, are not what it would have done",
           Count("conversation_changed", True), "int", None, _on("whatif"), short="changed"))
add(Metric("hedged_calls", "Hedged calls", "read calls that got a hedge request", Sum(("hedged_calls",)),
           "int", None, _on("whatif"), short="hedged"))
add(Metric("reasoning_tokens", "Reasoning tokens",
           "thinking tokens the provider reported, part of the completion tokens (they cost money and time)",
           Sum(("reasoning_tokens",)), "int", None, _on("summary board"),
           episode=EpisodeValue("reasoning_tokens", reasoning_tokens, timing=False)))
add(Metric("runtime_concurrency", "Runtime concurrency",
           "how concurrently the runtime ran each response's calls: their summed durations over the "
           "batches' spans, over batches of two or more calls (1 = one at a time)",
           Ratio("runtime_work_s", "runtime_span_s"), "factor", "higher", _on("summary patterns whatif"),
           interval=True, gate=True, episode=(EpisodeValue("runtime_concurrency", _runtime("ratio")),
                                              EpisodeValue("runtime_work_s", _runtime("work")),
                                              EpisodeValue("runtime_span_s", _runtime("span")),
                                              EpisodeValue("runtime_longest_s", _runtime("longest")))))
add(Metric("runtime_concurrency_ideal", "Concurrency if all at once",
           "what fully concurrent execution would measure: summed durations over the longest call of each batch",
           Ratio("runtime_work_s", "runtime_longest_s"), "factor", None, _on("summary")))
add(Metric("runtime_lost_s_mean", "Runtime lost",
           "seconds per episode the runtime lost against running each batch's calls all at once",
           Mean(("runtime_lost_s",)), "seconds", "lower", _on("summary patterns whatif"),
           interval=True, gate=True, episode=EpisodeValue("runtime_lost_s", _runtime("lost"))))
add(Metric("runtime_overhead_share", "Runtime overhead",
           "real clock: mean share of each episode's wall-clock that was the runtime's own time (measured "
           "wall minus the virtual timeline of its turns: the harness's overhead in-process, the agent "
           "program's own work for agent/ models); null on the virtual clock",
           Mean(("runtime_overhead_share",)), "share", "lower", _on("summary"),
           episode=EpisodeValue("runtime_overhead_share", lambda v: overhead_share(v.trace), timing=False)))
add(Metric("bfcl_accuracy", "BFCL accuracy",
           "share of episodes BFCL's own checker would pass (BFCL suites: one call turn, every answer "
           "matched once, nothing extra)", Mean(("bfcl_valid",)), "share", "higher",
           _on("summary board patterns"), interval=True, gate=True,
           episode=EpisodeValue("bfcl_valid", bfcl_valid, timing=False)))
add(Metric("taskbench_node_f1", "Node F1",
           "TaskBench's node F1: tools called vs tools of the gold graph, pooled over episodes (TaskBench suites)",
           Ratio("taskbench_node_num", "taskbench_node_den"), "share", "higher", _on("summary board patterns"),
           episode=(EpisodeValue("taskbench_node_num", _taskbench("node", "num"), timing=False),
                    EpisodeValue("taskbench_node_den", _taskbench("node", "den"), timing=False))))
add(Metric("taskbench_edge_f1", "Edge F1",
           "TaskBench's edge F1: links between tools (a result feeding a later call) vs the gold graph's",
           Ratio("taskbench_edge_num", "taskbench_edge_den"), "share", "higher", _on("summary board patterns"),
           episode=(EpisodeValue("taskbench_edge_num", _taskbench("edge", "num"), timing=False),
                    EpisodeValue("taskbench_edge_den", _taskbench("edge", "den"), timing=False))))
# fmt: on
del add


__all__ = [
    "METRICS",
    "Count",
    "EpisodeValue",
    "EpisodeView",
    "Mean",
    "Metric",
    "Percentile",
    "Quotient",
    "Ratio",
    "Reduce",
    "Registry",
    "Sum",
    "Total",
    "aggregate",
    "batches_of",
    "clean",
    "episode_values",
    "intervals",
]
