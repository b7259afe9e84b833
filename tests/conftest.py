"""What several test modules share, defined once: tool schemas and a conversation for the provider
adapters, and running one request on a model client that is closed afterwards."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from evals.fixtures import Suite, load_suite
from evals.models.base import Message, Model, ModelRequest, ModelResponse, ToolCall

sys.path.insert(0, str(Path(__file__).parent))  # the shared builders: helpers, run_builders, ...

TOOLS = [
    {
        "name": "get_weather",
        "description": "weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {
        "name": "get_time",
        "description": "time",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
]


def conversation() -> list[Message]:
    """A system prompt, a question, two parallel calls and their results."""
    return [
        Message("system", "be quick"),
        Message("user", "Weather in Paris and Tokyo?"),
        Message(
            "assistant",
            None,
            [
                ToolCall("c1", "get_weather", '{"city":"Paris"}'),
                ToolCall("c2", "get_weather", {"city": "Tokyo"}),
            ],
        ),
        Message("tool", '{"temp": 21}', tool_call_id="c1", name="get_weather"),
        Message("tool", '{"temp": 17}', tool_call_id="c2", name="get_weather"),
    ]


def generate(model: Model, request: ModelRequest) -> ModelResponse:
    """One request on `model`, whose HTTP client is closed afterwards."""

    async def go() -> ModelResponse:
        try:
            return await model.generate(request)
        finally:
            await model.aclose()

    return asyncio.run(go())


@pytest.fixture(scope="session")
def core_suite() -> Suite:
    """The shipped core suite, loaded once per test session."""
    return load_suite("core")
