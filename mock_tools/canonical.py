"""Canonical forms of argument values: one JSON text per meaning.

Used for latency sampling keys, duplicate detection and argument matching, so all three agree
on when two calls are "the same".
"""

from __future__ import annotations

import json
import math
from typing import Any


def normalize(value: Any) -> Any:
    """Strings trimmed and case-folded, integral floats as ints, dict key order ignored
    (sorted on dump), list order kept. Booleans stay booleans (True is not 1)."""
    if isinstance(value, str):
        return value.strip().casefold()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return value
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    return str(value)


# `json.dumps` with these options builds an encoder per call; one instance gives the same text.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def canonical_json(value: Any) -> str:
    """Exact canonical JSON (no normalisation of strings): stable key order, no spaces."""
    return _CANONICAL.encode(value)


def normalized_key(value: Any) -> str:
    return canonical_json(normalize(value))
