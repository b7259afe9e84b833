"""Responses API adapter against recorded wire responses served over loopback HTTP."""

from __future__ import annotations

import asyncio

from test_models_openai import TOOLS, conversation
from wire_server import WireServer, ok

from evals.models.base import ModelRequest
from evals.models.responses import ResponsesModel


def generate(url, request):
    m = ResponsesModel("gpt-4.1", {"base_url": url + "/v1", "cache": False})

    async def go():
        try:
            return await m.generate(request)
        finally:
            await m.aclose()

    return asyncio.run(go())


def test_function_call_items_with_call_id_and_usage():
    with WireServer([ok("responses_parallel.json")]) as srv:
        resp = generate(srv.url, ModelRequest(conversation()[:2], TOOLS, {"parallel_tool_calls": True}))
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("call_12345xyz", "get_weather", '{"city":"Paris"}'),
        ("call_67890abc", "get_weather", '{"city":"Tokyo"}'),
    ]
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.cached_tokens) == (
        291,
        23,
        128,
    )
    seen = srv.seen[0]
    assert seen.path == "/v1/responses"
    assert seen.body["instructions"] == "be quick" and seen.body["store"] is False
    assert seen.body["parallel_tool_calls"] is True
    assert seen.body["tools"][0] == {"type": "function", **TOOLS[0], "strict": False}
    assert seen.body["input"] == [{"role": "user", "content": "Weather in Paris and Tokyo?"}]


def test_function_call_outputs_follow_the_calls_in_order():
    with WireServer([ok("responses_final.json")]) as srv:
        resp = generate(srv.url, ModelRequest(conversation(), TOOLS))
    assert resp.text == "Paris is sunny, Tokyo is rainy." and resp.tool_calls == []
    items = srv.seen[0].body["input"]
    assert items[1:] == [
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call", "call_id": "c2", "name": "get_weather", "arguments": '{"city":"Tokyo"}'},
        {"type": "function_call_output", "call_id": "c1", "output": '{"temp": 21}'},
        {"type": "function_call_output", "call_id": "c2", "output": '{"temp": 17}'},
    ]
