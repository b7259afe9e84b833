"""Does an answer check check anything? The rule behind the validator's answer lint and the values
importers pick for their answer checks.

An answer check passes when the final answer contains certain values. A value checks nothing when
an answer can hold it without any tool result: it is in the prompt already (an answer that repeats
the question passes; matched case-insensitively, as a whole word), it is empty, a boolean (`True`,
`no`, `none`), or a generic word: a call's status or a kind label that every result of its tool
carries and almost any answer contains (`GENERIC_WORDS`: `success`, `ok`, `artist`, ...). A state
that varies (`cloudy`, `open`) or a name is a real check, and so is a declared enumerated `state`
even when the prompt names one of its values as a condition ("if it fell", "anything other than
healthy"): the tool's result picks one value of several, and the check wants that one, not the
word the question used. A task's check counts when at least one
`contains` value counts, or one `contains_any` group whose every alternative counts (a group passes
on any one of them, so one empty or generic alternative voids it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "none", "null", "n/a"})
GENERIC_WORDS = frozenset(
    "success successful succeeded ok okay done complete completed result results status type kind "
    "value values item items data record records entry object name id artist user unknown".split()
)


def render(value: Any) -> str:
    """A value as the answer check renders it (an integral float as an int)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def why_not_a_check(value: Any, prompt: str) -> str | None:
    """None when `value` is something an answer can only know from a tool result; else why not."""
    text = render(value)
    if not text:
        return "empty"
    if isinstance(value, bool) or text.lower() in BOOLEAN_WORDS:
        return "a boolean"
    if text.lower() in GENERIC_WORDS:
        return "a generic word"
    if getattr(value, "kind", None) == "state":
        return None  # one value of an enumeration, picked by the tool's result
    if re.search(r"(?<![A-Za-z0-9])" + re.escape(text) + r"(?![A-Za-z0-9])", prompt, re.IGNORECASE):
        return "in the prompt"
    return None


def counts_as_check(value: Any, prompt: str) -> bool:
    return why_not_a_check(value, prompt) is None


def answer_problem(prompt: str, contains: Sequence[str], contains_any: Sequence[Sequence[str]]) -> str | None:
    """None when the check has at least one value only a tool result gives; else a one-line reason
    listing what each value is (for a check that has values at all)."""
    if not contains and not contains_any:
        return None
    if any(counts_as_check(v, prompt) for v in contains):
        return None
    if any(group and all(counts_as_check(v, prompt) for v in group) for group in contains_any):
        return None
    seen: dict[str, str] = {}
    for v in [*contains, *(x for g in contains_any for x in g)]:
        why = why_not_a_check(v, prompt)
        if why and render(v) not in seen:
            seen[render(v)] = why
    shown = ", ".join(f"{v!r} is {why}" for v, why in list(seen.items())[:6])
    return f"the answer check has no value the model can only know from a tool result: {shown}"
