"""The emulator: reference policies served over provider wire formats on loopback.

One asyncio loop in a background thread serves every connection; a request is routed to its wire
format, checked for auth, given its deterministic fault (if any), converted to neutral messages,
answered by the policy named in its `model` field, and rendered back in the provider's shape.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from typing import Any

from ..fixtures import Suite
from ..models.policies import POLICIES, PolicyModel, UnknownTaskError
from .conversation import WireError, estimate_usage
from .faults import STATUS_FAULTS, FaultConfig, FaultPlan, canonical_body
from .http import Reply, Request, serve_connection
from .reasoning import Signer, thinking_for
from .wire import ReplyIds, WireFormat, route

JSON = {"Content-Type": "application/json"}
SSE = {"Content-Type": "text/event-stream; charset=utf-8"}
_FAULT_KIND = {"429": "rate_limit", "500": "server_error", "503": "unavailable", "529": "overloaded"}
_FAULT_TEXT = {
    "429": "Rate limit reached (emulated fault); retry after the Retry-After delay.",
    "500": "The server had an error while processing your request (emulated fault).",
    "503": "The service is temporarily unavailable (emulated fault).",
    "529": "Overloaded (emulated fault).",
}


def policy_name(model: str | None) -> str | None:
    """The policy a `model` value names (`oracle`, `policy/oracle`, `models/oracle`), else None."""
    if not model:
        return None
    name = model.rsplit("/", 1)[-1]
    return name if name in POLICIES else None


def _wire_formats() -> dict[str, WireFormat]:
    from .anthropic import AnthropicMessages
    from .gemini import GeminiGenerate
    from .openai_chat import OpenAIChat
    from .openai_responses import OpenAIResponses

    return {
        "chat": OpenAIChat(),
        "responses": OpenAIResponses(),
        "messages": AnthropicMessages(),
        "gemini": GeminiGenerate(),
    }


class EmulatorServer:
    """Serve reference policies over HTTP. `with EmulatorServer([suite]) as s: s.base_url ...`"""

    def __init__(
        self,
        suites: list[Suite],
        policy: str = "oracle",
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        chunk_delay_s: float = 0.0,
        reasoning: bool = False,
    ):
        if policy_name(policy) is None:
            raise ValueError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")
        self.suites, self.seed, self.host, self.port = suites, seed, host, port
        self.policy: str = policy_name(policy) or "oracle"
        self.faults = FaultPlan(faults)
        self.chunk_delay_s = chunk_delay_s
        self.reasoning = reasoning  # act as a thinking model (see reasoning.py)
        self.signer = Signer(seed)
        self.requests_served = 0
        self._policies: dict[str, PolicyModel] = {}
        self._wires = _wire_formats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[asyncio.Task] = set()

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmulatorServer:
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        loop = self._loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._on_connect, self.host, self.port, backlog=512)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="fanout-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise OSError(f"cannot listen on {self.host}:{self.port}: {failure[0]}") from failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        fut.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
        self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._conns):
            t.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            await serve_connection(reader, writer, self.handle)
        except asyncio.CancelledError:
            pass  # stop(): end quietly (asyncio logs a cancelled connection task as an error)
        finally:
            self._conns.discard(task)

    # -- requests -----------------------------------------------------------------------------
    async def handle(self, req: Request) -> Reply:
        self.requests_served += 1
        target = route(req.path)
        if target is None:
            return self._info(req)
        wire = self._wires[target[0]]
        try:
            if req.method != "POST":
                raise WireError(
                    405, "method_not_allowed", f"{req.method} is not allowed on {req.path}; use POST"
                )
            if not wire.authorized(req):
                raise WireError(401, "authentication", _auth_hint(target[0]))
            fault = self.faults.draw(req.path, req.body)
            if fault in STATUS_FAULTS:
                reply = self._error(
                    wire, WireError(STATUS_FAULTS[fault], _FAULT_KIND[fault], _FAULT_TEXT[fault])
                )
                if fault != "500":
                    reply.headers["Retry-After"] = f"{self.faults.config.retry_after_s:g}"
                return reply
            if fault == "drop":
                return Reply(drop=True)
            reply = self._answer(wire, req, target[1])
        except WireError as exc:
            return self._error(wire, exc)
        except Exception as exc:  # an emulator bug must still answer in the provider's shape
            return self._error(
                wire, WireError(500, "server_error", f"emulator error: {type(exc).__name__}: {exc}")
            )
        return self._misbehave(wire, reply, fault)

    def _answer(self, wire: WireFormat, req: Request, path_model: str | None) -> Reply:
        try:
            body = json.loads(req.body)
        except ValueError as exc:
            raise WireError(400, "invalid_request", f"the request body is not valid JSON: {exc}") from exc
        conv = wire.parse(body, req, path_model)
        if self.reasoning:
            wire.check_reasoning(body, conv, self.signer)
        model = self._policy_model(policy_name(conv.model) or self.policy)
        try:
            resp = model.respond(conv.messages)
        except UnknownTaskError as exc:
            raise WireError(400, "invalid_request", f"the emulator does not know this task: {exc}") from exc
        if not conv.parallel:
            resp.tool_calls = resp.tool_calls[:1]
        usage = estimate_usage(conv, resp)
        think = None
        if self.reasoning:
            turn = 1 + sum(1 for m in conv.messages if m.role == "assistant")
            think = thinking_for(resp, self.signer, turn)
            usage.reasoning_tokens = think.tokens
            usage.completion_tokens += think.tokens
        digest = hashlib.sha256(req.path.encode() + canonical_body(req.body)).hexdigest()[:24]
        ids = ReplyIds(digest, int(time.time()))
        if conv.stream:
            return Reply(200, headers=dict(SSE), events=wire.stream(conv, resp, usage, ids, think))
        return Reply(200, _dumps(wire.render(conv, resp, usage, ids, think)), dict(JSON))

    def _policy_model(self, name: str) -> PolicyModel:
        m = self._policies.get(name)
        if m is None:
            m = self._policies[name] = PolicyModel(name, self.suites, seed=self.seed)
        return m

    def _error(self, wire: WireFormat, exc: WireError) -> Reply:
        return Reply(exc.status, _dumps(wire.error(exc.status, exc.kind, exc.message, exc.param)), dict(JSON))

    def _misbehave(self, wire: WireFormat, reply: Reply, fault: str | None) -> Reply:
        reply.chunk_delay_s = self.chunk_delay_s
        if fault == "slow":
            reply.delay_s = self.faults.config.slow_s
        elif fault == "truncated":
            reply.cut = len(reply.events) // 2 if reply.events is not None else len(reply.body) // 2
        elif fault == "malformed":
            if reply.events is not None:
                mid = len(reply.events) // 2
                reply.events[mid] = wire.corrupt_event(reply.events[mid])
            else:
                reply.body = reply.body.replace(b'"', b"'", 6)
        return reply

    def _info(self, req: Request) -> Reply:
        p = req.path.rstrip("/")
        if req.method == "GET" and p in ("/v1/models", "/models", "/v1beta/models"):
            data = [{"id": n, "object": "model", "owned_by": "fanout"} for n in POLICIES]
            return Reply(200, _dumps({"object": "list", "data": data}), dict(JSON))
        if req.method == "GET" and p in ("", "/health"):
            body = {
                "status": "ok",
                "policy": self.policy,
                "reasoning": self.reasoning,
                "requests_served": self.requests_served,
            }
            return Reply(200, _dumps(body), dict(JSON))
        msg = (
            f"no route {req.method} {req.path}; the emulator serves POST /v1/chat/completions, /v1/responses, "
            "/v1/messages and /v1beta/models/<model>:generateContent"
        )
        return Reply(404, _dumps({"error": {"message": msg, "type": "not_found", "code": 404}}), dict(JSON))


def _auth_hint(route: str) -> str:
    if route == "messages":
        return "missing or invalid API key: send an 'x-api-key' or 'Authorization: Bearer' header"
    if route == "gemini":
        return "missing or invalid API key: send an 'x-goog-api-key' header or a 'key' query parameter"
    return "missing or invalid API key: send an 'Authorization: Bearer <key>' or an 'api-key' header"


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
