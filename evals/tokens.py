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


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)  # one, not one per call


def estimate_json(obj: Any) -> int:
    try:
        return estimate_text(_COMPACT.encode(obj))
    except (RecursionError, ValueError):  # nested too deep to dump, or circular: count instead
        return (_json_length(obj) + 3) // 4


def _json_length(obj: Any, limit: int = 10_000_000) -> int:
    """About the length of `obj` as compact JSON, iteratively (any depth; a cycle stops at `limit`)."""
    total, stack = 0, [obj]
    while stack and total < limit:
        v = stack.pop()
        if isinstance(v, dict):
            total += 2 + 2 * len(v)
            stack.extend(v.values())
            total += sum(len(str(k)) + 2 for k in v)
        elif isinstance(v, list | tuple):
            total += 2 + len(v)
            stack.extend(v)
        else:
            total += len(str(v)) + (2 if isinstance(v, str) else 0)
    return total


def estimate_tools(tool_specs: list[dict]) -> int:
    return estimate_json(tool_specs) if tool_specs else 0
