"""Runtime concurrency: how concurrently the runtime executed the tool calls each model response
asked for, measured on the trace's own clock. A pure function of a trace (any trace: an agent's,
or the harness runtime's on either clock).

Per batch b (the executed calls of one model response; a call the agent never executed is left
out), with each call's own duration d_i = end_i - start_i:
  work_b  = sum of d_i                       (what the batch costs run one after another)
  span_b  = max end_i - min start_i          (what it took)
  long_b  = max d_i                          (what it takes with every call at once)
  concurrency_b = work_b / span_b            (1.0 = one call at a time; the batch width when all its
                                              calls run at once and last equally long)
  lost_b  = span_b - long_b                  (wall-clock lost against fully concurrent execution)
Per episode, over the batches of two or more calls (a single call is concurrent by definition):
  runtime_concurrency       = sum work_b / sum span_b
  runtime_concurrency_ideal = sum work_b / sum long_b   (what fully concurrent execution measures)
  runtime_lost_s            = sum lost_b               (over every batch)
Ratios of sums, so long batches weigh in proportion to their time; a suite aggregates the same
sums over its episodes. `None` when the episode has no batch of two or more timed calls.
Beside them, the runtime's dispatch delay: per batch, from the end of the model response to the
start of its first executed call (`runtime_dispatch_s`, summed; a suite reports it per batch).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from ..timeline import concurrency_sums, executed_batches, executed_by_turn
from ..trace import Trace


class BatchTiming(BaseModel):
    turn: int
    calls: int
    work_s: float
    span_s: float
    longest_s: float
    dispatch_s: float | None  # response end -> first call start (None: the turn is not in the trace)


class RuntimeConcurrency(BaseModel):
    runtime_concurrency: float | None
    runtime_concurrency_ideal: float | None
    runtime_lost_s: float
    concurrent_batches: int  # batches of >= 2 executed calls
    work_s: float  # sums over those batches, so suites can aggregate
    span_s: float
    longest_s: float
    runtime_dispatch_s: float  # summed over the batches whose response is in the trace
    dispatched_batches: int


def batch_timings(trace: Trace) -> list[BatchTiming]:
    """One entry per model response whose calls were executed."""
    by_turn = executed_by_turn(trace)
    ends = {t.index: t.end_s for t in trace.turns}
    out = []
    for turn in sorted(by_turn):
        spans = by_turn[turn]
        durs = [max(0.0, e - s) for s, e in spans]
        first = min(s for s, _ in spans)
        out.append(
            BatchTiming(
                turn=turn,
                calls=len(spans),
                work_s=sum(durs),
                span_s=max(e for _, e in spans) - min(s for s, _ in spans),
                longest_s=max(durs),
                dispatch_s=max(0.0, first - ends[turn]) if turn in ends else None,
            )
        )
    return out


def runtime_concurrency(trace: Trace) -> RuntimeConcurrency:
    batches = batch_timings(trace)
    wide = [b for b in batches if b.calls >= 2 and b.span_s > 0]
    work, span, longest, lost = concurrency_sums(executed_batches(trace))
    return RuntimeConcurrency(
        runtime_concurrency=work / span if span > 0 else None,
        runtime_concurrency_ideal=work / longest if longest > 0 else None,
        runtime_lost_s=lost,
        concurrent_batches=len(wide),
        work_s=work,
        span_s=span,
        longest_s=longest,
        runtime_dispatch_s=sum(b.dispatch_s for b in batches if b.dispatch_s is not None),
        dispatched_batches=sum(1 for b in batches if b.dispatch_s is not None),
    )


def aggregate(rows: Iterable[RuntimeConcurrency | dict[str, Any]]) -> dict[str, float | int | None]:
    """Suite figures from per-episode values: ratios of the summed work, span and longest call."""
    work = span = longest = lost = dispatch = 0.0
    n = batches = dispatched = 0
    for r in rows:
        d = r.model_dump() if isinstance(r, RuntimeConcurrency) else r
        work += d["work_s"]
        span += d["span_s"]
        longest += d["longest_s"]
        lost += d["runtime_lost_s"]
        batches += d["concurrent_batches"]
        dispatch += d["runtime_dispatch_s"]
        dispatched += d["dispatched_batches"]
        n += 1
    return {
        "runtime_concurrency": work / span if span > 0 else None,
        "runtime_concurrency_ideal": work / longest if longest > 0 else None,
        "runtime_lost_s_mean": lost / n if n else None,
        "runtime_dispatch_s_mean": dispatch / dispatched if dispatched else None,
        "concurrent_batches": batches,
        "episodes": n,
    }
