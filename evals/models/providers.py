"""The built-in model kinds, one decorated factory each (see `registry.py`).

Factories import their implementation when called, so resolving `policy/oracle` never imports an
HTTP adapter and resolving `openai/...` never imports the run reader that `replay/` needs.
"""

from __future__ import annotations

from .base import Model
from .registry import ModelContext, modelapi


@modelapi("policy", "<oracle|sequential|greedy|redundant|lazy|prompt-sensitive>")
def policy(name: str, ctx: ModelContext) -> Model:
    if name == "prompt-sensitive":
        from .prompt_sensitive import PromptSensitiveModel  # demo model for `make gate-demo`

        return PromptSensitiveModel(ctx.suites, seed=ctx.seed)
    from .policies import PolicyModel

    return PolicyModel(name, ctx.suites, seed=ctx.seed)


@modelapi("openai")
def openai(name: str, ctx: ModelContext) -> Model:
    from .openai import OpenAIChatModel

    return OpenAIChatModel(name, ctx.options, http_transport=ctx.http_transport)


@modelapi("anthropic")
def anthropic(name: str, ctx: ModelContext) -> Model:
    from .anthropic import AnthropicModel

    return AnthropicModel(name, ctx.options, http_transport=ctx.http_transport)


@modelapi("openai-responses")
def openai_responses(name: str, ctx: ModelContext) -> Model:
    from .responses import ResponsesModel

    return ResponsesModel(name, ctx.options, http_transport=ctx.http_transport)


@modelapi("google")
def google(name: str, ctx: ModelContext) -> Model:
    from .google import GeminiModel

    return GeminiModel(name, ctx.options, http_transport=ctx.http_transport)


@modelapi("replay", "<run dir>")
def replay(name: str, ctx: ModelContext) -> Model:
    from .replay import ReplayModel

    return ReplayModel(name, ctx.suites)


@modelapi("agent", "<name>")
def agent(name: str, ctx: ModelContext) -> Model:
    """An agent program as the candidate (issue 14): its model calls go through Fanout's proxy."""
    from ..agents.runner import make

    return make(name, ctx.options, suites=ctx.suites, seed=ctx.seed)
