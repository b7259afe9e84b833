"""Argument matching: when does a model's call count as a ground-truth node's call?

`default`: values JSON-equal after normalisation (strings trimmed and case-folded, int/float
compared numerically, dict key order ignored, list order kept). An argument the node sets may be
given as any accepted alternative, or left out if it is omissible or the tool's default equals
the expected value. An argument the node does not set must be in the tool's schema and equal
its default or be declared acceptable.
`exact`: like default but strings must match exactly (no trimming or case-folding).
`bfcl`: BFCL's AST checker rules (see `bfcl_normalize` and docs/importing.md): strings compared
after removing spaces and the punctuation `,./-_*^`, lower-casing and `'` -> `"`; numbers keep their
type (an int is accepted for a float, not the reverse) at the top level and as a list's items, and
compare numerically inside dicts and below the first level of lists, as BFCL's `==` does; an argument the node does not list is unexpected, and a missing one must be omissible
(BFCL's `""`), whatever the tool's default.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from mock_tools.canonical import canonical_json, normalize

from .memo import keeps

_BFCL_STRIP = re.compile(r"[ ,./\-_*^]")


def exact_normalize(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): exact_normalize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [exact_normalize(v) for v in value]
    return value


def bfcl_normalize(value: Any, _numeric: bool = False, _in_list: bool = False) -> Any:
    """BFCL's `standardize_string` on every string; ints and floats stay apart at the top level and
    in a list's own items (its type check, which goes one list level deep), and compare as numbers
    (10.0 == 10) under a dict, whose values its `dict_checker` compares with Python `==`, and below
    the first level of a list, which its `list_checker` compares with `==` unchecked."""
    if isinstance(value, str):
        return _BFCL_STRIP.sub("", value).lower().replace("'", '"')
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, float) and _numeric and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, dict):
        return {str(k): bfcl_normalize(v, True) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [bfcl_normalize(v, _numeric or _in_list, True) for v in value]
    return value


def _mixes_numbers(v: list) -> bool:
    """Whether a list holds both an int and an integral float (booleans are not numbers)."""
    kinds = {type(x) for x in v if type(x) is int or (type(x) is float and x.is_integer())}
    return len(kinds) == 2


NORMALIZERS = {"default": normalize, "exact": exact_normalize, "bfcl": bfcl_normalize}


def key_of(value: Any, mode: str = "default") -> str:
    return canonical_json(NORMALIZERS[mode](value))


_MISSING = object()
_SCALAR_KEYS: dict[str, dict[tuple[type, Any], str]] = {mode: {} for mode in NORMALIZERS}
_SCALAR_KEYS_MAX = 100_000
_BY_TEXT_MAX = 64


class NodeMatcher:
    """Precomputed acceptable values of one resolved node, so a match is a few dict lookups."""

    __slots__ = (
        "allowed",
        "omissible",
        "defaults",
        "default_like",
        "props",
        "mode",
        "norm",
        "extra_ok",
        "_by_text",
    )

    def __init__(
        self,
        args: dict,
        accept: dict[str, list[Any]] | None = None,
        omissible: list[str] | None = None,
        defaults: dict | None = None,
        props: set[str] | None = None,
        mode: str = "default",
        default_aliases: dict[str, list[Any]] | None = None,
    ):
        self.mode = mode
        self.norm = NORMALIZERS[mode]
        accept = accept or {}
        self.allowed: dict[str, set[str]] = {}
        for k, v in args.items():
            self.allowed[k] = {self._key(v)} | {self._key(x) for x in accept.get(k, [])}
        # Arguments the node does not set but the model may add with these values.
        self.extra_ok: dict[str, set[str]] = {
            k: {self._key(x) for x in alts} for k, alts in accept.items() if k not in args
        }
        self.omissible = set(omissible or [])
        self.defaults = {k: self._key(v) for k, v in (defaults or {}).items()}
        # Values a tool declares to mean its default (get_weather's date "today" = no date).
        self.default_like: dict[str, set[str]] = {k: {d} for k, d in self.defaults.items()}
        for k, alts in (default_aliases or {}).items():
            self.default_like.setdefault(k, set()).update(self._key(x) for x in alts)
        self.props = props
        self._by_text: dict[str, bool] = {}

    def _key(self, v: Any) -> str:
        t = type(v)
        if t is str or t is int:  # most argument values: memoised per mode (floats: -0.0 == 0.0)
            memo = _SCALAR_KEYS[self.mode]
            k = memo.get((t, v))
            if k is None:
                k = canonical_json(self.norm(v))
                if len(memo) < _SCALAR_KEYS_MAX and (t is int or keeps(v)):
                    memo[(t, v)] = k
            return k
        return canonical_json(self.norm(v))

    def matches(self, call_args: Any) -> bool:
        if not isinstance(call_args, dict):
            return False
        for _ in self.problems(call_args):
            return False
        return True

    def matches_text(self, text: str, call_args: Any) -> bool:
        """`matches(call_args)` for arguments parsed from `text` (a recorded call's arguments are a
        function of its text): memoised per text, because the same texts come back epoch after
        epoch and a run classifies every call against every ready node of its tool. At most
        `_BY_TEXT_MAX` texts are kept per node, none longer than `memo.TEXT_MAX`."""
        memo = self._by_text
        hit = memo.get(text)
        if hit is None:
            hit = self.matches(call_args)
            if len(memo) < _BY_TEXT_MAX and keeps(text):
                memo[text] = hit
        return hit

    def problems(self, call_args: dict) -> Iterator[tuple[str, str, Any]]:
        """Why `call_args` does not match, one (kind, argument, value sent) at a time: `missing`,
        `value` (not an accepted value), `unknown` (not a parameter of the tool), `unlisted` (BFCL:
        an argument the answer does not list) or `not_default` (an argument the node does not set,
        sent with another value than the tool's default). The one definition of a match: `matches`
        stops at the first, `explain.arg_diffs` words each."""
        for k, allowed in self.allowed.items():
            v = call_args.get(k, _MISSING)
            if v is _MISSING:
                if k in self.omissible:
                    continue
                d = self.defaults.get(k)
                if d is not None and d in allowed and self.mode != "bfcl":  # BFCL: only "" may be left out
                    continue
                yield "missing", k, None
            elif self._key(v) not in allowed:
                # BFCL promotes an int to float where a float is expected (top level only).
                if self.mode == "bfcl" and type(v) is int and self._key(float(v)) in allowed:
                    continue
                # BFCL passes int items in a float list answered in ints, then compares with `==`:
                # the importer accepts both forms of such a list, so any mix of the two matches.
                if self.mode == "bfcl" and type(v) is list and _mixes_numbers(v):
                    as_floats = [float(x) if type(x) is int else x for x in v]
                    as_ints = [int(x) if type(x) is float and x.is_integer() else x for x in v]
                    if self._key(as_floats) in allowed and self._key(as_ints) in allowed:
                        continue
                yield "value", k, v
        for k, v in call_args.items():
            if k in self.allowed:
                continue
            if self.props is not None and k not in self.props:
                yield "unknown", k, v
                continue
            kv = self._key(v)
            if kv in self.extra_ok.get(k, ()):
                continue
            if self.mode == "bfcl":
                # BFCL: a parameter the answer does not list is unexpected, even when equal to the default.
                yield "unlisted", k, v
            elif kv not in self.default_like.get(k, ()):
                yield "not_default", k, v
