"""The runtime's two clocks, behind one small interface, so `Episode.run` is written once.

Virtual: nothing sleeps. A model turn lasts its latency (measured, or the inference profile's);
a batch lasts the makespan of its calls' durations on `fan_out_cap` slots in issue order, and
its calls are answered in issue order. Real: a model that answered at once (a reference policy,
a cached or replayed response) is made to take its latency by sleeping; tool calls really wait
their latency, concurrently under a semaphore, with a hedge request racing a slow read; times are
perf_counter readings. The real clock also keeps the virtual timeline of the same turns, and the
difference, measured wall minus that timeline, is the runtime's own overhead.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from typing import Any, Protocol

from mock_tools import error_result, is_error

from .errors import InfrastructureError
from .settings import RuntimeSettings
from .timing import batch_times, request_s
from .trace import CallRecord, Trace, fill

Writes = list[tuple[int, Any]]  # (call index, the writes it made), applied in issue order


class ToolServer(Protocol):
    """What a clock needs from the episode to answer calls: its tools, world and state."""

    def request(self, c: CallRecord) -> tuple[Any, Any]:
        """The tool's answer to `c` and the writes it would make (not applied yet)."""
        ...

    def apply(self, writes: Writes) -> None:
        """Apply a batch's writes, in issue order, when the batch ends."""
        ...


def answer(c: CallRecord, result: Any) -> None:
    if is_error(result):
        fill(c, result=result, error=result["error"]["code"])
    else:
        fill(c, result=result)


def time_out(c: CallRecord, timeout: float | None) -> None:
    c.timed_out = True
    answer(c, error_result("timeout", f"{c.name} did not answer within {timeout:g} s"))


async def sleep_until(deadline: float) -> None:
    """Sleep until a perf_counter deadline with sub-millisecond lateness.

    The event loop's timers wake up to a millisecond late (epoll rounds timeouts up); over a
    turn of two sleeps that is the whole overhead budget of the real clock. So sleep coarsely
    until 1.5 ms before the deadline, then yield to the loop until it passes.
    """
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        await asyncio.sleep(remaining - 0.0015 if remaining > 0.002 else 0)


class Clock(ABC):
    """Where an episode's times come from. Times are seconds from the episode's start."""

    def __init__(self, settings: RuntimeSettings):
        self.settings = settings

    @abstractmethod
    def turn_start(self) -> float:
        """The start of the model turn about to be requested."""

    @abstractmethod
    async def turn_end(self, start: float, latency: float, answered_at_once: bool) -> tuple[float, float]:
        """(end, model latency) of a turn that began at `start` and takes `latency` on the virtual
        timeline; `answered_at_once`: the model did not take that time itself (a policy, a cached
        response), so a real clock waits it out."""

    @abstractmethod
    async def run_batch(self, calls: list[CallRecord], start: float, tools: ToolServer) -> float:
        """Answer a batch issued at `start`, setting each call's start, end and result (a timed-out
        write is not applied); returns the batch's duration."""

    @abstractmethod
    def finish(self) -> tuple[float, float | None]:
        """(episode wall-clock, the runtime's measured overhead: None on the virtual clock)."""


class VirtualClock(Clock):
    def __init__(self, settings: RuntimeSettings):
        super().__init__(settings)
        self.now = 0.0

    def turn_start(self) -> float:
        return self.now

    async def turn_end(self, start: float, latency: float, answered_at_once: bool) -> tuple[float, float]:
        self.now = start + latency
        return self.now, latency

    async def run_batch(self, calls: list[CallRecord], start: float, tools: ToolServer) -> float:
        starts, ends, batch_s = batch_times(start, [c.duration_s for c in calls], self.settings.fan_out_cap)
        writes: Writes = []
        for c, s, e in zip(calls, starts, ends, strict=True):
            fill(c, start_s=s, end_s=e)
            if c.result is not None:  # a parse error or an unknown tool: answered at once
                continue
            if c.timed_out:
                time_out(c, self.settings.tool_timeout)
                continue
            result, ws = tools.request(c)
            answer(c, result)
            writes.append((c.index, ws))
        tools.apply(writes)
        self.now += batch_s
        return batch_s

    def finish(self) -> tuple[float, float | None]:
        return self.now, None


class RealClock(Clock):
    def __init__(self, settings: RuntimeSettings):
        super().__init__(settings)
        self.t0 = time.perf_counter()
        self.planned = 0.0  # the virtual timeline of the same turns, to measure the overhead

    def _now(self) -> float:
        return time.perf_counter() - self.t0

    def turn_start(self) -> float:
        return self._now()

    async def turn_end(self, start: float, latency: float, answered_at_once: bool) -> tuple[float, float]:
        if answered_at_once:
            await sleep_until(self.t0 + start + latency)
        self.planned += latency
        end = self._now()
        return end, end - start

    async def run_batch(self, calls: list[CallRecord], start: float, tools: ToolServer) -> float:
        cap = self.settings.fan_out_cap
        sem = asyncio.Semaphore(cap) if cap else None
        writes: Writes = []

        s = self.settings
        simple = s.tool_timeout is None and s.hedge_after is None

        async def one(c: CallRecord) -> None:
            if sem is not None:
                await sem.acquire()
            try:
                c.start_s = self._now()
                if c.result is not None:  # parse errors and unknown tools answer at once
                    pass
                elif simple:  # no timeout, no hedge: the call just takes its latency
                    c.hedged = c.timed_out = False
                    await sleep_until(self.t0 + c.start_s + request_s(s, c.sample_s))
                    result, ws = tools.request(c)
                    answer(c, result)
                    writes.append((c.index, ws))
                else:
                    await self._race(c, tools, writes)
                c.end_s = self._now()
            finally:
                if sem is not None:
                    sem.release()

        if simple and cap is None:
            await self._wait_all(calls, tools, writes)
        elif len(calls) == 1:
            await one(calls[0])
        else:
            await asyncio.gather(*(one(c) for c in calls))
        tools.apply(writes)
        self.planned += batch_times(self.planned, [c.duration_s for c in calls], cap)[2]
        return max(c.end_s for c in calls) - start

    async def _wait_all(self, calls: list[CallRecord], tools: ToolServer, writes: Writes) -> None:
        """Every call issued now, each answered when its latency has passed: the waits overlap,
        so one coroutine waits for them in deadline order (ties in issue order) instead of a task
        per call, and no other episode's work runs between the batch's start and its calls'."""
        due = []
        for c in calls:
            c.start_s = self._now()
            if c.result is not None:  # parse errors and unknown tools answer at once
                c.end_s = c.start_s
                continue
            c.hedged = c.timed_out = False
            due.append((self.t0 + c.start_s + request_s(self.settings, c.sample_s), c.index, c))
        for deadline, _, c in sorted(due, key=lambda d: (d[0], d[1])):
            await sleep_until(deadline)
            result, ws = tools.request(c)
            answer(c, result)
            writes.append((c.index, ws))
            c.end_s = self._now()

    async def _race(self, c: CallRecord, tools: ToolServer, writes: Writes) -> None:
        """The request really waits its latency; a read still unanswered after `hedge_after` gets
        a duplicate request racing it (first answer wins, the loser is cancelled); the call as a
        whole is bounded by `tool_timeout`. `hedged` and `timed_out` record what happened;
        `duration_s` keeps the virtual arithmetic for comparison."""
        s = self.settings

        issued = self.t0 + c.start_s  # each request's latency counts from the call's start

        async def request(delay: float, sent: float) -> tuple[Any, Any]:
            if delay > 0:
                await sleep_until(sent + delay)
            return tools.request(c)

        loop = asyncio.get_running_loop()
        begin = loop.time()
        timeout, hedge_after = s.tool_timeout, s.hedge_after
        racers = [asyncio.ensure_future(request(request_s(s, c.sample_s), issued))]
        c.hedged = c.timed_out = False
        try:
            if (
                c.hedge_sample_s is not None
                and hedge_after is not None
                and (timeout is None or hedge_after < timeout)
            ):
                done, _ = await asyncio.wait(racers, timeout=hedge_after)
                if not done:
                    c.hedged = True
                    racers.append(
                        asyncio.ensure_future(request(request_s(s, c.hedge_sample_s), time.perf_counter()))
                    )
            left = None if timeout is None else max(0.0, timeout - (loop.time() - begin))
            done, _ = await asyncio.wait(racers, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for r in racers:
                r.cancel()
            await asyncio.gather(*racers, return_exceptions=True)
        winner = next((r for r in racers if r in done), None)
        if winner is None:
            time_out(c, timeout)
            return
        result, ws = winner.result()
        answer(c, result)
        writes.append((c.index, ws))

    def finish(self) -> tuple[float, float | None]:
        wall = self._now()
        return wall, wall - self.planned


CLOCKS: dict[str, type[Clock]] = {"virtual": VirtualClock, "real": RealClock}


def start_clock(settings: RuntimeSettings) -> Clock:
    """The clock of `settings.clock`, started now."""
    return CLOCKS[settings.clock](settings)


# -- the real clock's own overhead ----------------------------------------------------------------
# Measured on 2 cores (docs/scoring.md, "Real clock overhead"): at --max-concurrency 32 the
# overhead is under 0.1% of an episode's wall-clock; at 2000 it is 8%, and it keeps growing.
OVERHEAD_WARN_SHARE = 0.05  # above this mean share, wall-clock and speedup include visible overhead
OVERHEAD_REFUSE_SHARE = 0.25  # above this, the timings measure the machine: stop the run
OVERHEAD_MIN_EPISODES = 20  # judged on the mean of at least this many episodes (or the whole run)


def overhead_share(trace: Trace) -> float | None:
    """The share of the episode's wall-clock that was the runtime's own overhead (real clock);
    None on the virtual clock, which has none, and for an episode that ended in a provider error:
    its wall-clock holds the retries' backoff waits, which no timeline accounts for, so they would
    read as runtime overhead (a server gone down mid-run once stopped the run as "100% overhead")."""
    if trace.runtime_overhead_s is None or trace.wall_s <= 0 or trace.stop == "error":
        return None
    return max(0.0, trace.runtime_overhead_s) / trace.wall_s


class OverheadError(InfrastructureError):
    """The real clock's measured overhead is too large a share of the episodes' wall-clock."""


class OverheadCheck:
    """Watches the real clock's measured overhead (`Trace.runtime_overhead_s`) as episodes finish.

    The real clock exists to measure time, and at very high concurrency the runtime itself (one
    event loop serving thousands of episodes) adds seconds per episode that then read as model
    or tool time. The check keeps the mean share of each episode's wall-clock that was overhead:
    over `OVERHEAD_WARN_SHARE` it warns once; over `OVERHEAD_REFUSE_SHARE` it raises
    `OverheadError`, which stops the run. The share is also reported per run
    (`runtime_overhead_share` in summary.json)."""

    def __init__(self, max_concurrency: int):
        self.max_concurrency = max_concurrency
        self.n = 0
        self.total = 0.0  # sum of per-episode shares
        self.warned = False

    @property
    def share(self) -> float:
        return self.total / self.n if self.n else 0.0

    def _what(self) -> str:
        return (
            f"--clock real: the runtime's own overhead is {100 * self.share:.1f}% of episode "
            f"wall-clock (mean of {self.n} episodes)"
        )

    def add(self, trace: Trace) -> str | None:
        """Count a finished episode; a warning the first time the mean passes the warn share."""
        share = overhead_share(trace)
        if share is None:
            return None
        self.n += 1
        self.total += share
        if self.n < OVERHEAD_MIN_EPISODES:
            return None
        if self.share > OVERHEAD_REFUSE_SHARE:
            raise OverheadError(
                f"{self._what()}, over the {100 * OVERHEAD_REFUSE_SHARE:.0f}% limit: its timings would "
                f"measure this machine, not the model; start a new run with a lower --max-concurrency "
                f"(now {self.max_concurrency})"
            )
        return self._warning()

    def finish(self) -> str | None:
        """The warning of a run too short to be judged while it ran."""
        return self._warning()

    def _warning(self) -> str | None:
        if self.warned or self.share <= OVERHEAD_WARN_SHARE:
            return None
        self.warned = True
        return (
            f"{self._what()}, over {100 * OVERHEAD_WARN_SHARE:.0f}%: wall-clock and speedup include it; "
            f"lower --max-concurrency (now {self.max_concurrency}) to measure the model"
        )
