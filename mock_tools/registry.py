"""Tool definitions, the per-episode state, and the registry the runtime serves calls from."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .latency import LatencyModel, lognormal
from .world import World


class ToolError(Exception):
    """Raised by an implementation for a bad request; becomes a structured error result."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def error_result(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def is_error(result: Any) -> bool:
    return isinstance(result, dict) and "error" in result


class Args(BaseModel):
    """Base for tool argument models: unknown arguments are rejected, as a strict API would."""

    model_config = ConfigDict(extra="forbid")


class EpisodeState:
    """Per-episode mutable overlay over the world. Reads see committed state only; writes queued
    during a batch are applied when the batch ends, in issue order."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], Any] = {}

    def get(self, kind: str, key: str, default: Any = None) -> Any:
        return self.data.get((kind, key), default)

    def apply(self, writes: list[tuple[str, str, Callable[[Any], Any]]]) -> None:
        for kind, key, fn in writes:
            self.data[(kind, key)] = fn(self.data.get((kind, key)))


@dataclass
class ToolContext:
    world: World
    state: EpisodeState
    writes: list = field(default_factory=list)

    def user_key(self, user_id: str) -> str:
        """The directory key of a user id, or a not_found error every people-aware tool shares."""
        key = self.world.user_ids.get(str(user_id).strip())
        if key is None:
            raise ToolError("not_found", f"no user with id {user_id!r}")
        return key

    def mutate(self, kind: str, key: str, fn: Callable[[Any], Any]) -> None:
        """Queue a write: `fn(old) -> new`, applied at batch end (so two writes in a batch compose)."""
        self.writes.append((kind, key, fn))


def _clean_schema(schema: Any) -> Any:
    """Provider-friendly JSON schema: without the `title` annotations pydantic adds. Keys of a
    `properties` mapping are argument names, never annotations, so an argument called `title`
    stays."""
    if isinstance(schema, dict):
        out = {}
        for k, v in schema.items():
            if k == "title":
                continue
            if k in ("properties", "$defs", "definitions") and isinstance(v, dict):
                out[k] = {name: _clean_schema(sub) for name, sub in v.items()}
            else:
                out[k] = _clean_schema(v)
        return out
    if isinstance(schema, list):
        return [_clean_schema(v) for v in schema]
    return schema


@dataclass
class Tool:
    name: str
    description: str
    parameters: dict  # JSON schema of the arguments object
    write: bool
    latency: LatencyModel
    impl: Callable[[dict, ToolContext], dict]
    args_model: type[BaseModel] | None = None
    domain: str = "misc"
    # Argument values that mean the same as leaving the argument out (get_weather: date "today").
    default_aliases: dict[str, list[Any]] = field(default_factory=dict)

    def spec(self) -> dict:
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def property_names(self) -> set[str]:
        return set(self.parameters.get("properties", {}))

    def defaults(self) -> dict:
        return {k: v["default"] for k, v in self.parameters.get("properties", {}).items() if "default" in v}

    def invoke(self, args: Any, ctx: ToolContext) -> dict:
        """Run the tool; never raises for bad input (that is a result the model must see)."""
        if not isinstance(args, dict):
            return error_result("invalid_arguments", f"{self.name} expects a JSON object of arguments")
        if self.args_model is not None:
            try:
                parsed = self.args_model.model_validate(args).model_dump()
            except ValidationError as exc:
                msgs = "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in exc.errors()[:5]
                )
                return error_result("invalid_arguments", f"{self.name}: {msgs}")
        else:
            props = self.parameters.get("properties", {})
            unknown = sorted(set(args) - set(props))
            missing = sorted(set(self.parameters.get("required", [])) - set(args))
            if unknown or missing:
                return error_result(
                    "invalid_arguments", f"{self.name}: unknown {unknown or '[]'}, missing {missing or '[]'}"
                )
            parsed = {**self.defaults(), **args}
        try:
            return self.impl(parsed, ctx)
        except ToolError as exc:
            return error_result(exc.code, exc.message)


class ToolRegistry:
    def __init__(self, tools: Iterable[Tool] = ()):
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.add(t)

    def add(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"duplicate tool name {tool.name!r}")
        self._tools[tool.name] = tool

    def extended(self, tools: Iterable[Tool]) -> ToolRegistry:
        """A copy with extra (e.g. suite-declared table) tools; a clash with a built-in is an error."""
        reg = ToolRegistry(self._tools.values())
        for t in tools:
            reg.add(t)
        return reg

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def names(self) -> list[str]:
        return sorted(self._tools)

    def __len__(self) -> int:
        return len(self._tools)


_BUILTIN: list[Tool] = []


def tool(
    name: str,
    args: type[BaseModel],
    description: str,
    *,
    write: bool = False,
    latency: LatencyModel | None = None,
    domain: str = "misc",
    default_aliases: dict[str, list[Any]] | None = None,
) -> Callable:
    """Register a Python tool. The implementation gets validated args as a dict and a context."""

    def deco(fn: Callable[[dict, ToolContext], dict]) -> Callable:
        _BUILTIN.append(
            Tool(
                name=name,
                description=description,
                parameters=_clean_schema(args.model_json_schema()),
                write=write,
                latency=latency or lognormal(0.2),
                impl=fn,
                args_model=args,
                domain=domain,
                default_aliases=dict(default_aliases or {}),
            )
        )
        return fn

    return deco


def builtin_tools() -> list[Tool]:
    from . import domains  # noqa: F401  (importing registers the tools)

    return list(_BUILTIN)


_DEFAULT: ToolRegistry | None = None


def default_registry() -> ToolRegistry:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = ToolRegistry(builtin_tools())
    return _DEFAULT
