"""Resilience of the shared HTTP transport: retries, Retry-After, timeouts, limits, key hygiene."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import httpx
import pytest
from conftest import TOOLS, conversation, generate
from wire_server import Reply, WireServer, ok

from evals.errors import ProviderUnreachableError
from evals.models.base import ModelError, ModelRequest
from evals.models.http import RateLimiter, backoff_s, parse_options, retry_after_s
from evals.models.openai import OpenAIChatModel

REQ = ModelRequest(conversation()[:2], TOOLS)


def run(m, request=REQ):
    return generate(m, request)


def model(url, **opts):
    return OpenAIChatModel("gpt-4.1", {"base_url": url + "/v1", "cache": False, "retry_base_s": 0.01, **opts})


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retryable_statuses_are_retried(status):
    with WireServer([Reply(status, b'{"error": "busy"}'), ok("openai_chat_parallel.json")]) as srv:
        resp = run(model(srv.url))
    assert len(srv.seen) == 2 and len(resp.tool_calls) == 2


def test_retry_after_is_honoured():
    replies = [Reply(429, b"{}", {"retry-after": "0.4"}), ok("openai_chat_parallel.json")]
    with WireServer(replies) as srv:
        t0 = time.perf_counter()
        resp = run(model(srv.url, retry_base_s=0.0))
        waited = time.perf_counter() - t0
    assert waited >= 0.4
    # the recorded latency is the successful attempt's alone, not the wait before it
    assert resp.latency_s <= waited - 0.4


def test_dropped_connection_truncated_and_malformed_bodies_are_retried():
    replies = [
        Reply(drop=True),
        Reply(body=b'{"id": "chatcmpl-x", "choices": [{"index": 0, "mess'),
        Reply(body=b"[1, 2]"),
        ok("openai_chat_parallel.json"),
    ]
    with WireServer(replies) as srv:
        resp = run(model(srv.url))
    assert len(srv.seen) == 4 and len(resp.tool_calls) == 2


def test_timeout_is_retried_then_gives_up_with_model_error():
    replies = [Reply(delay_s=0.5, body=b"{}")] * 2
    with WireServer(replies) as srv:
        with pytest.raises(ModelError, match=r"gave up after 2 attempt\(s\): timed out after 0.2 s"):
            run(model(srv.url, request_timeout=0.2, max_retries=1))
    assert len(srv.seen) == 2


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_that_refuses_every_attempt_is_unreachable_not_a_model_error():
    """No attempt reached a server: the network is down, which stops the run (exit 4) instead of
    failing the episode as if the model had answered badly."""
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(
        ProviderUnreachableError,
        match=r"cannot reach .* after 2 attempt\(s\): connection failed: ConnectError",
    ):
        run(model(url, max_retries=1))


def test_a_connection_dropped_by_the_server_on_every_attempt_stays_a_model_error():
    with WireServer([Reply(drop=True), Reply(drop=True)]) as srv:
        with pytest.raises(ModelError, match=r"gave up after 2 attempt\(s\)") as exc:
            run(model(srv.url, max_retries=1))
    assert not isinstance(exc.value, ProviderUnreachableError)


def test_final_failure_is_model_error_and_scrubs_the_key(monkeypatch, caplog):
    secret = "sk-live-SECRET-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    caplog.set_level(logging.DEBUG)
    echo = f'{{"error": "bad key {secret}"}}'.encode()
    with WireServer([Reply(500, echo), Reply(500, echo)]) as srv:
        with pytest.raises(ModelError) as exc:
            run(model(srv.url, max_retries=1))
    assert "HTTP 500" in str(exc.value) and secret not in str(exc.value) and "***" in str(exc.value)
    assert secret not in caplog.text and "retrying" in caplog.text


def test_backoff_is_exponential_deterministic_and_capped():
    waits = [backoff_s(a, 1.0, 60.0, "k", None) for a in range(4)]
    assert waits == [backoff_s(a, 1.0, 60.0, "k", None) for a in range(4)]  # same key, same waits
    for a, w in enumerate(waits):
        assert 0.5 * 2**a <= w <= 2**a
    assert backoff_s(3, 1.0, 60.0, "other", None) != waits[3]
    assert backoff_s(0, 1.0, 60.0, "k", 5.0) == 5.0  # never sooner than Retry-After
    assert backoff_s(10, 1.0, 3.0, "k", 100.0) == 3.0  # never longer than the cap


def test_retry_after_header_forms():
    assert retry_after_s(httpx.Headers({"retry-after": "2"})) == 2.0
    assert retry_after_s(httpx.Headers({"retry-after-ms": "250"})) == 0.25
    assert retry_after_s(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0  # past
    assert retry_after_s(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after_s(httpx.Headers({})) is None


def test_connection_limit_bounds_concurrent_requests():
    replies = [Reply(delay_s=0.15, body=(ok("openai_chat_final.json").body)) for _ in range(6)]
    with WireServer(replies) as srv:
        m = model(srv.url, max_connections=2)

        async def go():
            try:
                t0 = time.perf_counter()
                await asyncio.gather(*(m.generate(REQ) for _ in range(6)))
                return time.perf_counter() - t0
            finally:
                await m.aclose()

        took = asyncio.run(go())
    # 6 requests of 0.15 s, 2 at a time: at least 3 rounds
    assert took >= 0.45 and len(srv.seen) == 6


def test_rate_limiter_spaces_request_starts():
    async def go():
        lim = RateLimiter(rpm=600)  # one every 0.1 s
        t0 = time.perf_counter()
        for _ in range(4):
            await lim.wait()
        return time.perf_counter() - t0

    assert asyncio.run(go()) >= 0.3


def test_bad_options_are_a_clear_error():
    with pytest.raises(ValueError, match="invalid model options: max_connections"):
        parse_options({"max_connections": 0})


def test_base_url_without_scheme_fails_before_any_request():
    with pytest.raises(ValueError, match="must start with http:// or https://"):
        OpenAIChatModel("m", {"base_url": "localhost:8000/v1", "cache": False})
