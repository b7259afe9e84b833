"""The emulator over raw HTTP (httpx): episodes, usage, errors, faults, concurrency, CLI guard rails.

Helpers here (`suite`, `ToolRunner`, `inprocess`) are also used by test_emulator_sdk.py.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import pytest

from evals.cli import main as cli_main
from evals.cli.serve import is_loopback
from evals.emulator import EmulatorServer, FaultConfig
from evals.fixtures import Suite, Task, load_suite
from evals.models.policies import PolicyModel
from evals.prompts import PromptTemplates
from evals.runtime import run_episode, world_for
from evals.settings import RuntimeSettings
from evals.trace import Trace
from mock_tools import EpisodeState, ToolContext, error_result

TASK = "orders_multi_wave_01"
KEY = {"Authorization": "Bearer test"}


# -- shared helpers ---------------------------------------------------------------------------
_SUITE: Suite | None = None


def core_suite() -> Suite:
    global _SUITE
    if _SUITE is None:
        _SUITE = load_suite("core", collect=True)
        assert TASK in _SUITE.by_id, f"core suite lost task {TASK}"
    return _SUITE


def prompts(task: Task) -> tuple[str, str]:
    return PromptTemplates.load().render(task)


class ToolRunner:
    """Executes a batch the way the runtime does: every call sees the state at batch start."""

    def __init__(self, task: Task, seed: int = 0):
        self.task, self.world, self.state = task, world_for(seed), EpisodeState()
        self.batches: list[list[tuple[str, dict]]] = []

    def run(self, calls: list[tuple[str, dict]]) -> list[str]:
        self.batches.append(calls)
        out, writes = [], []
        for name, args in calls:
            tool = self.task.tool_by_name.get(name)
            if tool is None:
                result = error_result("unknown_tool", f"no tool named {name!r} is available")
            else:
                ctx = ToolContext(self.world, self.state)
                result = tool.invoke(args, ctx)
                writes.append(ctx.writes)
            out.append(json.dumps(result, separators=(",", ":"), ensure_ascii=False, default=str))
        for w in writes:
            self.state.apply(w)
        return out


def inprocess(task: Task, policy: str = "oracle") -> Trace:
    model = PolicyModel(policy, [core_suite()])
    return asyncio.run(run_episode(model, task, RuntimeSettings()))


def inprocess_batches(tr: Trace) -> list[list[tuple[str, dict]]]:
    out: dict[int, list] = {}
    for c in tr.calls:
        out.setdefault(c.turn, []).append((c.name, c.arguments))
    return [out[t] for t in sorted(out)]


def usage_rows(tr: Trace) -> list[tuple[int, int, int]]:
    return [(t.prompt_tokens, t.cached_tokens, t.completion_tokens) for t in tr.turns]


@pytest.fixture(scope="module")
def suite() -> Suite:
    return core_suite()


@pytest.fixture(scope="module")
def task(suite) -> Task:
    return suite.by_id[TASK]


@pytest.fixture(scope="module")
def server(suite):
    with EmulatorServer([suite]) as s:
        yield s


@pytest.fixture(scope="module")
def reference(task) -> Trace:
    return inprocess(task)


# -- raw-HTTP episodes per format -------------------------------------------------------------
def chat_episode(
    base: str, task: Task, model: str = "oracle", extra: dict | None = None
) -> tuple[ToolRunner, list[dict], str | None]:
    system, user = prompts(task)
    msgs: list[dict] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    tools = [{"type": "function", "function": t} for t in task.tool_specs]
    runner, usages = ToolRunner(task), []
    with httpx.Client(base_url=base, headers=KEY, timeout=10) as c:
        for _ in range(RuntimeSettings().max_turns):
            r = c.post(
                "/v1/chat/completions",
                json={"model": model, "messages": msgs, "tools": tools, **(extra or {})},
            )
            assert r.status_code == 200, r.text
            body = r.json()
            usages.append(body["usage"])
            msg = body["choices"][0]["message"]
            if not msg.get("tool_calls"):
                assert body["choices"][0]["finish_reason"] == "stop"
                return runner, usages, msg["content"]
            assert body["choices"][0]["finish_reason"] == "tool_calls"
            msgs.append(msg)
            calls = [
                (tc["function"]["name"], json.loads(tc["function"]["arguments"])) for tc in msg["tool_calls"]
            ]
            for tc, res in zip(msg["tool_calls"], runner.run(calls), strict=True):
                msgs.append({"role": "tool", "tool_call_id": tc["id"], "content": res})
    return runner, usages, None  # out of turns, as the runtime stops


def test_chat_episode_matches_inprocess_run(server, task, reference):
    runner, usages, answer = chat_episode(server.base_url, task)
    assert runner.batches == inprocess_batches(reference)
    assert [len(b) for b in runner.batches] == [1, 1, 3, 5]  # parallel fan-out over the wire
    assert answer == reference.final_text
    got = [
        (u["prompt_tokens"], u["prompt_tokens_details"]["cached_tokens"], u["completion_tokens"])
        for u in usages
    ]
    assert got == usage_rows(reference)
    assert all(u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"] for u in usages)


def test_parallel_tool_calls_false_gives_one_call_per_response(server, task, reference):
    runner, usages, answer = chat_episode(server.base_url, task, extra={"parallel_tool_calls": False})
    assert [len(b) for b in runner.batches] == [1] * len(reference.calls)
    assert [c for b in runner.batches for c in b] == [c for b in inprocess_batches(reference) for c in b]
    assert answer == reference.final_text


def test_model_field_picks_the_policy(server, task):
    seq, _, _ = chat_episode(server.base_url, task, model="policy/sequential")
    assert [len(b) for b in seq.batches] == [1] * 10
    fallback, _, _ = chat_episode(server.base_url, task, model="gpt-4.1")  # unknown: server default (oracle)
    assert [len(b) for b in fallback.batches] == [1, 1, 3, 5]


def test_chat_stream_raw_sse(server, task):
    system, user = prompts(task)
    body = {
        "model": "oracle",
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "tools": [{"type": "function", "function": t} for t in task.tool_specs],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    r = httpx.post(server.base_url + "/v1/chat/completions", json=body, headers=KEY)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    datas = [ln[6:] for ln in r.text.split("\n") if ln.startswith("data: ")]
    assert datas[-1] == "[DONE]"
    chunks = [json.loads(d) for d in datas[:-1]]
    arg_deltas = [
        tc["function"]["arguments"]
        for ch in chunks
        for choice in ch["choices"]
        for tc in choice["delta"].get("tool_calls", [])
        if "id" not in tc
    ]
    assert len(arg_deltas) >= 2  # arguments arrive split over several deltas
    assert json.loads("".join(arg_deltas)) == {"email": "ana@example.com"}
    assert chunks[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] > 0


def test_gemini_episode_over_httpx(server, task, reference):
    system, user = prompts(task)
    contents: list[dict] = [{"role": "user", "parts": [{"text": user}]}]
    body = {
        "systemInstruction": {"parts": [{"text": system}]},
        "tools": [{"functionDeclarations": task.tool_specs}],
    }
    runner, usages = ToolRunner(task), []
    url = server.base_url + "/v1beta/models/oracle:generateContent"
    with httpx.Client(headers={"x-goog-api-key": "test"}, timeout=10) as c:
        for _ in range(12):
            r = c.post(url, json={**body, "contents": contents})
            assert r.status_code == 200, r.text
            out = r.json()
            usages.append(out["usageMetadata"])
            parts = out["candidates"][0]["content"]["parts"]
            calls = [p["functionCall"] for p in parts if "functionCall" in p]
            if not calls:
                answer = "".join(p["text"] for p in parts)
                break
            contents.append(out["candidates"][0]["content"])
            # Gemini clients answer by name, without ids: the emulator matches them by position.
            results = runner.run([(fc["name"], fc["args"]) for fc in calls])
            contents.append(
                {
                    "role": "user",
                    "parts": [
                        {"functionResponse": {"name": fc["name"], "response": json.loads(res)}}
                        for fc, res in zip(calls, results, strict=True)
                    ],
                }
            )
    assert runner.batches == inprocess_batches(reference)
    assert answer == reference.final_text
    got = [(u["promptTokenCount"], u["cachedContentTokenCount"], u["candidatesTokenCount"]) for u in usages]
    assert got == usage_rows(reference)


def test_gemini_stream_sse(server, task):
    system, user = prompts(task)
    body = {
        "contents": [{"role": "user", "parts": [{"text": user}]}],
        "tools": [{"functionDeclarations": task.tool_specs}],
    }
    url = server.base_url + "/v1beta/models/policy/oracle:streamGenerateContent?alt=sse&key=test"
    r = httpx.post(url, json=body)
    assert r.status_code == 200, r.text
    chunks = [json.loads(ln[6:]) for ln in r.text.split("\n") if ln.startswith("data: ")]
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    fcs = [p["functionCall"] for ch in chunks for p in ch["candidates"][0]["content"]["parts"]]
    assert [(f["name"], f["args"]) for f in fcs] == [("find_user", {"email": "ana@example.com"})]
    no_sse = httpx.post(url.replace("alt=sse&", ""), json=body)
    assert no_sse.status_code == 400 and "alt=sse" in no_sse.json()["error"]["message"]


# -- errors in each provider's shape ----------------------------------------------------------
def _minimal(task: Task) -> dict[str, tuple[str, dict]]:
    _, user = prompts(task)
    return {
        "chat": (
            "/v1/chat/completions",
            {"model": "oracle", "messages": [{"role": "user", "content": user}]},
        ),
        "responses": ("/v1/responses", {"model": "oracle", "input": user}),
        "messages": (
            "/v1/messages",
            {"model": "oracle", "max_tokens": 100, "messages": [{"role": "user", "content": user}]},
        ),
        "gemini": ("/v1beta/models/oracle:generateContent", {"contents": [{"parts": [{"text": user}]}]}),
    }


def _error_kind(fmt: str, body: dict) -> str:
    if fmt == "messages":
        assert body["type"] == "error"
        return body["error"]["type"]
    if fmt == "gemini":
        return body["error"]["status"]
    return body["error"]["type"]


@pytest.mark.parametrize(
    "fmt,expected",
    [
        ("chat", "invalid_request_error"),
        ("responses", "invalid_request_error"),
        ("messages", "authentication_error"),
        ("gemini", "UNAUTHENTICATED"),
    ],
)
def test_missing_key_is_401_in_provider_shape(server, task, fmt, expected):
    path, body = _minimal(task)[fmt]
    r = httpx.post(server.base_url + path, json=body)
    assert r.status_code == 401
    assert _error_kind(fmt, r.json()) == expected
    bad = httpx.post(server.base_url + path, json=body, headers={"Authorization": "Basic abc"})
    assert bad.status_code == 401


@pytest.mark.parametrize("fmt", ["chat", "responses"])
def test_openai_routes_accept_bearer_and_api_key_headers(server, task, fmt):
    path, body = _minimal(task)[fmt]
    for headers in ({"Authorization": "Bearer k"}, {"api-key": "k"}):
        assert httpx.post(server.base_url + path, json=body, headers=headers).status_code == 200
    assert httpx.post(server.base_url + path, json=body, headers={"api-key": ""}).status_code == 401


def test_anthropic_accepts_x_api_key_and_bearer(server, task):
    path, body = _minimal(task)["messages"]
    for headers in ({"x-api-key": "k", "anthropic-version": "2023-06-01"}, {"Authorization": "Bearer k"}):
        r = httpx.post(server.base_url + path, json=body, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["stop_reason"] == "tool_use"


@pytest.mark.parametrize("fmt", ["chat", "responses", "messages", "gemini"])
def test_malformed_json_and_unknown_task_are_400(server, task, fmt):
    path, body = _minimal(task)[fmt]
    headers = {**KEY, "Content-Type": "application/json"}
    r = httpx.post(server.base_url + path, content=b'{"model": "oracle", "messages": [', headers=headers)
    assert r.status_code == 400
    assert "not valid JSON" in json.dumps(r.json())
    unknown = json.loads(
        json.dumps(body).replace("ana@example.com", "nobody@example.org").replace("Show me", "Tell")
    )
    r = httpx.post(server.base_url + path, json=unknown, headers=KEY)
    assert r.status_code == 400
    assert "does not know this task" in json.dumps(r.json())
    assert _error_kind(fmt, r.json()) in ("invalid_request_error", "INVALID_ARGUMENT")


def test_invalid_requests_name_the_field(server, task):
    r = httpx.post(
        server.base_url + "/v1/chat/completions", json={"model": "oracle", "messages": []}, headers=KEY
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages"
    path, body = _minimal(task)["messages"]
    r = httpx.post(
        server.base_url + path, json={k: v for k, v in body.items() if k != "max_tokens"}, headers=KEY
    )
    assert r.status_code == 400 and "max_tokens" in r.json()["error"]["message"]
    r = httpx.post(
        server.base_url + "/v1/responses",
        json={"model": "o", "input": "x", "previous_response_id": "r"},
        headers=KEY,
    )
    assert r.status_code == 400 and "stateless" in r.json()["error"]["message"]


def test_unknown_route_404_wrong_method_405_and_garbage_400(server):
    assert httpx.post(server.base_url + "/v2/nothing", headers=KEY).status_code == 404
    assert httpx.get(server.base_url + "/v1/chat/completions", headers=KEY).status_code == 405
    models = httpx.get(server.base_url + "/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["oracle", "sequential", "greedy", "redundant", "lazy"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 400")
    assert httpx.get(server.base_url + "/health").json()["status"] == "ok"  # still serving


def test_requests_served_counts_every_request(suite, task):
    path, body = _minimal(task)["chat"]
    with EmulatorServer([suite]) as s:
        httpx.post(s.base_url + path, json=body, headers=KEY)
        httpx.post(s.base_url + path, json=body)  # 401
        httpx.get(s.base_url + "/nowhere")  # 404
        assert s.requests_served == 3


# -- faults -------------------------------------------------------------------------------
def _outcome(client: httpx.Client, path: str, body: dict) -> str:
    try:
        r = client.post(path, json=body)
    except httpx.TransportError:
        return "drop"
    if r.status_code != 200:
        return str(r.status_code)
    try:
        r.json()
    except ValueError:
        return "bad-json"
    return "ok"


def _fault_sequence(suite: Suite, task: Task, cfg: FaultConfig) -> tuple[list[str], list]:
    path, body = _minimal(task)["chat"]
    bodies = [dict(body, temperature=i / 10) for i in range(20)] + [body] * 5  # distinct and repeated
    with (
        EmulatorServer([suite], faults=cfg) as s,
        httpx.Client(base_url=s.base_url, headers=KEY, timeout=10) as c,
    ):
        outcomes = [_outcome(c, path, b) for b in bodies]
        return outcomes, [(e.seen, e.kind) for e in s.faults.log]


def test_fault_sequence_is_deterministic(suite, task):
    cfg = FaultConfig(rate=0.5, seed=7, slow_s=0.01, retry_after_s=0.01)
    first, log1 = _fault_sequence(suite, task, cfg)
    second, log2 = _fault_sequence(suite, task, cfg)
    assert first == second and log1 == log2
    assert {"ok"} < set(first)  # some requests faulted, some served
    other, _ = _fault_sequence(suite, task, cfg.model_copy(update={"seed": 8}))
    assert other != first


def test_each_fault_kind_misbehaves_as_named(suite, task):
    path, body = _minimal(task)["chat"]
    expected = {
        "429": "429",
        "500": "500",
        "503": "503",
        "529": "529",
        "truncated": "bad-json",
        "malformed": "bad-json",
        "drop": "drop",
    }
    for kind, outcome in expected.items():
        cfg = FaultConfig(rate=1.0, kinds=[kind], retry_after_s=0.25, max_per_request=1)
        with EmulatorServer([suite], faults=cfg) as s, httpx.Client(base_url=s.base_url, headers=KEY) as c:
            if kind in ("429", "503", "529"):
                r = c.post(path, json=body)
                assert r.status_code == int(kind) and r.headers["retry-after"] == "0.25"
                assert r.json()["error"]["message"]
            else:
                assert _outcome(c, path, body) == outcome, kind
            assert _outcome(c, path, body) == "ok"  # the retry of the same request is served
    with EmulatorServer([suite], faults=FaultConfig(rate=1.0, kinds=["slow"], slow_s=0.3)) as s:
        t0 = time.perf_counter()
        assert httpx.post(s.base_url + path, json=body, headers=KEY).status_code == 200
        assert time.perf_counter() - t0 >= 0.3


def test_anthropic_529_is_overloaded_error(suite, task):
    path, body = _minimal(task)["messages"]
    with EmulatorServer([suite], faults=FaultConfig(rate=1.0, kinds=["529"])) as s:
        r = httpx.post(s.base_url + path, json=body, headers={"x-api-key": "k"})
        assert r.status_code == 529
        assert r.json() == {
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded (emulated fault)."},
        }


def test_max_per_request_bounds_consecutive_faults(suite, task):
    path, body = _minimal(task)["chat"]
    with EmulatorServer([suite], faults=FaultConfig(rate=1.0, kinds=["500"], max_per_request=2)) as s:
        with httpx.Client(base_url=s.base_url, headers=KEY) as c:
            assert [_outcome(c, path, body) for _ in range(4)] == ["500", "500", "ok", "ok"]


def test_fault_config_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultConfig(kinds=["429", "teapot"])
    with pytest.raises(ValueError):
        FaultConfig(rate=1.5)


# -- concurrency ----------------------------------------------------------------------------
def test_serves_64_concurrent_connections(server, task):
    path, body = _minimal(task)["chat"]

    async def go() -> list[int]:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=server.base_url, headers=KEY, limits=limits, timeout=20) as c:
            rs = await asyncio.gather(*(c.post(path, json=dict(body, seed=i)) for i in range(128)))
            return [r.status_code for r in rs]

    assert asyncio.run(go()) == [200] * 128


# -- CLI guard rails ------------------------------------------------------------------------
def test_serve_refuses_remote_hosts_and_bad_faults(capsys):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    assert cli_main(["serve", "--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    assert cli_main(["serve", "--fault-kinds", "429,teapot"]) == 2
    assert "unknown fault kind(s) teapot" in capsys.readouterr().err


def test_emulator_rejects_unknown_default_policy(suite):
    with pytest.raises(ValueError, match="unknown policy"):
        EmulatorServer([suite], policy="clever")


@pytest.mark.parametrize("policy", ["oracle", "sequential", "greedy", "redundant", "lazy"])
def test_every_core_task_over_chat_matches_inprocess(server, suite, policy):
    """The core suite (every 3rd task for oracle, every 8th for the others, to stay fast), each
    reference policy: same batches, answer and usage as in-process."""
    mismatched = []
    for task in suite.tasks[:: 3 if policy == "oracle" else 8]:
        ref = inprocess(task, policy)
        runner, usages, answer = chat_episode(server.base_url, task, model=f"policy/{policy}")
        got = [
            (u["prompt_tokens"], u["prompt_tokens_details"]["cached_tokens"], u["completion_tokens"])
            for u in usages
        ]
        if (runner.batches, answer, got) != (inprocess_batches(ref), ref.final_text, usage_rows(ref)):
            mismatched.append(task.id)
    assert mismatched == []
