"""Chat Completions adapter against recorded wire responses served over loopback HTTP."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import TOOLS, conversation, generate
from wire_server import Reply, WireServer, ok, sse

from evals.models.base import ModelRequest
from evals.models.openai import OpenAIChatModel
from evals.runtime import _parse


def model(url: str, **opts) -> OpenAIChatModel:
    return OpenAIChatModel("gpt-4.1", {"base_url": url + "/v1", "cache": False, "retry_base_s": 0.01, **opts})


def test_parallel_calls_usage_and_request_shape(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    with WireServer([ok("openai_chat_parallel.json")]) as srv:
        req = ModelRequest(conversation()[:2], TOOLS, {"parallel_tool_calls": True, "temperature": 0.0})
        resp = generate(model(srv.url), req)
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("call_a1", "get_weather", '{"city": "Paris"}'),
        ("call_b2", "get_weather", '{"city": "Tokyo"}'),
    ]
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.cached_tokens) == (
        1117,
        46,
        1024,
    )
    assert resp.usage.estimated is False
    assert resp.text is None and resp.finish_reason == "tool_calls" and resp.cached is False
    assert resp.latency_s is not None and resp.latency_s > 0
    seen = srv.seen[0]
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-test-key"
    assert seen.body["parallel_tool_calls"] is True and seen.body["temperature"] == 0.0
    assert seen.body["tools"][0] == {"type": "function", "function": TOOLS[0]}
    assert "stream" not in seen.body


def test_tool_results_go_back_in_call_order_as_strings(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with WireServer([ok("openai_chat_final.json")]) as srv:
        resp = generate(model(srv.url), ModelRequest(conversation(), TOOLS))
    assert resp.text == "Paris is sunny, Tokyo is rainy." and resp.tool_calls == []
    msgs = srv.seen[0].body["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "tool", "tool"]
    assert msgs[2]["tool_calls"][1]["function"]["arguments"] == '{"city":"Tokyo"}'  # object sent as JSON text
    assert [m["tool_call_id"] for m in msgs[3:]] == ["c1", "c2"]
    assert "authorization" not in srv.seen[0].headers  # no key set: none sent to a local server
    assert "parallel_tool_calls" not in srv.seen[0].body  # only sent when asked for


def test_quirks_object_arguments_missing_and_duplicate_ids_empty_content_no_usage():
    with WireServer([ok("openai_chat_quirks.json")]) as srv:
        resp = generate(model(srv.url), ModelRequest(conversation()[:2], TOOLS))
    ids = [c.id for c in resp.tool_calls]
    assert ids == ["call_1_0", "dup", "dup_2", "x9"]
    assert resp.text is None  # "" with tool calls
    assert resp.usage is None  # the runtime estimates and flags it
    assert resp.tool_calls[0].arguments == {"city": "Paris"}
    # the runtime parses what the adapter passes through: the broken call is kept, not dropped
    assert _parse(resp.tool_calls[0].arguments)[1] == {"city": "Paris"}
    assert _parse(resp.tool_calls[2].arguments)[1] is None
    assert resp.tool_calls[3].name == "no_such_tool" and _parse(resp.tool_calls[3].arguments)[1] == {}


def test_ids_reused_from_earlier_turns_are_made_unique():
    # conversation() already used c1 and c2; a server restarting its ids must not collide with them
    body = ok("openai_chat_parallel.json").body.replace(b"call_a1", b"c1").replace(b"call_b2", b"c3")
    with WireServer([Reply(body=body)]) as srv:
        resp = generate(model(srv.url), ModelRequest(conversation(), TOOLS))
    assert [c.id for c in resp.tool_calls] == ["c1_0", "c3"]


def test_stream_assembles_argument_deltas_and_times_first_call():
    with WireServer([sse("openai_chat_stream.sse")]) as srv:
        resp = generate(model(srv.url, stream=True), ModelRequest(conversation()[:2], TOOLS))
    assert [(c.id, c.name, json.loads(c.arguments)) for c in resp.tool_calls] == [
        ("call_a1", "get_weather", {"city": "Paris"}),
        ("call_b2", "get_weather", {"city": "Tokyo"}),
    ]
    assert (resp.usage.prompt_tokens, resp.usage.cached_tokens) == (1117, 1024)
    assert resp.finish_reason == "tool_calls"
    assert resp.ttft_s is not None and resp.first_call_s is not None and resp.ttft_s <= resp.first_call_s
    body = srv.seen[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_server_ignoring_stream_true_answers_plain_json():
    with WireServer([ok("openai_chat_parallel.json")]) as srv:
        resp = generate(model(srv.url, stream=True), ModelRequest(conversation()[:2], TOOLS))
    assert srv.seen[0].body["stream"] is True and len(srv.seen) == 1
    assert [c.id for c in resp.tool_calls] == ["call_a1", "call_b2"] and resp.ttft_s is None


def test_truncated_stream_is_retried():
    with WireServer([sse("openai_chat_stream_truncated.sse"), sse("openai_chat_stream.sse")]) as srv:
        resp = generate(model(srv.url, stream=True), ModelRequest(conversation()[:2], TOOLS))
    assert len(srv.seen) == 2 and len(resp.tool_calls) == 2


def test_client_error_is_not_retried_and_names_the_status():
    from evals.models.base import ModelError

    with WireServer([Reply(400, b'{"error": {"message": "bad tools"}}')]) as srv:
        with pytest.raises(ModelError, match="HTTP 400.*bad tools"):
            generate(model(srv.url), ModelRequest(conversation()[:2], TOOLS))
    assert len(srv.seen) == 1


def test_default_endpoint_without_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        OpenAIChatModel("gpt-4.1", {"cache": False})


def test_broken_calls_flow_through_the_runtime_and_score_as_extraneous():
    from helpers import graph_suite

    from evals.groundtruth import resolve
    from evals.runtime import run_episode
    from evals.scoring import score
    from evals.settings import RuntimeSettings

    suite = graph_suite({"g": {"a": []}})
    task = suite.by_id["g"]
    cfg = RuntimeSettings(inference_profile="typical")
    with WireServer([ok("openai_chat_quirks.json"), ok("openai_chat_final.json")]) as srv:
        m = model(srv.url)

        async def go():
            try:
                return await run_episode(m, task, cfg)
            finally:
                await m.aclose()

        trace = asyncio.run(go())
    assert trace.stop == "answer" and trace.error is None
    assert [c.error for c in trace.calls] == ["unknown_tool", "unknown_tool", "invalid_json", "unknown_tool"]
    sc = score(resolve(task, 0), trace)
    assert sc.classes["extraneous"] == 4 and sc.redundant_calls == 4 and sc.success is False


def test_refusal_is_the_answer_with_finish_reason_refusal():
    with WireServer([ok("openai_chat_refusal.json")]) as srv:
        plain = generate(model(srv.url), ModelRequest(conversation()[:2], TOOLS))
    with WireServer([sse("openai_chat_stream_refusal.sse")]) as srv:
        streamed = generate(model(srv.url, stream=True), ModelRequest(conversation()[:2], TOOLS))
    for resp in (plain, streamed):
        assert resp.text == "I'm sorry, I can't help with that."
        assert resp.finish_reason == "refusal" and resp.tool_calls == []
    assert streamed.ttft_s is not None
    # `refusal: null` beside an answer changes nothing
    with WireServer([ok("openai_chat_final.json")]) as srv:
        resp = generate(model(srv.url), ModelRequest(conversation(), TOOLS))
    assert (resp.text, resp.finish_reason) == ("Paris is sunny, Tokyo is rainy.", "stop")
