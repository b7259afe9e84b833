"""What every wire format implements: auth check, request -> Conversation, response -> JSON or
server-sent events, and its own error shape. The server owns routing, faults and the policy call."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from ..models.base import ModelResponse
from .conversation import Conversation, EmulatedUsage
from .http import Request
from .reasoning import Signer, Thinking

# Neutral error kinds the server raises; each format maps them to its own names.
ERROR_KINDS = (
    "invalid_request",
    "authentication",
    "not_found",
    "method_not_allowed",
    "rate_limit",
    "server_error",
    "unavailable",
    "overloaded",
)


@dataclass
class ReplyIds:
    """Identifiers of one response: deterministic from the request, so replays compare equal."""

    rid: str  # hex digest
    created: int  # unix seconds


def sse(data: Any, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


def pieces(text: str, n: int = 3, min_len: int = 1) -> list[str]:
    """Split text into about n pieces (at least one), as a streaming server delivers it."""
    if not text:
        return []
    size = max(min_len, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)]


def bearer(req: Request) -> str | None:
    auth = req.header("authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class WireFormat(ABC):
    name: str = "wire"

    def authorized(self, req: Request) -> bool:
        """A bearer token, or an `api-key` header as Azure OpenAI and other OpenAI-compatible
        services take it (so an adapter for one runs against the emulator end to end)."""
        return bearer(req) is not None or bool((req.header("api-key") or "").strip())

    @abstractmethod
    def parse(self, body: Any, req: Request, path_model: str | None) -> Conversation: ...

    @abstractmethod
    def render(
        self,
        conv: Conversation,
        resp: ModelResponse,
        usage: EmulatedUsage,
        ids: ReplyIds,
        think: Thinking | None = None,
    ) -> dict: ...

    @abstractmethod
    def stream(
        self,
        conv: Conversation,
        resp: ModelResponse,
        usage: EmulatedUsage,
        ids: ReplyIds,
        think: Thinking | None = None,
    ) -> list[bytes]: ...

    def check_reasoning(self, body: dict, conv: Conversation, signer: Signer) -> None:
        """Reasoning mode: refuse a request whose earlier turns lack the state the emulator handed
        out with them (a 400, as the real API). Formats with no such state accept everything."""
        return None

    @abstractmethod
    def error(self, status: int, kind: str, message: str, param: str | None = None) -> dict: ...

    def corrupt_event(self, event: bytes) -> bytes:
        """A server-sent event whose data is not valid JSON (the `malformed` fault on streams)."""
        return event.replace(b"data: {", b"data: {'", 1)


def route(path: str) -> tuple[str, str | None] | None:
    """(wire format, model named in the path) of a model endpoint: how `fanout serve` and the
    agents' model proxy route a request."""
    p = path.rstrip("/")
    if p in ("/v1/chat/completions", "/chat/completions"):
        return "chat", None
    if p in ("/v1/responses", "/responses"):
        return "responses", None
    if p in ("/v1/messages", "/messages"):
        return "messages", None
    for prefix in ("/v1beta/models/", "/v1/models/"):
        if p.startswith(prefix) and ":" in p:
            model, _, method = p[len(prefix) :].rpartition(":")
            if method in ("generateContent", "streamGenerateContent"):
                return "gemini", model
    return None
