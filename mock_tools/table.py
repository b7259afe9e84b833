"""Table tools: tools declared as data (schema + response table + default), no Python needed."""

from __future__ import annotations

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
    description: str = ""
    parameters: dict = Field(default_factory=lambda: {"type": "object", "properties": {}})
    write: bool = False
    latency: LatencyModel = Field(default_factory=lambda: lognormal(0.2))
    rows: list[TableRow] = Field(default_factory=list)
    default: Any = None  # response when no row matches; None = a not_found error


def table_tool(spec: TableToolSpec) -> Tool:
    rows = [({k: normalize(v) for k, v in r.match.items()}, r.response) for r in spec.rows]
    default = spec.default

    def impl(args: dict, ctx: ToolContext) -> dict:
        nargs = {k: normalize(v) for k, v in args.items()}
        for match, response in rows:
            if all(nargs.get(k) == v for k, v in match.items()):
                return response if isinstance(response, dict) else {"result": response}
        if default is None:
            return error_result("not_found", f"{spec.name}: no entry for these arguments")
        return default if isinstance(default, dict) else {"result": default}

    params = dict(spec.parameters)
    params.setdefault("type", "object")
    params.setdefault("properties", {})
    return Tool(
        name=spec.name,
        description=spec.description,
        parameters=params,
        write=spec.write,
        latency=spec.latency,
        impl=impl,
        domain="table",
    )
