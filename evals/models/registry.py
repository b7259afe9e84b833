"""Model kinds: how a model string `<kind>/<name>` becomes a `Model`.

Each kind is one factory decorated with `@modelapi("<kind>")` (inspect_ai's pattern): the factory
receives the name after the slash and a `ModelContext`, and imports its implementation lazily, so
listing or resolving kinds never loads an adapter, a policy or pandas that the run does not use.
The built-in kinds are declared in `evals/models/providers.py`; a new kind is one more decorated
factory there (or in any module imported before `make_model` is called).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import httpx

    from .base import Model


@dataclass(frozen=True)
class ModelContext:
    """Everything a factory may use besides the name."""

    suites: list = field(default_factory=list)  # the suites of the run (policies and replays read them)
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)  # `RunConfig.model_options`
    http_transport: httpx.AsyncBaseTransport | None = None  # tests: httpx.MockTransport


ModelFactory = Callable[[str, ModelContext], "Model"]

_KINDS: dict[str, ModelFactory] = {}
_USAGE: dict[str, str] = {}  # kind -> what follows the slash, as `fanout run --help` shows it


def modelapi(kind: str, usage: str = "<model>") -> Callable[[ModelFactory], ModelFactory]:
    """Register the factory of `<kind>/<name>` model strings; `usage` is what `fanout run --help`
    shows after the slash."""
    if not kind or "/" in kind:
        raise ValueError(f"a model kind is a non-empty name without '/', not {kind!r}")

    def register(factory: ModelFactory) -> ModelFactory:
        known = _KINDS.get(kind)
        if known is not None and known.__qualname__ != factory.__qualname__:
            raise ValueError(f"model kind {kind!r} is already registered by {known.__module__}")
        _KINDS[kind] = factory
        _USAGE[kind] = usage
        return factory

    return register


def _builtin() -> dict[str, ModelFactory]:
    from . import providers  # noqa: F401  (registers the built-in kinds)

    return _KINDS


def kinds() -> list[str]:
    """The registered kinds, in registration order."""
    return list(_builtin())


def model_strings() -> list[str]:
    """`<kind>/<usage>` of every registered kind, for help texts."""
    return [f"{kind}/{_USAGE.get(kind, '<model>')}" for kind in _builtin()]


def split_model(spec: str) -> tuple[str, str]:
    if "/" not in spec:
        raise ValueError(f"model {spec!r} must look like provider/name (e.g. policy/oracle, openai/gpt-4.1)")
    kind, name = spec.split("/", 1)
    if not name:
        raise ValueError(f"model {spec!r} has no name after the provider")
    return kind, name


def make_model(
    spec: str,
    suites: list,
    seed: int = 0,
    options: dict[str, Any] | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
) -> Model:
    kind, name = split_model(spec)
    factories = _builtin()
    factory = factories.get(kind)
    if factory is None:
        raise ValueError(f"unknown provider {kind!r} in {spec!r}; known: {', '.join(factories)}")
    ctx = ModelContext(list(suites), seed, dict(options or {}), http_transport)
    return factory(name, ctx)
