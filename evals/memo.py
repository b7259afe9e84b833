"""The size bound every memo of a run shares.

A run keeps what repeats across epochs once (arguments parsed per text, argument matches per
text, classifications per call sequence, answer checks per answer, token counts per text): each
memo is bounded in entries, and its keys are model output. This bounds their size as well, so a
model that sends megabyte arguments or answers is worked out afresh each time instead of making
the memos hold gigabytes."""

from __future__ import annotations

TEXT_MAX = 4096  # characters of model output one memo entry may hold


def keeps(text: str | None) -> bool:
    """Whether a memo may keep an entry holding `text`."""
    return text is None or len(text) <= TEXT_MAX
