"""Deterministic fault injection: which request gets which fault is a pure function of the seed,
the request and how many times that same request has been seen before.

Keying on the repeat count (not on arrival order across different requests) keeps the fault
sequence reproducible when episodes run concurrently, and lets a client's retry of a faulted
request get a fresh draw, so retries can succeed. `max_per_request` bounds how many times one
request can fail in a row, so a client with that many retries always completes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, field_validator

FAULT_KINDS = ("429", "500", "503", "529", "slow", "truncated", "malformed", "drop")
STATUS_FAULTS = {"429": 429, "500": 500, "503": 503, "529": 529}


class FaultConfig(BaseModel):
    """What fraction of requests misbehave, and how."""

    model_config = ConfigDict(extra="forbid")

    rate: float = Field(0.0, ge=0.0, le=1.0)  # fraction of requests that get a fault
    seed: int = 0
    kinds: list[str] = Field(default_factory=lambda: list(FAULT_KINDS))
    retry_after_s: float = Field(0.05, ge=0.0)  # value sent in Retry-After on 429/503/529
    slow_s: float = Field(0.2, ge=0.0)  # extra delay of a "slow" response
    max_per_request: int = Field(2, ge=0)  # faults one identical request can get before it is served

    @field_validator("kinds")
    @classmethod
    def _known(cls, kinds: list[str]) -> list[str]:
        unknown = [k for k in kinds if k not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kind(s) {', '.join(unknown)}; known: {', '.join(FAULT_KINDS)}")
        if not kinds:
            raise ValueError(f"kinds must name at least one of {', '.join(FAULT_KINDS)}")
        return kinds


@dataclass(frozen=True)
class FaultEvent:
    key: str  # short hash of (path, canonical body)
    seen: int  # 0 for the first time this request arrived
    kind: str | None  # None: served normally


def canonical_body(body: bytes) -> bytes:
    """Key order and whitespace do not make two requests different; unparseable bodies count as-is."""
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return body


def _unit(*parts: object) -> float:
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


class FaultPlan:
    """Draws the fault (or none) of each request and keeps the log of what was drawn."""

    def __init__(self, config: FaultConfig | None):
        self.config = config or FaultConfig()
        self._seen: dict[str, int] = {}
        self._faulted: dict[str, int] = {}
        self._lock = threading.Lock()
        self.log: list[FaultEvent] = []

    def draw(self, path: str, body: bytes) -> str | None:
        cfg = self.config
        key = hashlib.sha256(path.encode() + b"\n" + canonical_body(body)).hexdigest()[:16]
        with self._lock:
            seen = self._seen.get(key, 0)
            self._seen[key] = seen + 1
            kind = None
            if cfg.rate > 0 and self._faulted.get(key, 0) < cfg.max_per_request:
                if _unit(cfg.seed, key, seen, "fault?") < cfg.rate:
                    kind = cfg.kinds[int(_unit(cfg.seed, key, seen, "kind") * len(cfg.kinds))]
                    self._faulted[key] = self._faulted.get(key, 0) + 1
            self.log.append(FaultEvent(key, seen, kind))
        return kind

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for ev in self.log:
            if ev.kind:
                out[ev.kind] = out.get(ev.kind, 0) + 1
        return out
