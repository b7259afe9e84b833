"""The provider seam (issues 11, 12, 16): kinds registered with @modelapi, an injectable httpx
transport, each provider's retry decision (fatal errors stop the run), bounded waits, lazy
connections, key scrubbing, and responses no model output can break (deep nesting, lone
surrogates) through the adapter, the cache and replay."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import stat
import threading
import time

import httpx
import pytest
from helpers import graph_suite
from test_models_openai import TOOLS, conversation
from wire_server import Reply, WireServer, ok

from evals.cache import ResponseCache
from evals.cli import main as fanout
from evals.emulator import EmulatorServer
from evals.errors import InfrastructureError, LocalIOError, ProviderFatalError
from evals.models import ModelContext, kinds, make_model, modelapi
from evals.models.base import Message, Model, ModelError, ModelRequest, ModelResponse
from evals.models.capabilities import UnsupportedSetting
from evals.models.http import Transport, loads_json, parse_options, shared_ssl_context
from evals.runtime import run_episode
from evals.settings import RuntimeSettings

REQ = ModelRequest(conversation()[:2], TOOLS)
FAST = {"cache": False, "retry_base_s": 0.0, "retry_max_s": 0.3}


def mock(spec: str, handler, **opts) -> Model:
    return make_model(
        spec,
        [],
        options={"base_url": "http://mock.test/v1", **FAST, **opts},
        http_transport=httpx.MockTransport(handler),
    )


def generate(m: Model, request: ModelRequest = REQ) -> ModelResponse:
    async def go():
        try:
            return await m.generate(request)
        finally:
            await m.aclose()

    return asyncio.run(go())


# -- registry ------------------------------------------------------------------------------------


def test_builtin_kinds_and_a_new_kind_is_one_decorated_factory():
    assert kinds()[:6] == ["policy", "openai", "anthropic", "openai-responses", "google", "replay"]

    class Echo(Model):
        async def generate(self, request):
            return ModelResponse(text=request.messages[-1].content)

    @modelapi("echo-test")
    def echo(name: str, ctx: ModelContext) -> Model:
        m = Echo()
        m.name = f"echo-test/{name}"
        return m

    m = make_model("echo-test/x", [])
    assert m.name == "echo-test/x" and generate(m).text == REQ.messages[-1].content
    with pytest.raises(ValueError, match="already registered"):
        modelapi("openai")(echo)
    with pytest.raises(ValueError, match="unknown provider 'nope'.*echo-test"):
        make_model("nope/x", [])


def test_an_injected_mock_transport_carries_every_request():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers["authorization"], json.loads(request.content)))
        return httpx.Response(200, content=ok("openai_chat_parallel.json").body)

    os.environ.setdefault("OPENAI_API_KEY", "sk-test")
    resp = generate(mock("openai/gpt-4.1", handler))
    assert len(resp.tool_calls) == 2 and seen[0][0] == "/v1/chat/completions"
    assert seen[0][2]["model"] == "gpt-4.1"


# -- retry decisions -------------------------------------------------------------------------------


def _status(status: int, body: dict, headers: dict | None = None):
    calls = []

    def handler(request):
        calls.append(request)
        return httpx.Response(status, json=body, headers=headers or {})

    return handler, calls


@pytest.mark.parametrize(
    "spec,status,body,words",
    [
        (
            "openai/gpt-4.1",
            401,
            {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}},
            "Incorrect API key",
        ),
        (
            "anthropic/claude-sonnet-4-5",
            403,
            {"type": "error", "error": {"type": "permission_error", "message": "not allowed"}},
            "not allowed",
        ),
        (
            "openai/gpt-nope",
            404,
            {"error": {"message": "The model `gpt-nope` does not exist"}},
            "does not exist",
        ),
        (
            "openai/gpt-4.1",
            429,
            {
                "error": {
                    "message": "You exceeded your current quota",
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                }
            },
            "quota exhausted",
        ),
        (
            "openai-responses/gpt-4.1",
            429,
            {"error": {"message": "quota", "code": "insufficient_quota"}},
            "quota exhausted",
        ),
        (
            "anthropic/claude-sonnet-4-5",
            400,
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "message": "Your credit balance is too low to access the Anthropic API.",
                },
            },
            "credit",
        ),
        (
            "anthropic/claude-sonnet-4-5",
            402,
            {
                "type": "error",
                "error": {"type": "billing_error", "message": "Your account has an outstanding balance."},
            },
            "billing",
        ),
        (
            "google/gemini-2.5-flash",
            429,
            {
                "error": {
                    "code": 429,
                    "status": "RESOURCE_EXHAUSTED",
                    "message": "Quota exceeded",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                            "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}],
                        },
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "40s"},
                    ],
                }
            },
            "daily quota",
        ),
        (
            "google/gemini-2.5-flash",
            400,
            {
                "error": {
                    "code": 400,
                    "message": "API key not valid. Please pass a valid API key.",
                    "status": "INVALID_ARGUMENT",
                    "details": [
                        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
                    ],
                }
            },
            "API key not valid",
        ),
    ],
)
def test_errors_no_retry_can_fix_stop_the_run_at_once(monkeypatch, spec, status, body, words):
    secret = "sk-SECRET-fatal-0123456789"
    for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.setenv(k, secret)
    body = json.loads(json.dumps(body).replace('"message": "', f'"message": "(key {secret}) ', 1))
    handler, calls = _status(status, body)
    with pytest.raises(ProviderFatalError, match=words) as exc:
        generate(mock(spec, handler))
    assert len(calls) == 1  # never retried
    assert secret not in str(exc.value) and str(exc.value).startswith(spec)
    assert isinstance(exc.value, InfrastructureError)


def test_fatal_error_stops_the_episode_instead_of_being_scored(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x-0123456789")
    handler, _ = _status(401, {"error": {"message": "bad key"}})
    suite = graph_suite({"t": {"a": []}})
    m = mock("openai/gpt-4.1", handler)
    with pytest.raises(ProviderFatalError):
        asyncio.run(run_episode(m, suite.tasks[0], RuntimeSettings(inference_profile="typical")))


def test_a_bad_request_fails_the_episode_only(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x-0123456789")
    handler, calls = _status(400, {"error": {"message": "messages: invalid"}})
    with pytest.raises(ModelError, match="HTTP 400: messages: invalid"):
        generate(mock("openai/gpt-4.1", handler))
    assert len(calls) == 1


def test_gemini_retry_delay_in_the_body_is_honoured(monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "g-key-0123456789")
    body = {
        "error": {
            "code": 429,
            "status": "RESOURCE_EXHAUSTED",
            "message": "slow down",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.25s"}],
        }
    }
    answers = [httpx.Response(429, json=body), httpx.Response(200, content=ok("gemini_parallel.json").body)]
    times = []

    def handler(request):
        times.append(time.perf_counter())
        return answers[len(times) - 1]

    resp = generate(mock("google/gemini-2.5-flash", handler))
    assert resp.tool_calls and times[1] - times[0] >= 0.25


def test_a_long_retry_after_is_capped_and_the_wait_logged(monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x-0123456789")
    answers = [
        httpx.Response(429, json={"error": {"message": "busy"}}, headers={"retry-after": "3600"}),
        httpx.Response(200, content=ok("openai_chat_final.json").body),
    ]
    n = []

    def handler(request):
        n.append(1)
        return answers[len(n) - 1]

    caplog.set_level(logging.WARNING)
    t0 = time.perf_counter()
    generate(mock("openai/gpt-4.1", handler, retry_max_s=0.2))
    assert time.perf_counter() - t0 < 2
    line = next(r.getMessage() for r in caplog.records if "retrying" in r.getMessage())
    assert "attempt 1/7 failed: HTTP 429: busy; retrying in 0.2 s" in line
    assert "asked for 3600 s; capped at retry_max_s 0.2 s" in line


def _failing_requests(n: int, caplog) -> list[str]:
    """`n` concurrent requests of one model to a server that answers every attempt 503: the
    retry warnings logged."""

    def handler(request):
        return httpx.Response(503, json={"error": {"message": "overloaded"}})

    m = mock("openai/gpt-4.1", handler, max_retries=2, retry_max_s=0.01)

    async def go():
        try:
            return await asyncio.gather(*(m.generate(REQ) for _ in range(n)), return_exceptions=True)
        finally:
            await m.aclose()

    caplog.set_level(logging.WARNING)
    results = asyncio.run(go())
    assert all(isinstance(r, ModelError) for r in results)
    return [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]


def test_one_cause_met_by_every_episode_is_one_warning_line_not_one_per_attempt(caplog):
    lines = _failing_requests(32, caplog)
    assert len(lines) == 1 and "HTTP 503: overloaded" in lines[0]


def test_each_attempt_is_a_line_when_they_are_far_enough_apart(caplog, monkeypatch):
    monkeypatch.setattr("evals.models.http.RETRY_LOG_EVERY_S", 0.0)
    lines = _failing_requests(3, caplog)
    assert len(lines) == 6  # 3 requests, 2 retries each
    assert not any("more attempt" in line for line in lines)


# -- bounded waits ---------------------------------------------------------------------------------


def _trickle_server() -> tuple[socket.socket, str]:
    """Sends a 200 head promising 1000 bytes, then one byte every 0.2 s."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()

    def serve():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
            try:
                for _ in range(1000):
                    conn.sendall(b" ")
                    time.sleep(0.2)
            except OSError:
                pass
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.getsockname()[1]}/v1"


def test_a_trickling_server_cannot_outlast_the_total_deadline(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x-0123456789")
    srv, url = _trickle_server()
    try:
        m = make_model(
            "openai/gpt-4.1",
            [],
            options={"base_url": url, "cache": False, "request_timeout": 1.0, "max_retries": 0},
        )
        t0 = time.perf_counter()
        with pytest.raises(ModelError, match=r"gave up after 1 attempt\(s\): timed out after 1 s"):
            generate(m)
        assert time.perf_counter() - t0 < 2.5  # per-read timeouts alone would wait 200 s
    finally:
        srv.close()


def test_a_slow_attempt_is_logged_once(monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x-0123456789")
    monkeypatch.setattr("evals.models.http.SLOW_LOG_S", 0.1)

    async def handler(request):
        await asyncio.sleep(0.35)
        return httpx.Response(200, content=ok("openai_chat_final.json").body)

    caplog.set_level(logging.WARNING)
    generate(mock("openai/gpt-4.1", handler))
    slow = [r.getMessage() for r in caplog.records if "still waiting" in r.getMessage()]
    assert len(slow) == 1 and "after 0.1 s" in slow[0] and "deadline 120 s" in slow[0]


def test_reasoning_models_get_a_longer_default_deadline(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x-0123456789")
    assert make_model("openai/gpt-5", [], options={"cache": False}).transport.timeout_s == 600
    assert make_model("openai/gpt-4.1", [], options={"cache": False}).transport.timeout_s == 120
    opts = {"cache": False, "request_timeout": 7}
    assert make_model("openai/gpt-5", [], options=opts).transport.timeout_s == 7


# -- connections -----------------------------------------------------------------------------------


def test_connections_are_created_lazily_and_share_one_ssl_context(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x-0123456789")
    replies = [Reply(delay_s=0.1, body=ok("openai_chat_final.json").body) for _ in range(12)]
    with WireServer(replies) as srv:
        m = make_model(
            "openai/gpt-4.1",
            [],
            options={"base_url": srv.url + "/v1", "cache": False, "max_connections": 1000},
        )
        assert m.transport.clients_created == 0  # nothing built up front

        async def go():
            try:
                for _ in range(4):  # one at a time: one connection reused
                    await m.generate(REQ)
                one = m.transport.clients_created
                await asyncio.gather(*(m.generate(REQ) for _ in range(8)))
                return one, m.transport.clients_created, list(m.transport._conns)
            finally:
                await m.aclose()

        one, many, transports = asyncio.run(go())
    assert one == 1 and many == 8  # no more than were ever in flight
    ctx = shared_ssl_context()
    assert ctx is shared_ssl_context()
    assert all(t._ssl is ctx for t in transports)


def test_secret_scrubbing_leaves_words_alone_for_a_short_key():
    t = Transport(parse_options({}), ["x"])
    assert t.scrub("unexpected x in 'x' (key=x)") == "unexpected *** in '***' (key=***)"
    long = Transport(parse_options({}), ["sk-abcdefgh"])
    assert long.scrub("key sk-abcdefghij leaked") == "key ***ij leaked"


# -- model output that must not break anything -----------------------------------------------------

DEEP = 10_000


def _deep(n: int) -> str:
    return '{"a":' * n + "1" + "}" * n


def test_loads_json_keeps_what_is_too_deep_as_exact_text():
    doc = loads_json('{"x": [1, ' + _deep(DEEP) + "]}")
    raw = doc["x"][1]
    for _ in range(61):  # objects down to depth 63; the container opening at depth 64 is text
        raw = raw["a"]
    assert isinstance(raw, str) and raw == _deep(DEEP - 61)
    assert loads_json('{"s": "\\ud800"}') == {"s": "\ud800"}


@pytest.mark.parametrize(
    "spec,body",
    [
        (
            "anthropic/m",
            '{"type":"message","role":"assistant","content":[{"type":"text","text":"\\ud800 hi"},'
            '{"type":"tool_use","id":"toolu_1","name":"get_weather","input":' + _deep(DEEP) + "}],"
            '"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":3}}',
        ),
        (
            "google/m",
            '{"candidates":[{"content":{"role":"model","parts":[{"text":"\\ud800 hi"},'
            '{"functionCall":{"name":"get_weather","args":' + _deep(DEEP) + "}}]},"
            '"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3}}',
        ),
        (
            "openai/m",
            '{"choices":[{"index":0,"message":{"role":"assistant","content":"\\ud800 hi","tool_calls":'
            '[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":'
            + json.dumps(_deep(DEEP))
            + '}}]},"finish_reason":"tool_calls"}]}',
        ),
    ],
)
def test_deep_arguments_and_lone_surrogates_survive_adapter_cache_and_next_request(
    tmp_path, monkeypatch, spec, body
):
    for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.setenv(k, "k-0123456789")
    sent = []

    def handler(request):
        sent.append(request.content)
        return httpx.Response(200, content=body.encode(), headers={"content-type": "application/json"})

    opts = {"cache": True, "cache_path": str(tmp_path / "c.sqlite")}
    live = generate(mock(spec, handler, **opts))
    assert live.text == "\ud800 hi"
    assert live.tool_calls[0].arguments == _deep(DEEP)  # kept intact, as text
    cached = generate(mock(spec, handler, **opts))
    assert cached.cached and len(sent) == 1
    assert (cached.text, cached.tool_calls[0].arguments) == (live.text, live.tool_calls[0].arguments)
    # the next turn echoes both back: the body is still valid JSON (\u escapes), nothing crashes
    msgs = [
        *REQ.messages,
        Message("assistant", live.text, live.tool_calls),
        Message("tool", "{}", tool_call_id=live.tool_calls[0].id, name="get_weather"),
    ]
    generate(mock(spec, handler, cache=False), ModelRequest(msgs, TOOLS))
    assert "\\ud800" in sent[-1].decode("ascii")


def test_replay_serves_deep_arguments_and_lone_surrogates(tmp_path):
    from evals.runs import build_model, execute, load_run, start_run

    suite = graph_suite({"t": {"a": []}})
    run_dir, cfg = start_run(
        "policy/oracle", suite, tmp_path, runtime=RuntimeSettings(inference_profile="typical")
    )
    asyncio.run(execute(run_dir, cfg, build_model(cfg, [suite]), suite, progress=False))
    _, rows = load_run(run_dir)
    rows[0]["trace"]["turns"][0]["text"] = "\ud800"
    rows[0]["trace"]["calls"][0]["raw_arguments"] = _deep(DEEP)
    (run_dir / "episodes.jsonl").write_text("".join(json.dumps(r, ensure_ascii=True) + "\n" for r in rows))
    replay = make_model(f"replay/{run_dir}", [suite])
    system, user = "s", suite.tasks[0].prompt
    resp = generate(
        replay, ModelRequest([Message("system", system), Message("user", user)], suite.tasks[0].tool_specs)
    )
    assert resp.text == "\ud800" and resp.tool_calls[0].arguments == _deep(DEEP)


# -- the cache ---------------------------------------------------------------------------------------


def test_cache_file_is_private_and_a_failed_write_stops_the_run(tmp_path):
    path = tmp_path / "sub" / "c.sqlite"
    c = ResponseCache(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    c.put("k", "p", "m", "e", 0, {"text": "\ud800"})
    assert c.get("k") == {"text": "\ud800"}  # a lone surrogate round-trips

    class Full:
        def execute(self, *a):
            import sqlite3

            raise sqlite3.OperationalError("database or disk is full")

        def close(self):
            pass

    c.db = Full()
    with pytest.raises(
        LocalIOError, match="cannot be written \\(database or disk is full\\); free disk space"
    ):
        c.put("k2", "p", "m", "e", 0, {})


# -- parameters the model rejects ------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv,message",
    [
        (
            ["--model", "openai/gpt-5", "--temperature", "0.2"],
            "openai/gpt-5: the model rejects temperature (only its default is supported); drop --temperature",
        ),
        (["--model", "openai-responses/o3", "--temperature", "0"], "rejects temperature"),
        (["--model", "anthropic/claude-opus-4-7", "--temperature", "0.2"], "rejects temperature"),
        (
            ["--model", "openai/gpt-5", "--reasoning-effort", "xhigh"],
            "--reasoning-effort xhigh is not accepted; use one of minimal, low, medium, high",
        ),
        (["--model", "openai/gpt-5", "--thinking-budget", "2000"], "use --reasoning-effort instead"),
        (
            ["--model", "anthropic/claude-sonnet-4-5", "--reasoning-effort", "high"],
            "use --thinking-budget instead",
        ),
        (
            ["--model", "anthropic/claude-sonnet-4-5", "--thinking-budget", "512"],
            "below the model's minimum of 1024",
        ),
        (
            ["--model", "anthropic/claude-sonnet-4-5", "--thinking-budget", "2048", "--max-tokens", "2000"],
            "must exceed --thinking-budget",
        ),
        (
            ["--model", "anthropic/claude-sonnet-4-5", "--thinking-budget", "2048", "--temperature", "0.5"],
            "cannot be set while thinking is on",
        ),
        (["--model", "openai/gpt-4.1", "--reasoning-effort", "low"], "does not reason"),
        (["--model", "openai/gpt-5", "-M", "top_p=0.5"], "rejects top_p"),
    ],
)
def test_a_rejected_parameter_is_one_line_before_any_request(tmp_path, capsys, argv, message):
    suite = graph_suite({"t": {"a": []}})
    with EmulatorServer([suite]) as srv:
        code = fanout(
            [
                "run",
                "--suite",
                "core",
                *argv,
                "--base-url",
                srv.base_url + "/v1",
                "--out",
                str(tmp_path / "runs"),
                "--no-progress",
            ]
        )
        assert srv.requests_served == 0
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not any((tmp_path / "runs").glob("*/run.json"))  # no run folder left behind


def test_unlisted_models_get_no_checks():
    from evals.models.capabilities import check_settings

    check_settings("openai/my-finetune", {"temperature": 0.3, "reasoning_effort": "high"}, {"top_p": 1})
    with pytest.raises(UnsupportedSetting):
        check_settings("openai/o4-mini", {"temperature": 0.3}, {})


# -- reasoning controls on the wire ----------------------------------------------------------------


def _body(spec: str, settings: dict, params: dict | None = None, stream: bool = False) -> dict:
    for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        os.environ.setdefault(k, "k-0123456789")
    m = make_model(spec, [], options={"cache": False, "settings": settings, "params": params or {}})
    return m.finish_body(m.encode(ModelRequest(conversation()[:2], TOOLS, settings), stream), stream)


def test_openai_chat_reasoning_controls():
    b = _body("openai/gpt-5", {"reasoning_effort": "minimal", "max_tokens": 5000})
    assert (b["reasoning_effort"], b["max_completion_tokens"]) == ("minimal", 5000)
    assert "temperature" not in b and "max_tokens" not in b


def test_responses_reasoning_controls_and_encrypted_reasoning_requested():
    b = _body(
        "openai-responses/gpt-5",
        {
            "reasoning_effort": "high",
            "max_tokens": 900,
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        },
    )
    assert b["reasoning"] == {"effort": "high"} and b["max_output_tokens"] == 900
    assert b["include"] == ["reasoning.encrypted_content"] and b["store"] is False
    assert b["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert all(t["strict"] is False for t in b["tools"])
    assert "include" not in _body("openai-responses/gpt-4.1", {})  # a model that does not reason


def test_anthropic_thinking_budget_leaves_room_for_the_answer():
    b = _body("anthropic/claude-sonnet-4-5", {"thinking_budget": 8000})
    assert b["thinking"] == {"type": "enabled", "budget_tokens": 8000} and b["max_tokens"] == 8000 + 4096
    assert _body("anthropic/claude-sonnet-4-5", {})["max_tokens"] == 4096  # unchanged without thinking
    a = _body("anthropic/claude-opus-4-7", {"reasoning_effort": "xhigh"})
    assert a["thinking"] == {"type": "adaptive"} and a["output_config"] == {"effort": "xhigh"}
    assert a["max_tokens"] == 32000
    c = _body(
        "anthropic/claude-sonnet-4-5",
        {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
    )
    assert c["tool_choice"] == {"type": "tool", "name": "get_weather"}  # not the OpenAI shape


def test_gemini_thinking_config_and_tool_choice():
    b = _body(
        "google/gemini-2.5-flash", {"thinking_budget": 0, "max_tokens": 2048, "tool_choice": "required"}
    )
    assert b["generationConfig"] == {"maxOutputTokens": 2048, "thinkingConfig": {"thinkingBudget": 0}}
    assert b["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    g3 = _body(
        "google/gemini-3-pro-preview",
        {"reasoning_effort": "low", "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
    )
    assert g3["generationConfig"]["thinkingConfig"] == {"thinkingLevel": "low"}
    assert g3["toolConfig"]["functionCallingConfig"] == {
        "mode": "ANY",
        "allowedFunctionNames": ["get_weather"],
    }
    assert _body("google/gemini-3-pro-preview", {}, stream=True)  # the stream URL is separate
    m = make_model("google/gemini-2.5-flash", [], options={"cache": False})
    assert m.url(True).endswith(":streamGenerateContent?alt=sse") and m.url(False).endswith(
        ":generateContent"
    )


def test_provider_parameters_merge_into_the_body_with_dotted_keys():
    b = _body(
        "anthropic/claude-sonnet-4-5",
        {"thinking_budget": 2048},
        {"top_k": 40, "thinking.type": "enabled", "metadata.user_id": "u1"},
    )
    assert b["top_k"] == 40 and b["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert b["metadata"] == {"user_id": "u1"}


def test_cli_stores_the_reasoning_flags_in_model_options():
    from evals.cli import build_parser
    from evals.cli.provider_flags import model_options

    args = build_parser().parse_args(
        [
            "run",
            "--reasoning-effort",
            "low",
            "--thinking-budget",
            "0",
            "--max-tokens",
            "300",
            "-M",
            "top_k=40",
            "-M",
            "x.y=true",
        ]
    )
    assert model_options(args) == {
        "settings": {"reasoning_effort": "low", "thinking_budget": 0, "max_tokens": 300},
        "params": {"top_k": 40, "x.y": True},
    }
