"""A fixture file that is JSON is read by the json module only when YAML would read the same data."""

from __future__ import annotations

import json

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from evals.fixtures import NOT_JSON, json_as_yaml

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
_data = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(_data, st.booleans(), st.sampled_from([None, 2]))
def test_json_fast_path_reads_what_yaml_reads(data: object, ascii_only: bool, indent: int | None) -> None:
    text = json.dumps({"tasks": [data]}, ensure_ascii=ascii_only, indent=indent)
    fast = json_as_yaml(text)
    if fast is not NOT_JSON:
        assert fast == yaml.safe_load(text)


def test_yaml_only_floats_and_escapes_fall_back() -> None:
    # YAML 1.1 reads 1e5 as a string; JSON as a float: the fast path must leave it to YAML.
    assert json_as_yaml('{"a": 1e5}') is NOT_JSON
    assert json_as_yaml('{"a": "x\\/y"}') is NOT_JSON
    assert json_as_yaml('{"a": NaN}') is NOT_JSON
    assert json_as_yaml("a: 1") is NOT_JSON
    assert json_as_yaml('{"a": [1, 2.5, "t"]}') == {"a": [1, 2.5, "t"]}
