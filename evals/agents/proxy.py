"""The model proxy an agent talks to: the emulator's wire formats in front of the run's model.

An agent's SDK sends OpenAI Chat Completions, OpenAI Responses, Anthropic Messages or Gemini
requests to `http://127.0.0.1:<port>/e/<episode token>/...`. The proxy parses them with the
emulator's wire formats (`evals/emulator`), asks the backing Fanout model, renders the answer
back in the same format (streaming too) and records the turn on the episode. The backing model
is a reference policy (answered in-process exactly as `fanout serve` answers, with the run's
inference-profile latency really waited, so only the agent runtime varies) or any provider
model string (forwarded through Fanout's own adapter: retries, cache, keys from the environment).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

from ..clocks import sleep_until
from ..emulator.anthropic import AnthropicMessages
from ..emulator.conversation import Conversation, EmulatedUsage, WireError, estimate_usage
from ..emulator.gemini import GeminiGenerate
from ..emulator.http import Reply, Request, serve_connection
from ..emulator.openai_chat import OpenAIChat
from ..emulator.openai_responses import OpenAIResponses
from ..emulator.wire import ReplyIds, WireFormat, route
from ..errors import InfrastructureError
from ..models.base import Model, ModelError, ModelRequest, ModelResponse
from ..models.policies import PolicyModel, UnknownTaskError
from ..timing import turn_latency
from .session import EpisodeSession

JSON = {"Content-Type": "application/json"}
SSE = {"Content-Type": "text/event-stream; charset=utf-8"}
_WIRES: dict[str, WireFormat] = {
    "chat": OpenAIChat(),
    "responses": OpenAIResponses(),
    "messages": AnthropicMessages(),
    "gemini": GeminiGenerate(),
}


def split_episode(path: str) -> tuple[str | None, str]:
    """`/e/<token>/v1/...` -> (token, `/v1/...`); a bare path belongs to the episode of token ""
    (the single episode of `fanout serve-tools`)."""
    if path.startswith("/e/"):
        token, _, rest = path[3:].partition("/")
        return token, "/" + rest
    return None, path


class ModelProxy:
    """Serves every episode of a run on one loopback port (the emulator's HTTP stack)."""

    def __init__(
        self, backend: Model, sessions: dict[str, EpisodeSession], host: str = "127.0.0.1", port: int = 0
    ):
        self.backend = backend
        self.sessions = sessions
        self.host, self.port = host, port
        self._server: asyncio.base_events.Server | None = None
        self._conns: set[asyncio.Task] = set()

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._on_connect, self.host, self.port, backlog=256)
        except OSError as exc:
            raise OSError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for t in list(self._conns):
            t.cancel()
        await asyncio.gather(*self._conns, return_exceptions=True)

    def base_url(self, token: str | None) -> str:
        root = f"http://{self.host}:{self.port}"
        return f"{root}/e/{token}" if token else root

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conns.add(task)
        try:
            await serve_connection(reader, writer, self.handle)
        except asyncio.CancelledError:
            pass
        finally:
            self._conns.discard(task)

    async def handle(self, req: Request) -> Reply:
        token, path = split_episode(req.path)
        session = self.sessions.get(token or "")
        r = route(path)
        if r is None:
            if req.method == "GET" and path.rstrip("/") in ("/v1/models", "/models") and session is not None:
                name = self.backend.name.split("/", 1)[-1]  # what FANOUT_MODEL_NAME says
                return Reply(
                    200, _dumps({"object": "list", "data": [{"id": name, "object": "model"}]}), dict(JSON)
                )
            return _plain(404, f"no route {req.method} {req.path}")
        wire = _WIRES[r[0]]
        if session is None:
            return _error(wire, WireError(404, "not_found", "no running Fanout episode at this address"))
        if req.method != "POST":
            return _error(
                wire, WireError(405, "method_not_allowed", f"{req.method} is not allowed; use POST")
            )
        if not wire.authorized(req):
            return _error(wire, WireError(401, "authentication", "missing API key (any non-empty key works)"))
        inner = Request(req.method, path, req.query, req.headers, req.body)
        try:
            return await self._answer(session, wire, inner, r[1])
        except WireError as exc:
            return _error(wire, exc)

    async def _answer(
        self, s: EpisodeSession, wire: WireFormat, req: Request, path_model: str | None
    ) -> Reply:
        try:
            body = json.loads(req.body)
        except ValueError as exc:
            raise WireError(400, "invalid_request", f"the request body is not valid JSON: {exc}") from exc
        conv = wire.parse(body, req, path_model)
        if s.stop == "error":  # the model behind the proxy already failed for good: no retry storm
            raise WireError(502, "server_error", f"the model behind the proxy failed: {s.error}")
        turn = s.begin_turn()
        if turn.index > s.cfg.max_turns:
            s.stop = s.stop or "max_turns"
            turn.error = f"turn limit of {s.cfg.max_turns} model responses reached"
            s.end_turn(turn, None)
            raise WireError(400, "invalid_request", turn.error)
        try:
            resp = await self._respond(s, conv)
        except WireError as exc:
            turn.error = exc.message
            s.end_turn(turn, None)
            raise
        if not conv.parallel:
            resp.tool_calls = resp.tool_calls[:1]
        if resp.usage is not None:  # the provider's own count
            u = resp.usage
            usage = EmulatedUsage(u.prompt_tokens, u.completion_tokens, u.cached_tokens)
            turn.usage_estimated = u.estimated
            turn.reasoning_tokens, turn.cache_write_tokens = u.reasoning_tokens, u.cache_write_tokens or None
        else:  # a policy: estimated exactly as the emulator and the in-process runtime do
            usage = estimate_usage(conv, resp)
            turn.usage_estimated = True
        turn.prompt_tokens, turn.completion_tokens = usage.prompt_tokens, usage.completion_tokens
        turn.cached_tokens = usage.cached_tokens
        turn.measured_latency_s = resp.latency_s
        if resp.latency_s is None or resp.cached:
            # A policy (or a cached response) takes the inference profile's time, as on the real clock.
            lat = turn_latency(
                s.cfg.profile, None, usage.prompt_tokens, usage.cached_tokens, usage.completion_tokens
            )
            await sleep_until(turn.start + lat)
        digest = hashlib.sha256(f"{s.token}/{turn.index}".encode() + req.body).hexdigest()[:24]
        ids = ReplyIds(digest, int(time.time()))
        s.end_turn(turn, resp)
        if conv.stream:
            return Reply(200, headers=dict(SSE), events=wire.stream(conv, resp, usage, ids))
        return Reply(200, _dumps(wire.render(conv, resp, usage, ids)), dict(JSON))

    async def _respond(self, s: EpisodeSession, conv: Conversation) -> ModelResponse:
        backend = self.backend
        if isinstance(backend, PolicyModel):
            try:
                found = backend.index.find(conv.messages)
            except UnknownTaskError as exc:
                raise WireError(400, "invalid_request", f"the proxy does not know this task: {exc}") from exc
            if found.id != s.task.id:
                raise WireError(
                    400, "invalid_request", f"this episode is task {s.task.id!r}, not {found.id!r}"
                )
            return backend.respond(conv.messages)
        settings: dict[str, Any] = {}
        if not conv.parallel:
            settings["parallel_tool_calls"] = False
        try:
            return await backend.generate(ModelRequest(conv.messages, conv.tools, settings, s.epoch))
        except ModelError as exc:
            s.stop, s.error = "error", str(exc)
            raise WireError(502, "server_error", f"the model behind the proxy failed: {exc}") from exc
        except InfrastructureError as exc:
            s.stop, s.error, s.fatal = "error", str(exc), exc
            s.aborted.set()
            raise WireError(500, "server_error", f"infrastructure failure: {exc}") from exc


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _error(wire: WireFormat, exc: WireError) -> Reply:
    return Reply(exc.status, _dumps(wire.error(exc.status, exc.kind, exc.message, exc.param)), dict(JSON))


def _plain(status: int, message: str) -> Reply:
    body = {"error": {"message": message, "type": "not_found", "code": status}}
    return Reply(status, _dumps(body), dict(JSON))
