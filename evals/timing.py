"""Time: inference profiles, tool-latency settings, batch schedules and episode time metrics.

All of it is arithmetic over a trace, so the runtime, the scorer and `whatif` share it and a
virtual-clock run can be recomputed bit for bit.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from mock_tools import LatencyModel, Tool

    from .settings import RuntimeSettings


class InferenceProfile(BaseModel):
    """Virtual model latency: `ttft_s + uncached_prompt_tokens / prefill_tps + completion_tokens / decode_tps`."""

    # An infinite rate is written as an episode line writes it (`trace.LINE_JSON`).
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")
    name: str = "custom"
    ttft_s: float = Field(ge=0)
    prefill_tps: float = Field(gt=0)
    decode_tps: float = Field(gt=0)

    def latency(self, prompt_tokens: int, cached_tokens: int, completion_tokens: int) -> float:
        uncached = max(0, prompt_tokens - cached_tokens)
        return self.ttft_s + uncached / self.prefill_tps + completion_tokens / self.decode_tps


INFERENCE_PROFILES: dict[str, InferenceProfile] = {
    # A small model on a fast inference stack.
    "fast": InferenceProfile(name="fast", ttft_s=0.15, prefill_tps=20000, decode_tps=250),
    # A frontier model through a public API on a normal day.
    "typical": InferenceProfile(name="typical", ttft_s=0.5, prefill_tps=4000, decode_tps=80),
    # A large reasoning model or a loaded endpoint.
    "slow": InferenceProfile(name="slow", ttft_s=1.2, prefill_tps=1500, decode_tps=35),
}


def get_profile(name: str | None) -> InferenceProfile | None:
    if name is None or name == "measured":
        return None
    try:
        return INFERENCE_PROFILES[name]
    except KeyError:
        raise ValueError(
            f"unknown inference profile {name!r}; known: {', '.join(INFERENCE_PROFILES)}"
        ) from None


def schedule(durations: list[float], cap: int | None) -> tuple[list[float], float]:
    """Start offsets of calls run in issue order on `cap` slots (None = unbounded), and the makespan."""
    if not durations:
        return [], 0.0
    if cap is None or cap >= len(durations):
        return [0.0] * len(durations), max(durations)
    slots = [0.0] * cap
    starts = []
    end = 0.0
    for d in durations:
        s = heapq.heappop(slots)
        starts.append(s)
        heapq.heappush(slots, s + d)
        end = max(end, s + d)
    return starts, end


# -- shared episode arithmetic ----------------------------------------------------------------
# The runtime (virtual clock), the scorer and `whatif` all go through the functions below, so a
# virtual-clock episode re-timed with its own settings reproduces the stored floats bit for bit.

DEFAULT_PROFILE = "typical"  # used for turns whose model reported no latency and no profile was set


class CallTime(NamedTuple):
    duration_s: float
    timed_out: bool
    hedged: bool


def request_s(settings: RuntimeSettings, sample: float) -> float:
    """How long one request to a tool takes under the run's settings, from its raw latency sample:
    the one place a setting that stretches or shifts tool latency acts. The virtual arithmetic
    (`time_call`, so the runtime, the reference schedules and `whatif`) and the real clock's
    waits (`clocks.RealClock`) both read it, so the two clocks cannot disagree on such a setting."""
    return sample * settings.latency_scale


def call_time(
    request: float,
    timeout: float | None,
    hedge_after: float | None = None,
    hedge_request: float | None = None,
) -> CallTime:
    """A call's effective duration from its requests' latencies (`request_s`) under timeout and
    hedging.

    A hedge fires when the first request has not answered `hedge_after` seconds in (and the call
    has not timed out by then); the hedge's own latency is `hedge_request` (from the next
    attempt's raw sample), and the first answer wins: min(d0, hedge_after + d1). The timeout
    bounds the logical call from its start, hedge included. `hedge_request=None` means the call
    may not be hedged (write tools, calls without a tool).
    """
    d = request
    hedged = False
    if (
        hedge_after is not None
        and hedge_request is not None
        and d > hedge_after
        and (timeout is None or hedge_after < timeout)
    ):
        hedged = True
        d = min(d, hedge_after + hedge_request)
    if timeout is not None and d > timeout:
        return CallTime(timeout, True, hedged)
    return CallTime(d, False, hedged)


class Samples(NamedTuple):
    """A call's raw latency samples, as a trace records them."""

    sample_s: float  # attempt `attempt`'s sample
    hedge_sample_s: float | None  # attempt `attempt + 1`'s: the hedge's, for a call that may be hedged


class CallTiming(NamedTuple):
    sample_s: float
    hedge_sample_s: float | None  # None: the call may not be hedged (a write, hedging off)
    straggler: bool | None  # the sample drew its straggler multiplier (None: samples were given)
    duration_s: float
    timed_out: bool
    hedged: bool


def time_call(
    settings: RuntimeSettings,
    tool: Tool | None,
    task_id: str,
    canon_args: str,
    attempt: int,
    overrides: Mapping[str, LatencyModel] | None = None,
    recorded: Samples | None = None,
) -> CallTiming:
    """The latency samples and the timing of one call under `settings`: the one definition the
    runtime, the scorer's ideal schedule and `whatif` share, so their floats agree to the bit.

    The call's `attempt` (earlier identical calls of the episode) draws sample `attempt` of the
    tool's latency model under `settings` (seed, latency profile, the task's `overrides`); a call
    that may be hedged (hedging on, a read tool: a write is never duplicated) also draws its
    hedge's, sample `attempt + 1`. `recorded` samples (a stored trace's) are used instead of
    drawing; a missing recorded hedge sample is drawn. `tool` may be None only with `recorded`
    samples and hedging off (a what-if whose suite is gone)."""
    if tool is None and (recorded is None or settings.hedge_after is not None):
        raise ValueError("drawing samples, or telling a read from a write to hedge it, needs the tool")
    straggler = None
    if recorded is None:
        assert tool is not None
        lm = settings.latency_model(tool, overrides)
        sample = lm.sample(settings.seed, task_id, tool.name, canon_args, attempt)
        straggler = lm.is_straggler(settings.seed, task_id, tool.name, canon_args, attempt)
        hedge = None
    else:
        sample, hedge = recorded
    if settings.hedge_after is None or tool is None or tool.write:
        hedge = None
    elif hedge is None:
        lm = settings.latency_model(tool, overrides)
        hedge = lm.sample(settings.seed, task_id, tool.name, canon_args, attempt + 1)
    hedge_request = None if hedge is None else request_s(settings, hedge)
    ct = call_time(request_s(settings, sample), settings.tool_timeout, settings.hedge_after, hedge_request)
    return CallTiming(sample, hedge, straggler, ct.duration_s, ct.timed_out, ct.hedged)


def batch_times(
    now: float, durations: list[float], cap: int | None
) -> tuple[list[float], list[float], float]:
    """Absolute start and end of each call of a batch starting at `now`, and the batch duration.

    A hedge rides on its call's fan-out slot: the cap bounds logical calls in flight, not requests.
    """
    offsets, _ = schedule(durations, cap)
    starts = [now + s for s in offsets]
    ends = [s + d for s, d in zip(starts, durations, strict=True)]
    return starts, ends, max(ends, default=now) - now


def turn_latency(
    profile: InferenceProfile | None,
    measured: float | None,
    prompt_tokens: int,
    cached_tokens: int,
    completion_tokens: int,
) -> float:
    """Virtual latency of one model turn: the profile's when one is set, else the measured latency,
    else (a model that reports none, e.g. a reference policy) the default profile's."""
    if profile is None and measured is not None:
        return measured
    p = profile or INFERENCE_PROFILES[DEFAULT_PROFILE]
    return p.latency(prompt_tokens, cached_tokens, completion_tokens)


def episode_time_metrics(
    model_latencies: list[float],
    batch_durations: list[float],
    call_durations: list[float],
    calls_per_turn: list[int],
    wall_s: float,
    overhead_s: float | None = None,
) -> dict:
    """DESIGN.md section 5 metrics of one episode (ideal_wall_s aside: it needs the ground truth).

    `overhead_s` is given on the real clock: there the serial timeline is the measured wall with
    each measured batch replaced by its calls run one after another, so the runtime's own overhead
    (already inside the measured model and batch times) is counted once, as in `wall_s`.
    """
    if overhead_s is None:
        serial = sum(model_latencies) + sum(call_durations)
    else:
        serial = wall_s - sum(batch_durations) + sum(call_durations)
    rejoin = [model_latencies[i] for i in range(1, len(model_latencies)) if calls_per_turn[i - 1] >= 2]
    return {
        "wall_s": wall_s,
        "serial_wall_s": serial,
        "model_time_s": sum(model_latencies),
        "tool_time_s": sum(batch_durations),
        "rejoin_s": sum(rejoin) / len(rejoin) if rejoin else None,
        "mean_model_s": sum(model_latencies) / len(model_latencies) if model_latencies else 0.0,
    }
