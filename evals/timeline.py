"""A trace's timeline of batches: each model response's executed calls as (start, end).

The straggler wait, the runtime-concurrency figures and their whatif re-timing all read batches
this way, so an agent's calls before any response (turn 0) and calls it never ran (`not_executed`)
are no batch for any of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .trace import Trace

NOT_EXECUTED = "not_executed"  # the error of a tool call an agent runtime never ran


def executed_by_turn(trace: Trace) -> dict[int, list[tuple[float, float]]]:
    """Each model response's executed calls as (start, end), by turn (turn 0, an agent's calls
    before any response, is no batch; a call the agent never executed has no timing)."""
    by_turn: dict[int, list[tuple[float, float]]] = {}
    for c in trace.calls:
        if c.turn < 1 or c.error == NOT_EXECUTED:
            continue
        by_turn.setdefault(c.turn, []).append((c.start_s, c.end_s))
    return by_turn


def executed_batches(trace: Trace) -> list[list[tuple[float, float]]]:
    by_turn = executed_by_turn(trace)
    return [by_turn[t] for t in sorted(by_turn)]


def concurrency_sums(batches: Iterable[Sequence[tuple[float, float]]]) -> tuple[float, float, float, float]:
    """(work, span, longest) summed over the batches of two or more calls, and the time lost
    against fully concurrent execution summed over every batch, from each call's (start, end):
    the one computation behind the episode's figures and the metric registry's."""
    work = span = longest = lost = 0.0
    for batch in batches:
        durs = [max(0.0, e - s) for s, e in batch]
        b_span = max(e for _, e in batch) - min(s for s, _ in batch)
        lost += max(0.0, b_span - max(durs))
        if len(batch) >= 2 and b_span > 0:
            work += sum(durs)
            span += b_span
            longest += max(durs)
    return work, span, longest, lost
