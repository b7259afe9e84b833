"""Does an answer check check anything? The rule behind the validator's answer lint and the values
importers pick for their answer checks.

An answer check passes when the final answer contains certain values. A value checks nothing when
an answer can hold it without any tool result: it is in the prompt already (an answer that repeats
the question passes), it is a boolean (`True`, `no`), or it is a generic word (one lower-case word
such as `success`, `artist` or `open`, which almost any answer about the task contains). A task's
check counts when at least one `contains` value counts, or one `contains_any` group whose every
alternative counts (a group passes on any one of them, so one generic alternative voids it).
"""

from __future__ import annotations

import re
from typing import Any

BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "none", "null", "n/a", "ok"})
_GENERIC = re.compile(r"^[a-z]+$")


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
    if _GENERIC.match(text):
        return "a generic word"
    if re.search(r"(?<![A-Za-z0-9])" + re.escape(text) + r"(?![A-Za-z0-9])", prompt, re.IGNORECASE):
        return "in the prompt"
    return None


def counts_as_check(value: Any, prompt: str) -> bool:
    return why_not_a_check(value, prompt) is None


def answer_problem(prompt: str, contains: list[str], contains_any: list[list[str]]) -> str | None:
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
    return (
        "the answer check has no value the model can only know from a tool result "
        f"(each contains_any group needs one in every alternative): {shown}"
    )
