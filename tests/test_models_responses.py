"""Responses API adapter against recorded wire responses served over loopback HTTP."""

from __future__ import annotations

import json

import pytest
from conftest import TOOLS, conversation
from conftest import generate as run_closed
from wire_server import Reply, WireServer, ok, sse, wire_json

from evals.errors import ProviderFatalError
from evals.models.base import Message, ModelError, ModelRequest
from evals.models.responses import ResponsesModel


def generate(url, request, model="gpt-4.1", **opts):
    return run_closed(ResponsesModel(model, {"base_url": url + "/v1", "cache": False, **opts}), request)


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


def _second_turn(first) -> ModelRequest:
    """The conversation after `first` (a response with calls), its results answered."""
    msgs = conversation()[:2] + [
        Message("assistant", first.text, first.tool_calls, provider_parts=first.provider_parts)
    ]
    msgs += [Message("tool", "{}", tool_call_id=c.id, name=c.name) for c in first.tool_calls]
    return ModelRequest(msgs, TOOLS)


def test_unencrypted_reasoning_item_is_not_replayed_under_store_false():
    # An unlisted reasoning model (an Azure deployment name) gets no `include`, so its reasoning
    # item has no encrypted_content: under store:false the server could not resolve its id.
    with WireServer([ok("responses_parallel.json"), ok("responses_final.json")]) as srv:
        first = generate(srv.url, ModelRequest(conversation()[:2], TOOLS), "my-o4-mini-deployment")
        assert first.provider_parts is not None and "include" not in srv.seen[0].body
        generate(srv.url, _second_turn(first), "my-o4-mini-deployment")
    items = srv.seen[1].body["input"]
    assert srv.seen[1].body["store"] is False
    assert [i.get("type") for i in items[1:]] == ["function_call"] * 2 + ["function_call_output"] * 2
    # everything else goes back verbatim, the function_call items with their ids
    assert items[1:3] == [i for i in first.provider_parts.items if i["type"] == "function_call"]


def test_reasoning_items_that_resolve_without_storage_are_replayed_verbatim():
    # encrypted_content (a listed reasoning model), reasoning text of its own (a compatible server
    # serving an open model), or -M store=true: the item goes back as received
    for extra, opts in (
        ({"encrypted_content": "gAAAAB..."}, {}),
        ({"content": [{"type": "reasoning_text", "text": "both at once"}]}, {}),
        ({}, {"params": {"store": True}}),
    ):
        body = wire_json("responses_parallel.json").replace(
            b'{"type": "reasoning", "id": "rs_1", "summary": []}',
            json.dumps({"type": "reasoning", "id": "rs_1", "summary": [], **extra}).encode(),
        )
        with WireServer([Reply(body=body), ok("responses_final.json")]) as srv:
            first = generate(srv.url, ModelRequest(conversation()[:2], TOOLS), "o4-mini", **opts)
            generate(srv.url, _second_turn(first), "o4-mini", **opts)
        assert first.provider_parts.items[0] == {"type": "reasoning", "id": "rs_1", "summary": [], **extra}
        assert srv.seen[1].body["input"][1:4] == first.provider_parts.items


def test_item_not_found_404_fails_the_episode_and_other_404s_stop_the_run():
    replies = [Reply(404, wire_json("responses_item_not_found.json"))]
    with WireServer(replies) as srv:
        with pytest.raises(ModelError, match=r"HTTP 404: Item with id 'rs_1' not found") as exc:
            generate(srv.url, ModelRequest(conversation(), TOOLS))
    assert not isinstance(exc.value, ProviderFatalError) and len(srv.seen) == 1
    unknown = b'{"error": {"message": "The model `gpt-9` does not exist", "type": "invalid_request_error"}}'
    with WireServer([Reply(404, unknown)]) as srv:
        with pytest.raises(ProviderFatalError, match="unknown model or endpoint"):
            generate(srv.url, ModelRequest(conversation(), TOOLS))


def test_refusal_part_is_the_answer_with_finish_reason_refusal():
    with WireServer([ok("responses_refusal.json")]) as srv:
        resp = generate(srv.url, ModelRequest(conversation()[:2], TOOLS))
    assert resp.text == "I'm sorry, I can't help with that."
    assert resp.finish_reason == "refusal" and resp.tool_calls == []


def test_stream_error_event_message_is_read_from_the_top_level():
    # ResponseErrorEvent carries code and message at the top level, not under "error"
    with WireServer([sse("responses_stream_error.sse")]) as srv:
        with pytest.raises(ModelError, match=r"error event in stream: server_error The server had an error"):
            generate(srv.url, ModelRequest(conversation()[:2], TOOLS), stream=True, max_retries=0)
    assert len(srv.seen) == 1
