"""Latency models for mock tools.

Every sample is a pure function of (seed, task, tool, canonical args, attempt) so that a
run, its resume, the ground-truth schedule and a later what-if recomputation all see the
same durations without storing a random stream.
"""

from __future__ import annotations

import hashlib
import math
from statistics import NormalDist
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_NORMAL = NormalDist()
MAX_SAMPLE_S = 3600.0  # a lognormal's far tail (sigma 5, a one-in-10**19 draw) stops at an hour


def unit_hash(*parts: object) -> float:
    """A uniform number in (0, 1) derived from `parts` (stable across processes and platforms)."""
    h = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return (int.from_bytes(h, "big") + 0.5) / 2.0**64


class LatencyModel(BaseModel):
    """`fixed`: always `median_s`. `lognormal`: median `median_s`, log-sd `sigma`.

    Either may add a straggler: with probability `straggler_p` the sample is multiplied by
    `straggler_mult` (the heavy tail that bounds a fan-out by its slowest call).
    """

    # Task files set these: bounded so a sample is a finite number of seconds a real clock can
    # wait out (sigma 1e308 overflowed math.exp into a traceback; median .inf hung --clock real).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["fixed", "lognormal"] = "lognormal"
    median_s: float = Field(0.2, ge=0, le=600)
    sigma: float = Field(0.25, ge=0, le=5)
    straggler_p: float = Field(0.0, ge=0, le=1)
    straggler_mult: float = Field(1.0, ge=1, le=1000)

    def sample(self, seed: int, task: str, tool: str, canon_args: str, attempt: int = 0) -> float:
        if self.kind == "fixed":
            value = self.median_s
        else:
            u = unit_hash("lat", seed, task, tool, canon_args, attempt)
            value = self.median_s * math.exp(self.sigma * _NORMAL.inv_cdf(u))
        if self.straggler_p > 0:
            u2 = unit_hash("strag", seed, task, tool, canon_args, attempt)
            if u2 < self.straggler_p:
                value *= self.straggler_mult
        return min(value, MAX_SAMPLE_S)

    def is_straggler(self, seed: int, task: str, tool: str, canon_args: str, attempt: int = 0) -> bool:
        return (
            self.straggler_p > 0
            and unit_hash("strag", seed, task, tool, canon_args, attempt) < self.straggler_p
        )


def fixed(seconds: float) -> LatencyModel:
    return LatencyModel(kind="fixed", median_s=seconds, sigma=0.0)


def lognormal(
    median_s: float, sigma: float = 0.25, straggler_p: float = 0.0, straggler_mult: float = 1.0
) -> LatencyModel:
    return LatencyModel(
        kind="lognormal",
        median_s=median_s,
        sigma=sigma,
        straggler_p=straggler_p,
        straggler_mult=straggler_mult,
    )


# Named profiles a run can apply with --latency-profile: they replace every tool's model.
LATENCY_PROFILES: dict[str, LatencyModel | None] = {
    "default": None,  # each tool's own model
    "uniform": fixed(0.3),
    "fast-tools": lognormal(0.05, 0.2),
    "slow-tools": lognormal(1.0, 0.4),
    "heavy-tail": lognormal(0.3, 0.5, straggler_p=0.1, straggler_mult=10.0),
}
