"""Plain references (`{{ a.b[0] }}`) skip jinja2 at load: only where jinja2 would accept them, with
the same references and the same values, and a failing lookup still worded by jinja2."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import meta

from evals import templating as T

PIECES = [
    "a", "b_1", "x", "not", "in", "if", "true", "None", "é", "a²", ".", "[0]", "[01]", "[-1]",
    "['k']", '["k"]', " ", "[ 2 ]", ".b", ".if", "[1.5]", "[0x1]", "[1_0]", "__class__", "._x", "|", "(", "'",
]  # fmt: skip


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=6))
def test_the_fast_path_takes_only_what_jinja2_accepts_with_the_same_references(parts):
    expr = "".join(parts)
    s = "{{ " + expr + " }}"
    path = T._plain_path(s)
    if path is None:
        return
    ast = T.ENV.parse(s)  # raises if jinja2 would refuse the template
    T.ENV.compile_expression(expr)
    assert meta.find_undeclared_variables(ast) == {path[0]}
    assert T.refs_in(s) == {path[0]}


NS = {"a": {"b": [{"c": 1}, {"c": 2}], "k": "v", "_x": 3}, "n": [1, 2, 3]}


@pytest.mark.parametrize(
    "s", ["{{ a.b[0].c }}", "{{ a['k'] }}", '{{ a["b"][-1].c }}', "{{ n[1] }}", "{{ a._x }}", "{{a.k}}"]
)
def test_plain_references_evaluate_as_jinja2_does(s):
    fast = T.compile_value(s)
    m = T._SINGLE.match(s)
    assert m is not None
    assert fast(NS) == T._expression(s, m.group(1))(NS)


@pytest.mark.parametrize("s", ["{{ a.missing }}", "{{ n[7] }}", "{{ zz.y }}", "{{ n.k }}"])
def test_a_failing_lookup_is_worded_by_jinja2(s):
    with pytest.raises(T.TemplateError) as fast:
        T.compile_value(s)(NS)
    m = T._SINGLE.match(s)
    assert m is not None
    with pytest.raises(T.TemplateError) as slow:
        T._expression(s, m.group(1))(NS)
    assert str(fast.value) == str(slow.value)
