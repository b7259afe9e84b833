"""evals/tokens.py: offline token estimates."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from evals.tokens import estimate_json, estimate_text


@given(st.text(max_size=6000))
def test_a_text_is_estimated_as_its_compact_json(text):
    assert estimate_json(text) == estimate_text(json.dumps(text, separators=(",", ":"), ensure_ascii=False))
