"""Gemini generateContent adapter against recorded wire responses served over loopback HTTP."""

from __future__ import annotations

from conftest import TOOLS, conversation
from conftest import generate as run_closed
from wire_server import WireServer, ok, sse

from evals.models.base import Message, ModelRequest, ToolCall
from evals.models.google import GeminiModel


def generate(url, request, **opts):
    return run_closed(GeminiModel("gemini-2.5-flash", {"base_url": url, "cache": False, **opts}), request)


def test_several_function_calls_and_usage_metadata(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "gm-test-key")
    with WireServer([ok("gemini_parallel.json")]) as srv:
        resp = generate(srv.url, ModelRequest(conversation()[:2], TOOLS, {"temperature": 0}))
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("gemini-local-1-0", "get_weather", {"city": "Paris"}),
        ("gemini-local-1-1", "get_weather", {"city": "Tokyo"}),
    ]
    # promptTokenCount includes cached; thinking tokens are output
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.cached_tokens) == (
        1200,
        42,
        1024,
    )
    seen = srv.seen[0]
    assert seen.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert seen.headers["x-goog-api-key"] == "gm-test-key" and "key=" not in seen.path
    assert seen.body["systemInstruction"] == {"parts": [{"text": "be quick"}]}
    assert seen.body["tools"][0]["functionDeclarations"][0] == {
        "name": "get_weather",
        "description": "weather",
        "parametersJsonSchema": TOOLS[0]["parameters"],
    }
    assert seen.body["generationConfig"] == {"temperature": 0}


def test_function_responses_in_one_user_turn_in_call_order():
    with WireServer([ok("gemini_final.json")]) as srv:
        resp = generate(srv.url + "/v1beta", ModelRequest(conversation(), TOOLS))
    assert resp.text == "Paris is sunny, Tokyo is rainy." and resp.finish_reason == "stop"
    contents = srv.seen[0].body["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    assert contents[1]["parts"] == [
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "c1"}},
        {"functionCall": {"name": "get_weather", "args": {"city": "Tokyo"}, "id": "c2"}},
    ]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"temp": 21}, "id": "c1"}},
        {"functionResponse": {"name": "get_weather", "response": {"temp": 17}, "id": "c2"}},
    ]


def test_server_given_ids_are_echoed_and_local_ids_are_not():
    msgs = [
        Message("user", "Weather in Paris and Tokyo?"),
        Message(
            "assistant",
            None,
            [ToolCall("fc-7", "get_weather", "{}"), ToolCall("gemini-local-1-1", "get_time", "{}")],
        ),
        Message("tool", "[1]", tool_call_id="fc-7", name="get_weather"),
        Message("tool", "{}", tool_call_id="gemini-local-1-1", name="get_time"),
    ]
    with WireServer([ok("gemini_final.json")]) as srv:
        generate(srv.url, ModelRequest(msgs, TOOLS))
    contents = srv.seen[0].body["contents"]
    assert contents[1]["parts"] == [
        {"functionCall": {"name": "get_weather", "args": {}, "id": "fc-7"}},
        {"functionCall": {"name": "get_time", "args": {}}},
    ]
    assert contents[2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": [1]}, "id": "fc-7"}},
        {"functionResponse": {"name": "get_time", "response": {}}},
    ]


def test_blocked_prompt_streamed_ends_like_the_same_answer_not_streamed():
    # A blocked prompt is one chunk with promptFeedback.blockReason and no candidates (no
    # finishReason ever comes): terminal, not a dropped connection to retry.
    req = ModelRequest(conversation()[:2], TOOLS)
    with WireServer([ok("gemini_blocked.json")]) as srv:
        plain = generate(srv.url, req)
    with WireServer([sse("gemini_stream_blocked.sse"), ok("gemini_final.json")]) as srv:
        streamed = generate(srv.url, req, stream=True, retry_base_s=0)
    assert len(srv.seen) == 1 and srv.seen[0].path.endswith(":streamGenerateContent?alt=sse")
    assert plain.finish_reason == streamed.finish_reason == "prohibited_content"
    assert plain.text is None and streamed.text is None and streamed.tool_calls == []
    assert (streamed.usage.prompt_tokens, streamed.usage.completion_tokens) == (12, 0)
    assert streamed.usage == plain.usage
