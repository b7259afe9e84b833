"""Table tools: tools declared as data (schema + response table + default), no Python needed.

A row answers the calls whose arguments equal its `match` (normalised: strings trimmed and
case-folded, 5 == 5.0). With `compute: true` every response is a template over the call's
arguments (`{{ price * quantity }}`), evaluated in the fixture sandbox of `evals.templating`: a
table tool can then compute ("convert 330 m to feet") instead of listing one row per input.
Task files are untrusted, so a template that fails (a missing argument, a division by zero, a
string where a number was expected) is an `invalid_arguments` error result the model sees,
never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .canonical import normalize
from .latency import LatencyModel, lognormal
from .registry import Tool, ToolContext, error_result


class TableRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match: dict[str, Any] = Field(
        default_factory=dict, description="arguments that select this row (normalised equality)"
    )
    response: Any


class TableToolSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    expose_as: str | None = Field(
        None,
        description="the name the model sees, when it differs from `name` (the suite-wide key): "
        "several table tools may share one as long as no task exposes two of them, so an imported "
        "benchmark that reuses a name with different specs shows each task its own name",
    )
    description: str = ""
    parameters: dict = Field(default_factory=lambda: {"type": "object", "properties": {}})
    write: bool = False
    latency: LatencyModel = Field(default_factory=lambda: lognormal(0.2))
    rows: list[TableRow] = Field(default_factory=list)
    default: Any = None  # response when no row matches; None = a not_found error
    compute: bool = Field(
        False,
        description="responses are templates over the call's arguments (`{{ a * b }}`), evaluated "
        "in the fixture sandbox; a failing template is an invalid_arguments error result",
    )


@dataclass
class TableTool(Tool):
    """A tool built from a TableToolSpec; `expose_as` is the name the model sees (None: `name`)."""

    expose_as: str | None = None

    @property
    def shown_name(self) -> str:
        return self.expose_as or self.name


Responder = Callable[[dict], Any]


def _responder(response: Any, compute: bool) -> Responder:
    """The response for a call's arguments: the data itself, or its template rendered over them."""
    if not compute:
        return lambda args: response
    # Imported lazily: the sandbox lives with the fixture loader, and mock_tools must stay
    # importable without the harness's templating (plain table tools never need it).
    from evals.templating import compile_value

    fn = compile_value(response)  # a TemplateError here names the template; load_suite reports it
    return lambda args: fn(_namespace(args))


def _namespace(args: dict) -> dict:
    """Arguments by name; `args[...]` also reaches names that are not identifiers."""
    ns = {"args": args}
    ns.update(args)
    return ns


def table_tool(spec: TableToolSpec) -> TableTool:
    rows = [
        ({k: normalize(v) for k, v in r.match.items()}, _responder(r.response, spec.compute))
        for r in spec.rows
    ]
    default = None if spec.default is None else _responder(spec.default, spec.compute)

    def answer(respond: Responder, args: dict) -> dict:
        try:
            out = respond(args)
        except ValueError as exc:  # evals.templating.TemplateError: the template failed on these args
            return error_result("invalid_arguments", f"{spec.name}: {exc}")
        return out if isinstance(out, dict) else {"result": out}

    def impl(args: dict, ctx: ToolContext) -> dict:
        nargs = {k: normalize(v) for k, v in args.items()}
        for match, respond in rows:
            if all(nargs.get(k) == v for k, v in match.items()):
                return answer(respond, args)
        if default is None:
            return error_result("not_found", f"{spec.name}: no entry for these arguments")
        return answer(default, args)

    params = dict(spec.parameters)
    params.setdefault("type", "object")
    params.setdefault("properties", {})
    return TableTool(
        name=spec.name,
        description=spec.description,
        parameters=params,
        write=spec.write,
        latency=spec.latency,
        impl=impl,
        domain="table",
        expose_as=spec.expose_as if spec.expose_as and spec.expose_as != spec.name else None,
    )
