"""Which runs of a report can be ranked against each other, and what to warn about.

Two runs compare only when they ran the same tasks under the same conditions: a model's success
on another suite, on a subset of the tasks, on the real clock against the virtual one, under
another seed (other data and latencies), another inference profile, other tool latencies or
runtime policies, or other prompts says nothing about which model is better. The report ranks
such runs in separate groups (one table each) and says why, on the page and in `fanout report`'s
output, instead of interleaving numbers that do not compare.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from string import ascii_uppercase

from ..timing import DEFAULT_PROFILE
from .load import RunData

RunKey = tuple[str, str, str]


def _tasks(r: RunData) -> str:
    ids = "\n".join(sorted(r.config.task_ids))
    n = len(r.config.task_ids)
    return f"{n} task{'s' if n != 1 else ''} ({hashlib.sha256(ids.encode()).hexdigest()[:8]})"


def _timing(r: RunData) -> str:
    """How model turns were timed: a named profile or measured. A reference policy run without
    `--inference-profile` is timed by the default profile, exactly as one that names it: the two
    ran under the same conditions, so they must not be told apart (nor ranked apart)."""
    label = r.config.runtime.profile_label
    if label:
        return label
    return DEFAULT_PROFILE if r.config.model.startswith("policy/") else "measured"


def _latency(r: RunData) -> str:
    rt = r.config.runtime
    text = rt.latency_profile or "default"
    return text + (f" x{rt.latency_scale:g}" if rt.latency_scale != 1.0 else "")


def _policies(r: RunData) -> str:
    rt = r.config.runtime
    parts = [
        f"cap {rt.fan_out_cap if rt.fan_out_cap is not None else 'none'}",
        f"timeout {rt.tool_timeout:g} s" if rt.tool_timeout is not None else "no timeout",
        f"hedge {rt.hedge_after:g} s" if rt.hedge_after is not None else "no hedging",
        f"max {rt.max_turns} turns",
    ]
    return ", ".join(parts)


# The runtime settings the aspects above describe in their own words; every other RuntimeSettings
# field is compared as it is (`_other_settings`), so a setting declared later separates runs
# without an edit here.
DESCRIBED_SETTINGS = frozenset(
    ("seed", "clock", "inference_profile", "latency_scale", "latency_profile")
    + ("fan_out_cap", "tool_timeout", "hedge_after", "max_turns")
)


def _other_settings(r: RunData) -> str:
    rt = r.config.runtime
    return ", ".join(
        f"{name} {rt.text(name, getattr(rt, name))}"
        for name in type(rt).model_fields
        if name not in DESCRIBED_SETTINGS
    )


@dataclass(frozen=True)
class Aspect:
    name: str
    of: Callable[[RunData], str]
    separates: bool = True  # runs that differ are ranked apart; else only a warning
    # Compared only between runs equal on this: the prompt hash covers the prompts rendered for
    # the run's own tasks, so runs of other task sets always differ in it and say nothing new.
    within: Callable[[RunData], str] | None = None


ASPECTS: tuple[Aspect, ...] = (
    Aspect("suite", lambda r: r.config.suite),
    Aspect("suite version", lambda r: r.config.suite_hash),
    Aspect("tasks", _tasks),
    Aspect("clock", lambda r: r.config.runtime.clock),
    Aspect("seed", lambda r: str(r.config.runtime.seed)),
    Aspect("inference profile", _timing),
    Aspect("tool latency", _latency),
    Aspect("runtime policies", _policies),
    Aspect("other runtime settings", _other_settings),
    Aspect("prompts", lambda r: r.config.prompt_hash, within=_tasks),
    Aspect("epochs", lambda r: str(r.config.epochs), separates=False),
)


@dataclass
class Comparability:
    groups: dict[RunKey, str] = field(default_factory=dict)  # empty when every run compares
    captions: dict[str, str] = field(default_factory=dict)  # group -> what its runs share
    warnings: list[str] = field(default_factory=list)


def _count(n: int) -> str:
    return f"{n} run{'s' if n != 1 else ''}"


def comparability(runs: list[RunData]) -> Comparability:
    """Group the runs by every separating aspect; warn about each aspect that differs."""
    out = Comparability()
    differing: list[Aspect] = []
    for a in ASPECTS:
        values: dict[str, int] = {}
        for r in runs:
            v = a.of(r)
            values[v] = values.get(v, 0) + 1
        if len(values) < 2:
            continue
        if a.within is not None:
            seen: dict[str, set[str]] = {}
            for r in runs:
                seen.setdefault(a.within(r), set()).add(a.of(r))
            if all(len(v) < 2 for v in seen.values()):
                continue  # they differ only where the other aspect already separates them
        differing.append(a)
        listed = "; ".join(f"{v}: {_count(n)}" for v, n in sorted(values.items()))
        effect = "ranked in separate groups" if a.separates else "their intervals differ in width"
        out.warnings.append(f"the runs differ in {a.name} ({listed}): {effect}")
    separating = [a for a in differing if a.separates]
    if not separating:
        return out
    keys: dict[tuple[str, ...], list[RunData]] = {}
    for r in runs:
        keys.setdefault(tuple(a.of(r) for a in separating), []).append(r)
    for i, (k, members) in enumerate(sorted(keys.items())):
        letter = ascii_uppercase[i % 26] + (str(i // 26) if i >= 26 else "")
        out.captions[letter] = " · ".join(f"{a.name}: {v}" for a, v in zip(separating, k, strict=True))
        for r in members:
            out.groups[r.key] = letter
    return out
