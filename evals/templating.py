"""Reference expressions (`{{ node.field }}`) in fixture arguments, conditions and answers.

A string that is exactly one `{{ expr }}` evaluates to the expression's native value (an int
stays an int); any other string with `{{` renders to text. Everything is compiled once at load.

Task files and imported suites are untrusted, so their templates are data with references, not
programs: expressions only (no `{% %}` statements, so no loops), a sandbox that allows no
attribute but a dict's keys and a short list of pure string/dict methods, no globals, an
allow-list of filters, and bounds on the operators and filters that can build large values
(`'a' * 10**10`, `10 ** 10 ** 10`, `'%999999999d' % 1`). A hostile template fails to load with a
`TemplateError`; it never runs code, exhausts memory or hangs validation.

Plain paths (`{{ a.b[0].c }}`, most references) are evaluated without jinja2: they are parsed
once into a list of keys and looked up directly, with jinja2 only as the fallback that words the
error when a lookup fails.
"""

from __future__ import annotations

import contextvars
import functools
import math
import re
from collections.abc import Callable
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.filters import FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer

from .errors import UsageError

MAX_TEMPLATE_CHARS = 100_000  # longer templated strings are refused before parsing
MAX_VALUE_CHARS = 100_000  # a string or list `*` may build
MAX_BUILT = 1_000_000  # what any one operator, filter, method or render may take in or build
MAX_WORK = 10_000_000  # steps (loop items, calls, items read by filters) one render may take
_CALL_STEPS = 100

# Methods of data values an expression may call; everything else (and every `_name`) is refused.
_SAFE_METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        {"lower", "upper", "strip", "lstrip", "rstrip", "title", "capitalize", "split", "rsplit"}
        | {"startswith", "endswith", "isdigit", "count", "find", "zfill"}
    ),
    dict: frozenset({"get", "keys", "values", "items"}),
    list: frozenset({"index", "count"}),
}

# Filters that map data to data of a bounded size. Not allowed: anything that pads or repeats
# (center, indent, wordwrap, format, truncate with a huge length), reads attributes by a string
# argument in ways the sandbox cannot see, or renders markup.
_FILTERS = (
    "abs attr capitalize count d default first float int join last length list lower map max min "
    "reject rejectattr reverse round select selectattr sort string sum title trim unique upper"
).split()


class TemplateError(UsageError, ValueError):
    """A fixture template that cannot be compiled or evaluated; the message quotes the template."""


# A printf conversion whose width or precision could pad a value to any size.
_WIDE_FORMAT = re.compile(r"%[-+ #0]*(?:\*|\d{3,})|%[-+ #0]*\d*\.(?:\*|\d{3,})")


def _sized(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def weight(value: Any, limit: int = MAX_BUILT) -> int:
    """How big a value is once written out: the characters of its strings plus the items of its
    lists and dicts, counted through nesting (a list holding one string 100,000 times weighs what
    joining it would build) and big integers by their digits. Stops counting past `limit`, so it
    costs at most `limit` steps."""
    total = 0
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, list | tuple | set | frozenset):
            total += len(v)
            stack.extend(x for x in v if not isinstance(x, bool | float | None))
        elif isinstance(v, dict):
            total += len(v)
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, int) and v.bit_length() > 64:
            total += v.bit_length() // 3
        if total > limit:
            break
    return total


class _Budget:
    """The work one render may do: loops and macro recursion in a template of a few lines can ask
    for billions of steps while building nothing."""

    def __init__(self, steps: int = MAX_WORK):
        self.left = steps

    def charge(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise SecurityError(f"the template takes over {MAX_WORK:,} steps to evaluate")


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("template_budget", default=None)


def _charge(steps: int) -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.charge(steps)


def _refuse_big(what: str, size: int) -> None:
    if size > MAX_BUILT:
        raise SecurityError(f"{what} would take in or build over {MAX_BUILT:,} items")
    _charge(size)


def render_bounded(template: jinja2.Template, ctx: dict) -> str:
    """`template.render(**ctx)` under one work budget and an output of at most MAX_BUILT characters."""
    token = _BUDGET.set(_Budget())
    try:
        out: list[str] = []
        size = 0
        for chunk in template.generate(**ctx):
            size += len(chunk)
            if size > MAX_BUILT:
                raise SecurityError(f"the template renders over {MAX_BUILT:,} characters")
            out.append(chunk)
        return "".join(out)
    finally:
        _BUDGET.reset(token)


def _bounded_replace(s: Any, old: Any, new: Any, count: int | None = None) -> str:
    s, old, new = str(s), str(old), str(new)
    hits = (len(s) + 1 if old == "" else s.count(old)) if count is None else max(0, int(count))
    if len(s) + hits * max(0, len(new) - len(old)) > MAX_VALUE_CHARS:
        raise SecurityError(f"replace would build a string over {MAX_VALUE_CHARS:,} characters")
    return s.replace(old, new) if count is None else s.replace(old, new, int(count))


# What a filter builds beyond its input: a separator or padding repeated per item, line or width.
def _amplified(name: str, value: Any, args: tuple, kwargs: dict) -> int:
    def arg(i: int, key: str, default: Any) -> Any:
        return args[i] if len(args) > i else kwargs.get(key, default)

    try:
        if name == "join":
            n = len(value) if hasattr(value, "__len__") else 0
            return n * weight(arg(0, "d", ""))
        if name == "center":
            return int(arg(0, "width", 80))
        if name == "indent":
            width = arg(0, "width", 4)
            pad = len(width) if isinstance(width, str) else int(width)
            return pad * (str(value).count("\n") + 1)
        if name == "wordwrap":
            return len(str(value)) * (1 + weight(arg(3, "wrapstring", "")))
        if name in ("batch", "slice"):
            return int(arg(0, "linecount" if name == "batch" else "slices", 0)) * (
                1 + weight(arg(1, "fill_with", None))
            )
        if (
            name == "sum"
            and isinstance(value, list | tuple)
            and value
            and not isinstance(value[0], int | float)
        ):
            # sum() concatenating lists copies the running total each time: quadratic
            return len(value) * weight(value)
    except (TypeError, ValueError, OverflowError):
        return 0  # the filter itself will refuse these arguments
    return 0


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that refuses inputs and arguments, or output they would amplify to, over MAX_BUILT."""
    passes = getattr(func, "jinja_pass_arg", None)

    def bounded(*args: Any, **kwargs: Any) -> Any:
        data = args[1:] if passes is not None else args
        value, rest = (data[0], data[1:]) if data else (None, ())
        size = weight(value) + weight(rest) + weight(kwargs)
        _refuse_big(f"the '{name}' filter", size + _amplified(name, value, rest, kwargs))
        return func(*args, **kwargs)

    if passes is not None:
        bounded.jinja_pass_arg = passes  # type: ignore[attr-defined]
    return bounded


class _BoundedNodes(NodeTransformer):
    """Routes every loop and every `~` through the environment, where they are bounded."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(nodes.EnvironmentAttribute("bounded_iter"), [node.iter], [], None, None)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(
            nodes.EnvironmentAttribute("bounded_concat"), [nodes.List(node.nodes)], [], None, None
        )


class BoundedOperators(ImmutableSandboxedEnvironment):
    """A sandbox whose operators cannot build huge values: shared by fixture templates and the
    prompt templates of `fanout run --system-prompt`."""

    intercepted_binops = frozenset({"*", "**", "%", "//", "+"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}

    def _generate(self, source: nodes.Template, *args: Any, **kwargs: Any) -> str:
        return super()._generate(_BoundedNodes().visit(source), *args, **kwargs)

    @staticmethod
    def bounded_iter(items: Any) -> Any:
        for item in items:
            _charge(1)
            yield item

    @staticmethod
    def bounded_concat(parts: list) -> str:
        texts = [str(p) for p in parts]
        _refuse_big("'~'", sum(len(t) for t in texts))
        return "".join(texts)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        # A call (a macro's above all) costs far more than a loop step: 100,000 per render at most.
        _refuse_big("a call", _CALL_STEPS + weight(args) + weight(kwargs))
        if getattr(__obj, "__name__", None) == "zfill" and args and isinstance(args[0], int):
            _refuse_big("zfill", args[0])
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            n = right if _sized(left) else left
            size = weight(left if _sized(left) else right)
            if _sized(left) + _sized(right) and isinstance(n, int) and size * max(0, n) > MAX_VALUE_CHARS:
                raise SecurityError(f"'*' would build a value over {MAX_VALUE_CHARS:,} items")
            if isinstance(n, int):
                _charge(size * max(0, n))
        elif operator == "**":
            if not isinstance(left, int | float) or not isinstance(right, int | float):
                raise SecurityError("'**' takes numbers")
            base = abs(float(left))
            if abs(right) > 1024 or (base > 1 and right * math.log2(base) > 4096):
                raise SecurityError("'**' result too large")
        elif operator == "%" and isinstance(left, str) and _WIDE_FORMAT.search(left):
            raise SecurityError("'%' formatting with a width or precision over 99 or '*'")
        if operator in ("+", "%") and (_sized(left) or _sized(right)):
            _refuse_big(f"'{operator}'", weight(left) + weight(right))
        return super().call_binop(context, operator, left, right)


class FixtureEnvironment(BoundedOperators):
    """The sandbox for task data. Dict keys win over attributes, so `order.items` is the order's
    items, not `dict.items`."""

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.globals.clear()
        self.filters = {name: _bounded_filter(name, FILTERS[name]) for name in _FILTERS}
        self.filters["replace"] = _bounded_filter("replace", _bounded_replace)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_"):
            return False
        allowed = next((names for t, names in _SAFE_METHODS.items() if isinstance(obj, t)), frozenset())
        return attr in allowed and super().is_safe_attribute(obj, attr, value)

    def wrap_str_format(self, value: Any) -> None:
        """No `str.format`/`format_map`: a format spec can pad a value to any width."""
        return None

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


ENV = FixtureEnvironment()
_SINGLE = re.compile(r"^\s*\{\{(.*?)\}\}\s*$", re.S)
_MARKERS = ("{{", "{%", "{#")
_OPENING = re.compile(r"\{(?=[{%#]|\Z)")


def _parse(value: str) -> nodes.Template:
    """Parse a fixture template, refusing statements and oversized or deeply nested input."""
    if len(value) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"template of {len(value):,} characters (limit {MAX_TEMPLATE_CHARS:,})")
    try:
        ast = ENV.parse(value)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error in {_short(value)}: {exc.message}") from None
    except RecursionError:
        raise TemplateError(f"template nested too deeply: {_short(value)}") from None
    for node in ast.body:
        if not isinstance(node, nodes.Output):
            raise TemplateError(
                f"{_short(value)}: fixture templates hold expressions only ({{{{ ... }}}}); "
                f"'{{% {type(node).__name__.lower()} %}}' statements are not allowed"
            )
    return ast


def _evaluation_error(value: str, exc: Exception) -> TemplateError:
    """One line for whatever a template raised on this data: evaluation is untrusted work, so no
    exception of it may escape as anything but a TemplateError."""
    if isinstance(exc, jinja2.UndefinedError):
        return TemplateError(f"{_short(value)}: {exc.message}")
    if isinstance(exc, jinja2.TemplateError):
        return TemplateError(f"{_short(value)}: {exc}")
    return TemplateError(f"{_short(value)}: {type(exc).__name__}: {exc}")


def _short(value: str, limit: int = 120) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


def refs_in(value: Any) -> set[str]:
    """Names a value (string, list or dict, nested) refers to."""
    out: set[str] = set()
    _collect(value, out)
    return out


@functools.lru_cache(maxsize=16384)
def _refs_of_string(value: str) -> frozenset[str]:
    path = _plain_path(value)
    if path is not None:  # `{{ a.b[0] }}` refers to `a`, as jinja2's analysis would say
        return frozenset((path[0],))
    ast = _parse(value)
    try:
        return frozenset(meta.find_undeclared_variables(ast))
    except jinja2.TemplateError as exc:  # an unknown filter or test
        raise TemplateError(f"{_short(value)}: {exc.message}") from None
    except RecursionError:
        raise TemplateError(f"template nested too deeply: {_short(value)}") from None


def _collect(value: Any, out: set[str]) -> None:
    if isinstance(value, str):
        if any(m in value for m in _MARKERS):
            out |= _refs_of_string(value)
    elif isinstance(value, dict):
        for v in value.values():
            _collect(v, out)
    elif isinstance(value, list):
        for v in value:
            _collect(v, out)


def literal(value: Any) -> Any:
    """Untrusted source data as fixture data that renders back to itself and refers to nothing.

    Every `{` that could open a marker (followed by `{`, `%` or `#`, or last, so that a reference
    appended by an importer cannot complete it) becomes `{{ '{' }}`. Unlike a `{% raw %}` block
    there is no closing marker for the data to forge."""
    if isinstance(value, str):
        if "{" not in value:
            return value
        out = _OPENING.sub("{{ '{' }}", value)
        if out != out.strip() and _SINGLE.match(out):
            # Whitespace around one expression would be dropped (it evaluates to a native value):
            # put the whole text, whitespace and `{`, inside the expression instead.
            return "{{ '" + "".join(c if c == "{" else f"\\u{ord(c):04x}" for c in value) + "' }}"
        return out
    if isinstance(value, list):
        return [literal(v) for v in value]
    if isinstance(value, dict):
        return {k: literal(v) for k, v in value.items()}
    return value


Compiled = Callable[[dict], Any]


def compile_value(value: Any) -> Compiled:
    """Compile a (possibly nested) fixture value into a function of the outputs namespace."""
    if isinstance(value, str) and any(m in value for m in _MARKERS):
        return _compile_string(value)
    return _compile_structure(value)


# `name`, then `.key`, `[int]` or `['key']` steps: a reference that needs no jinja2 to evaluate.
# ASCII names and whitespace only (re.ASCII), so nothing jinja2's lexer would read otherwise.
_PATH = re.compile(
    r"\s*([A-Za-z_]\w*)((?:\s*(?:\.[A-Za-z_]\w*|\[\s*-?(?:0|[1-9]\d*)\s*\]|\[\s*'[^'\\]*'\s*\]|\[\s*\"[^\"\\]*\"\s*\]))*)\s*",
    re.ASCII,
)
_STEP = re.compile(
    r"\.([A-Za-z_]\w*)|\[\s*(-?(?:0|[1-9]\d*))\s*\]|\[\s*'([^'\\]*)'\s*\]|\[\s*\"([^\"\\]*)\"\s*\]", re.ASCII
)
# Names jinja2 reads as constants or operators, not as a variable.
_RESERVED = frozenset("true false none True False None and or not in is if else".split())


def _path_of(expr: str) -> tuple[str, list[str | int]] | None:
    m = _PATH.fullmatch(expr)
    if not m or m.group(1) in _RESERVED:
        return None
    steps: list[str | int] = []
    for s in _STEP.finditer(m.group(2)):
        attr, idx, k1, k2 = s.groups()
        steps.append(int(idx) if idx is not None else (attr or k1 or k2 or ""))
    return m.group(1), steps


def _walk(ns: dict, root: str, steps: list[str | int]) -> Any:
    """The value at a plain path, or raises LookupError (jinja2 then words the error)."""
    v = ns[root]
    for s in steps:
        if isinstance(s, int):
            if not isinstance(v, list | tuple | str):
                raise LookupError(s)
            v = v[s]
        elif isinstance(v, dict):
            v = v[s]
        else:
            raise LookupError(s)
    return v


def _plain_path(value: str) -> tuple[str, list[str | int]] | None:
    """The path of a string that is exactly one plain reference (`{{ a.b[0].c }}`), else None.
    Such a string is one jinja2 expression with no statement, filter or operator, so it passes
    every check `_parse` makes; only its length is checked here."""
    if len(value) > MAX_TEMPLATE_CHARS or "{%" in value or "{#" in value:
        return None
    m = _SINGLE.match(value)
    if not m or "{{" in m.group(1) or "}}" in m.group(1):
        return None
    return _path_of(m.group(1))


def _expression(value: str, src: str) -> Compiled:
    """A single `{{ expr }}` compiled by jinja2 in the sandbox, evaluating to a native value."""
    try:
        expr = ENV.compile_expression(src, undefined_to_none=False)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"bad expression {_short(value)}: {exc.message}") from None
    except RecursionError:
        raise TemplateError(f"expression nested too deeply: {_short(value)}") from None

    def slow(ns: dict) -> Any:
        token = _BUDGET.set(_Budget())
        try:
            out = expr(**ns)
        except Exception as exc:
            raise _evaluation_error(value, exc) from None
        finally:
            _BUDGET.reset(token)
        if isinstance(out, jinja2.Undefined):
            raise TemplateError(f"{_short(value)} is undefined")
        return out

    return slow


@functools.lru_cache(maxsize=16384)
def _compile_string(value: str) -> Compiled:
    """Compiled once per distinct string: suites repeat references like `{{ user.id }}` a lot, and
    jinja2's compiler is most of the cost of loading a suite. A plain path never reaches jinja2
    unless a lookup fails, when jinja2 evaluates it to word the error as it always has."""
    path = _plain_path(value)
    if path is not None:
        root, steps = path
        slow: list[Compiled] = []  # jinja2's version, compiled on the first failed lookup

        def fast(ns: dict) -> Any:
            try:
                return _walk(ns, root, steps)
            except (LookupError, TypeError):
                if not slow:
                    m = _SINGLE.match(value)
                    assert m is not None
                    slow.append(_expression(value, m.group(1)))
                return slow[0](ns)

        return fast
    _parse(value)
    m = _SINGLE.match(value)
    if m and "{{" not in m.group(1) and "}}" not in m.group(1):
        return _expression(value, m.group(1))
    try:
        tmpl = ENV.from_string(value)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"bad template {_short(value)}: {exc.message}") from None
    except RecursionError:
        raise TemplateError(f"template nested too deeply: {_short(value)}") from None

    def render(ns: dict) -> Any:
        try:
            return render_bounded(tmpl, ns)
        except Exception as exc:
            raise _evaluation_error(value, exc) from None

    return render


def _compile_structure(value: Any) -> Compiled:
    if isinstance(value, dict):
        parts = {k: compile_value(v) for k, v in value.items()}
        if all(getattr(p, "_const", False) for p in parts.values()):
            return _const(value)

        def build_dict(ns: dict, _p: dict[str, Compiled] = parts) -> Any:
            return {k: f(ns) for k, f in _p.items()}

        return build_dict
    if isinstance(value, list):
        items = [compile_value(v) for v in value]
        if all(getattr(p, "_const", False) for p in items):
            return _const(value)

        def build_list(ns: dict, _i: list[Compiled] = items) -> Any:
            return [f(ns) for f in _i]

        return build_list
    return _const(value)


def _const(value: Any) -> Compiled:
    def c(ns: dict, _v: Any = value) -> Any:
        return _v

    c._const = True  # type: ignore[attr-defined]
    return c
