"""Reference expressions (`{{ node.field }}`) in fixture arguments, conditions and answers.

A string that is exactly one `{{ expr }}` evaluates to the expression's native value (an int
stays an int); any other string with `{{` renders to text. Everything is compiled once at load.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import jinja2
from jinja2 import meta

from .errors import UsageError


class _DataEnvironment(jinja2.Environment):
    """Dict keys win over attributes, so `order.items` is the order's items, not `dict.items`."""

    def getattr(self, obj: Any, attribute: str) -> Any:  # noqa: A003
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


ENV = _DataEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
_SINGLE = re.compile(r"^\s*\{\{(.*?)\}\}\s*$", re.S)


class TemplateError(UsageError, ValueError):
    pass


def refs_in(value: Any) -> set[str]:
    """Names a value (string, list or dict, nested) refers to."""
    out: set[str] = set()
    _collect(value, out)
    return out


@functools.lru_cache(maxsize=16384)
def _refs_of_string(value: str) -> frozenset[str]:
    try:
        return frozenset(meta.find_undeclared_variables(ENV.parse(value)))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error in {value!r}: {exc.message}") from exc


def _collect(value: Any, out: set[str]) -> None:
    if isinstance(value, str):
        if "{{" in value or "{%" in value:
            out |= _refs_of_string(value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect(v, out)
    elif isinstance(value, list):
        for v in value:
            _collect(v, out)


Compiled = Callable[[dict], Any]


def compile_value(value: Any) -> Compiled:
    """Compile a (possibly nested) fixture value into a function of the outputs namespace."""
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        return _compile_string(value)
    return _compile_structure(value)


@functools.lru_cache(maxsize=16384)
def _compile_string(value: str) -> Compiled:
    """Compiled once per distinct string: suites repeat references like `{{ user.id }}` a lot, and
    jinja2's compiler is most of the cost of loading a suite."""
    m = _SINGLE.match(value)
    if m and "{{" not in m.group(1) and "}}" not in m.group(1):
        try:
            expr = ENV.compile_expression(m.group(1), undefined_to_none=False)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"bad expression {value!r}: {exc.message}") from exc

        def ev(ns: dict, _e: Any = expr, _v: str = value) -> Any:
            try:
                out = _e(**ns)
            except jinja2.UndefinedError as exc:
                raise TemplateError(f"{_v!r}: {exc.message}") from exc
            if isinstance(out, jinja2.Undefined):
                raise TemplateError(f"{_v!r} is undefined")
            return out

        return ev
    try:
        tmpl = ENV.from_string(value)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"bad template {value!r}: {exc.message}") from exc

    def render(ns: dict, _t: jinja2.Template = tmpl, _v: str = value) -> Any:
        try:
            return _t.render(**ns)
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"{_v!r}: {exc.message}") from exc

    return render


def _compile_structure(value: Any) -> Compiled:
    if isinstance(value, dict):
        parts = {k: compile_value(v) for k, v in value.items()}
        if all(getattr(p, "_const", False) for p in parts.values()):
            return _const(value)
        return lambda ns, _p=parts: {k: f(ns) for k, f in _p.items()}  # type: ignore[misc]
    if isinstance(value, list):
        items = [compile_value(v) for v in value]
        if all(getattr(p, "_const", False) for p in items):
            return _const(value)
        return lambda ns, _i=items: [f(ns) for f in _i]  # type: ignore[misc]
    return _const(value)


def _const(value: Any) -> Compiled:
    def c(ns: dict, _v: Any = value) -> Any:
        return _v

    c._const = True  # type: ignore[attr-defined]
    return c
