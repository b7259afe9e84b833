"""evals/tokens.py: offline token estimates."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from evals import tokens
from evals.memo import TEXT_MAX
from evals.tokens import estimate_json, estimate_text


@given(st.text(max_size=6000))
def test_a_text_is_estimated_as_its_compact_json_whether_memoised_or_not(text):
    tokens._TEXT_TOKENS.clear()  # other tests of this process may have filled it
    expected = estimate_text(json.dumps(text, separators=(",", ":"), ensure_ascii=False))
    assert estimate_json(text) == expected
    assert estimate_json(text) == expected  # again, from the memo when it was kept
    assert (text in tokens._TEXT_TOKENS) == (len(text) <= TEXT_MAX)
