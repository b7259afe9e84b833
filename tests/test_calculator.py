"""The calculator mock tool: exact values, spelling-independent results, and bounded refusal."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_tools import EpisodeState, ToolContext, World, default_registry
from mock_tools.calculator import CalculatorError, evaluate


@pytest.mark.parametrize(
    "expr, value",
    [
        ("10994*0.8", 8795.2),
        ("10994 * 0.8", 8795.2),
        ("(10994) * .8", 8795.2),
        ("0.1 + 0.2", 0.3),
        ("6 / 3", 2),
        ("7 // 2", 3),
        ("7 % 3", 1),
        ("2 ** 10", 1024),
        ("2 ^ 10", 1024),
        ("-(3 - 5)", 2),
        ("(330 - 300) * 3.28084", 98.4252),
        ("sqrt(16) + round(2.567, 2)", 6.57),
        ("max(3, 9, 4) - min(3, 9, 4)", 6),
        ("abs(-3.5) + floor(2.7) + ceil(2.1)", 8.5),
        ("log10(1000)", 3),
        ("round(pi, 4)", 3.1416),
        ("1e99", 1e99),
        ("(" * 150 + "1" + ")" * 150, 1),
    ],
)
def test_values(expr, value):
    out = evaluate(expr)
    assert out == value and type(out) is type(value)


@pytest.mark.parametrize(
    "expr, message",
    [
        ("", "empty expression"),
        ("1/0", "division by zero"),
        ("7 % 0", "division by zero"),
        ("0 ** -1", "zero to a negative power"),
        ("9 ** 9 ** 9", "power too large"),
        ("10 ** 100", "power too large"),
        ("0.001 ** -1000", "power too large"),
        ("1e60 * 1e60", "a value reaches 1e+100 in magnitude"),
        ("1e308 * 10", "a value reaches 1e+100 in magnitude"),
        ("(-8) ** (1/3)", "result is not a real number"),
        ("sqrt(-1)", "sqrt(): math domain error"),
        ("round(123, -10**11)", "round()'s second argument is a whole number of digits, at most 20"),
        ("__import__('os').system('true')", "not allowed in an expression"),
        ("().__class__", "not allowed in an expression"),
        ("x + 1", "not allowed in an expression: 'x'"),
        ("True + 1", "not allowed in an expression: 'True'"),
        ("'a' * 10", "not allowed in an expression"),
        ("[1, 2]", "not allowed in an expression"),
        ("max(a=1)", "max() takes 1-20 numbers"),
        ("1 +", "not an arithmetic expression"),
        ("(" * 210 + "1" + ")" * 210, "not an arithmetic expression"),
        ("-" * 300 + "1", "more than 200 parts"),
        ("1+" * 300 + "1", "limit 500"),
    ],
)
def test_refusals(expr, message):
    with pytest.raises(CalculatorError, match=None) as exc:
        evaluate(expr)
    assert message in str(exc.value)


@st.composite
def expressions(draw, depth: int = 3) -> tuple[str, int]:
    """(text, exact value) of random integer arithmetic; the value computed without the parser."""
    if depth == 0 or draw(st.booleans()):
        n = draw(st.integers(-999, 999))
        return (f"({n})" if n < 0 else str(n)), n
    (a, va), (b, vb) = draw(expressions(depth - 1)), draw(expressions(depth - 1))
    op = draw(st.sampled_from(["+", "-", "*"]))
    value = va + vb if op == "+" else va - vb if op == "-" else va * vb
    spaced = draw(st.booleans())
    return (f"({a} {op} {b})" if spaced else f"({a}{op}{b})"), value


@given(expressions())
def test_integer_arithmetic_is_exact_whatever_the_spacing(case):
    text, value = case
    assert evaluate(text) == value


@settings(max_examples=300)
@given(st.text(alphabet="0123456789+-*/%().^ e,piqrtsabxmn_'\"[]{}<>=!", max_size=120))
def test_any_text_gives_a_number_or_a_refusal_quickly(text):
    start = time.perf_counter()
    try:
        out = evaluate(text)
    except CalculatorError:
        pass
    else:
        assert isinstance(out, int | float) and abs(out) < 1e100
    assert time.perf_counter() - start < 0.5


def test_the_tool():
    tool = default_registry()["calculator"]
    ctx = ToolContext(World(0), EpisodeState())
    assert not tool.write and tool.domain == "math"
    assert tool.invoke({"expression": "10994 * 0.8"}, ctx) == {"expression": "10994 * 0.8", "result": 8795.2}
    assert tool.invoke({"expression": "1/0"}, ctx) == {
        "error": {"code": "invalid_expression", "message": "division by zero"}
    }
    assert tool.invoke({}, ctx)["error"]["code"] == "invalid_arguments"
