"""A calculator tool: arithmetic expressions evaluated over their syntax tree, never with `eval`.

"Look up three facts, then compute" tasks (LLMCompiler's ParallelQA) need a compute step whose
answer does not depend on how the model spells the expression: `10994*0.8`, `10994 * 0.8` and
`(10994) * .8` all give 8795.2. Expressions come from models, so the evaluator is bounded: only
numbers, `+ - * / // % **`, parentheses, `pi`, `e` and the functions below; at most 500
characters and 200 syntax nodes; every intermediate value below 1e100 in magnitude, checked
before a power or product is computed, so no expression can take long or build a huge integer.
Results are rounded to 10 decimal places (an integral result below 2**53 is an integer), so float noise
(`0.1 + 0.2`) never reaches the model.
"""

from __future__ import annotations

import ast
import math
import operator
import warnings
from collections.abc import Callable

from pydantic import Field

from .latency import fixed
from .registry import Args, ToolContext, ToolError, tool

MAX_CHARS = 500
MAX_NODES = 200
LIMIT = 1e100  # largest magnitude of any value, intermediate or final

Number = int | float

_BINARY: dict[type, Callable[[Number, Number], Number]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_FUNCTIONS: dict[str, tuple[Callable[..., Number], tuple[int, int]]] = {
    # name: (function, (min args, max args))
    "abs": (abs, (1, 1)),
    "round": (round, (1, 2)),
    "min": (min, (1, 20)),
    "max": (max, (1, 20)),
    "sqrt": (math.sqrt, (1, 1)),
    "floor": (math.floor, (1, 1)),
    "ceil": (math.ceil, (1, 1)),
    "log": (math.log, (1, 2)),
    "log10": (math.log10, (1, 1)),
}
_CONSTANTS = {"pi": math.pi, "e": math.e}


class CalculatorError(ValueError):
    """An expression the calculator refuses or cannot evaluate; the message says which part."""


def evaluate(expression: str) -> Number:
    """The value of an arithmetic expression, or CalculatorError. Pure and bounded."""
    text = expression.strip()
    if not text:
        raise CalculatorError("empty expression")
    if len(text) > MAX_CHARS:
        raise CalculatorError(f"expression of {len(text)} characters (limit {MAX_CHARS})")
    try:
        with warnings.catch_warnings():  # the model's text: Python's SyntaxWarnings are not for the user
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(text.replace("^", "**"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise CalculatorError(f"not an arithmetic expression: {text!r}") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalculatorError(f"expression has more than {MAX_NODES} parts")
    value = _eval(tree.body)
    if isinstance(value, float):
        value = round(value, 10)
        if value.is_integer() and abs(value) < 2**53:  # exactly an integer
            value = int(value)
    return value


def _bounded(value: Number) -> Number:
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculatorError("result is not a finite number")
    if abs(value) >= LIMIT:
        raise CalculatorError(f"a value reaches {LIMIT:g} in magnitude")
    return value


def _magnitude(x: Number) -> float:
    return math.log10(abs(x)) if x else -math.inf


def _eval(node: ast.AST) -> Number:
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return _bounded(node.value)
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        v = _eval(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        a, b = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            if a == 0 and b < 0:
                raise CalculatorError("zero to a negative power")
            if abs(b) > 1000 or (a != 0 and b * _magnitude(a) >= 100):
                raise CalculatorError("power too large")
        elif isinstance(node.op, ast.Mult) and _magnitude(a) + _magnitude(b) >= 100:
            raise CalculatorError(f"a value reaches {LIMIT:g} in magnitude")
        try:
            out = _BINARY[type(node.op)](a, b)
        except ZeroDivisionError:
            raise CalculatorError("division by zero") from None
        except OverflowError:
            raise CalculatorError(f"a value reaches {LIMIT:g} in magnitude") from None
        if isinstance(out, complex):
            raise CalculatorError("result is not a real number")
        return _bounded(out)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
        fn, (lo, hi) = _FUNCTIONS[node.func.id]
        if node.keywords or not lo <= len(node.args) <= hi:
            raise CalculatorError(
                f"{node.func.id}() takes {lo}-{hi} numbers" if lo != hi else f"{node.func.id}() takes {lo}"
            )
        args = [_eval(a) for a in node.args]
        if (
            node.func.id == "round"
            and len(args) == 2
            and not (isinstance(args[1], int) and abs(args[1]) <= 20)
        ):
            raise CalculatorError("round()'s second argument is a whole number of digits, at most 20")
        try:
            return _bounded(fn(*args))
        except (ValueError, OverflowError) as exc:
            raise CalculatorError(f"{node.func.id}(): {exc}") from None
    raise CalculatorError(f"not allowed in an expression: {ast.unparse(node)[:60]!r}")


class CalculatorArgs(Args):
    expression: str = Field(
        description="arithmetic over numbers: + - * / // % ** (or ^), parentheses, pi, e, and "
        "abs round min max sqrt floor ceil log log10; e.g. (330 - 300) * 3.28084"
    )


@tool(
    "calculator",
    CalculatorArgs,
    "Evaluate an arithmetic expression. Returns expression (as given) and result (its value, rounded "
    "to 10 decimal places; a whole number as an integer).",
    latency=fixed(0.02),
    domain="math",
)
def calculator(a: dict, ctx: ToolContext) -> dict:
    try:
        value = evaluate(a["expression"])
    except CalculatorError as exc:
        raise ToolError("invalid_expression", str(exc)) from None
    return {"expression": a["expression"], "result": value}
