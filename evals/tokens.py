"""Deterministic, offline token estimates for responses that carry no usage.

Four characters per token is the usual rule of thumb for English and JSON under BPE tokenisers;
it needs no downloaded vocabulary (tiktoken fetches its encodings at run time) and is stable
across platforms. Estimates are flagged `usage_estimated` in the trace.
"""

from __future__ import annotations

import json
from typing import Any

MESSAGE_OVERHEAD = 4


def estimate_text(text: str | None) -> int:
    if not text:
        return 0
    return (len(text) + 3) // 4


def estimate_json(obj: Any) -> int:
    return estimate_text(json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=str))


def estimate_tools(tool_specs: list[dict]) -> int:
    return estimate_json(tool_specs) if tool_specs else 0
