"""Time: inference profiles, tool-latency settings, batch schedules and episode time metrics.

All of it is arithmetic over a trace, so the runtime, the scorer and `whatif` share it and a
virtual-clock run can be recomputed bit for bit.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from mock_tools import LATENCY_PROFILES, LatencyModel, Tool


class InferenceProfile(BaseModel):
    """Virtual model latency: `ttft_s + uncached_prompt_tokens / prefill_tps + completion_tokens / decode_tps`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
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


@dataclass(frozen=True)
class LatencySettings:
    seed: int = 0
    scale: float = 1.0
    profile: str | None = None  # a LATENCY_PROFILES name replacing every tool's model

    def model_for(self, tool: Tool, overrides: dict[str, LatencyModel] | None = None) -> LatencyModel:
        if self.profile and self.profile != "default":
            if self.profile not in LATENCY_PROFILES:
                raise ValueError(
                    f"unknown latency profile {self.profile!r}; known: {', '.join(LATENCY_PROFILES)}"
                )
            replaced = LATENCY_PROFILES[self.profile]
            if replaced is not None:
                return replaced
        if overrides and tool.name in overrides:
            return overrides[tool.name]
        return tool.latency


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


def effective(sample: float, scale: float, timeout: float | None) -> tuple[float, bool]:
    """Duration after scaling and the timeout cap, and whether it timed out."""
    d = sample * scale
    if timeout is not None and d > timeout:
        return timeout, True
    return d, False
