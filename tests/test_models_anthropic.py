"""Messages API adapter against recorded wire responses served over loopback HTTP."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import TOOLS, conversation, generate
from wire_server import Reply, WireServer, ok, sse, wire_json

from evals.models.anthropic import AnthropicModel
from evals.models.base import Message, ModelRequest, ToolCall


def model(url: str, **opts) -> AnthropicModel:
    return AnthropicModel(
        "claude-sonnet-4-5", {"base_url": url, "cache": False, "retry_base_s": 0.01, **opts}
    )


def test_parallel_tool_use_and_usage_adds_cache_reads_and_writes(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    with WireServer([ok("anthropic_parallel.json")]) as srv:
        resp = generate(
            model(srv.url), ModelRequest(conversation()[:2], TOOLS, {"parallel_tool_calls": False})
        )
    assert [(c.id, c.name, c.arguments) for c in resp.tool_calls] == [
        ("toolu_01A09q90qw90lq917835lq9", "get_weather", {"city": "Paris"}),
        ("toolu_01B19q90qw90lq917835lq9", "get_weather", {"city": "Tokyo"}),
    ]
    assert resp.text == "I'll check both cities at once."
    # input_tokens excludes cache reads (1000) and writes (24): prompt = 93 + 1000 + 24
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.cached_tokens) == (
        1117,
        120,
        1000,
    )
    assert resp.finish_reason == "tool_use"
    seen = srv.seen[0]
    assert seen.path == "/v1/messages"
    assert seen.headers["x-api-key"] == "sk-ant-test" and seen.headers["anthropic-version"] == "2023-06-01"
    assert seen.body["system"] == "be quick"
    assert seen.body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert seen.body["tools"][0] == {
        "name": "get_weather",
        "description": "weather",
        "input_schema": TOOLS[0]["parameters"],
    }
    assert seen.body["max_tokens"] == 4096


def test_tool_results_are_merged_first_in_one_user_message_in_call_order():
    msgs = conversation() + [
        Message("assistant", "more", [ToolCall("c3", "get_time", "not json")]),
        Message(
            "tool", '{"error": {"code": "invalid_json", "message": "x"}}', tool_call_id="c3", name="get_time"
        ),
    ]
    with WireServer([ok("anthropic_parallel.json")]) as srv:
        generate(model(srv.url + "/v1"), ModelRequest(msgs, TOOLS))  # a trailing /v1 is tolerated
    body = srv.seen[0].body
    assert srv.seen[0].path == "/v1/messages"
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user", "assistant", "user"]
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "c1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "c2", "name": "get_weather", "input": {"city": "Tokyo"}},
    ]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "c1", "content": '{"temp": 21}'},
        {"type": "tool_result", "tool_use_id": "c2", "content": '{"temp": 17}'},
    ]
    assert body["messages"][3]["content"][1]["input"] == {}  # unparseable arguments cannot be sent as text
    assert body["messages"][4]["content"][0]["is_error"] is True
    assert "tool_choice" not in body


def test_overloaded_529_is_retried_after_retry_after():
    replies = [
        Reply(529, wire_json("anthropic_overloaded.json"), {"retry-after": "0"}),
        ok("anthropic_parallel.json"),
    ]
    with WireServer(replies) as srv:
        resp = generate(model(srv.url), ModelRequest(conversation()[:2], TOOLS))
    assert len(srv.seen) == 2 and len(resp.tool_calls) == 2


def test_stream_assembles_input_json_deltas():
    with WireServer([sse("anthropic_stream.sse")]) as srv:
        resp = generate(model(srv.url, stream=True), ModelRequest(conversation()[:2], TOOLS))
    assert resp.text == "Checking both cities."
    assert [(c.id, c.name) for c in resp.tool_calls] == [
        ("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
        ("toolu_02T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
        ("toolu_03", "get_time"),
    ]
    assert [
        json.loads(c.arguments) if isinstance(c.arguments, str) else c.arguments for c in resp.tool_calls
    ] == [
        {"city": "Paris"},
        {"city": "Tokyo"},
        {},
    ]
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.cached_tokens) == (
        2520,
        89,
        2048,
    )
    assert resp.finish_reason == "tool_use"
    assert resp.ttft_s is not None and resp.first_call_s is not None and resp.ttft_s <= resp.first_call_s
    assert srv.seen[0].body["stream"] is True


def test_error_event_mid_stream_is_retried():
    with WireServer([sse("anthropic_stream_overloaded.sse"), sse("anthropic_stream.sse")]) as srv:
        resp = generate(model(srv.url, stream=True), ModelRequest(conversation()[:2], TOOLS))
    assert len(srv.seen) == 2 and len(resp.tool_calls) == 3


def test_cache_writes_reach_the_trace_and_bill_at_the_cache_write_rate():
    from helpers import graph_suite

    from evals.episodes import EpisodeRecord
    from evals.groundtruth import resolve
    from evals.prices import Price, cost_usd
    from evals.runtime import run_episode
    from evals.scoring import score

    task = graph_suite({"t1": {"a": []}}).by_id["t1"]

    async def episode(m):
        try:
            return await run_episode(m, task)
        finally:
            await m.aclose()

    with WireServer([ok("anthropic_final_cache_write.json")]) as srv:
        trace = asyncio.run(episode(model(srv.url)))
    turn = trace.turns[0]
    assert (turn.prompt_tokens, turn.cached_tokens, turn.cache_write_tokens) == (10010, 0, 10000)
    price = Price(input=3.0, cached_input=0.3, cache_write=3.75, output=15.0)
    sc = score(resolve(task, 0), trace, price)
    assert sc.cost_usd == pytest.approx(cost_usd(price, 10010, 0, 5, cache_write=10000))
    assert sc.cost_usd == pytest.approx((10 * 3.0 + 10000 * 3.75 + 5 * 15.0) / 1e6)
    line = EpisodeRecord(task_id="t1", pattern=task.pattern, scores=sc, trace=trace).line()
    assert json.loads(line)["trace"]["turns"][0]["cache_write_tokens"] == 10000


def test_reported_thinking_tokens_are_used_and_the_estimate_is_the_fallback():
    from evals.models.anthropic import decode_message

    with WireServer([ok("anthropic_thinking_usage.json")]) as srv:
        resp = generate(model(srv.url), ModelRequest(conversation()[:2], TOOLS))
    # the raw reasoning the API counted, not an estimate of the summary "Check both."
    assert (resp.usage.reasoning_tokens, resp.usage.completion_tokens) == (900, 950)
    # streamed: message_delta's cumulative usage; a redacted-only turn has no text to estimate
    with WireServer([sse("anthropic_stream_thinking_usage.sse")]) as srv:
        resp = generate(model(srv.url, stream=True), ModelRequest(conversation()[:2], TOOLS))
    assert (resp.usage.reasoning_tokens, resp.usage.completion_tokens) == (580, 612)
    assert resp.provider_parts is not None and len(resp.tool_calls) == 1
    # no count reported: estimated from the thinking text, as before
    body = json.loads(wire_json("anthropic_thinking_usage.json"))
    del body["usage"]["output_tokens_details"]
    estimated = decode_message(body).usage.reasoning_tokens
    assert estimated is not None and 0 < estimated < 10
    body["content"] = body["content"][1:]
    assert decode_message(body).usage.reasoning_tokens is None  # the turn did not think


def test_billing_error_402_stops_the_run_like_a_spent_credit_balance():
    from evals.errors import ProviderFatalError

    with WireServer(
        [Reply(402, wire_json("anthropic_billing_402.json")), ok("anthropic_parallel.json")]
    ) as srv:
        with pytest.raises(ProviderFatalError, match=r"HTTP 402: Your account has an outstanding balance"):
            generate(model(srv.url), ModelRequest(conversation()[:2], TOOLS))
    assert len(srv.seen) == 1  # not retried, and no episode is failed in its place
