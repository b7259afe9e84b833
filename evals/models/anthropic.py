"""`anthropic/<model>`: the Messages API.

Shape rules the API enforces: the system prompt is a top-level field; an assistant turn's calls are
`tool_use` blocks (input is an object); their results go back as `tool_result` blocks, all of them
first in the next user message, in the order the calls were made. Consecutive tool messages are
therefore merged into one user message. `parallel_tool_calls: false` maps to
`tool_choice.disable_parallel_tool_use`. Usage: `input_tokens` excludes cache reads and cache
writes, so the prompt count is the sum of the three (cached = cache reads).
"""

from __future__ import annotations

import json
import os
from typing import Any

from mock_tools import is_error

from .base import ModelRequest, ModelResponse, ToolCall, Usage
from .http import StreamState, WireModel, args_object, text_or_none

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"


def _is_error_content(content: str | None) -> bool:
    try:
        return is_error(json.loads(content or "null"))
    except ValueError:
        return False


def encode_messages(request: ModelRequest) -> tuple[str | None, list[dict]]:
    system: list[str] = []
    out: list[dict] = []

    def user_blocks() -> list[dict]:
        if out and out[-1]["role"] == "user":
            return out[-1]["content"]
        out.append({"role": "user", "content": []})
        return out[-1]["content"]

    for m in request.messages:
        if m.role == "system":
            if m.content:
                system.append(m.content)
        elif m.role == "tool":
            blocks = user_blocks()
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": m.tool_call_id,
                "content": m.content or "",
            }
            if _is_error_content(m.content):
                block["is_error"] = True
            # tool_result blocks must precede any text in the user message
            n = sum(1 for b in blocks if b["type"] == "tool_result")
            blocks.insert(n, block)
        elif m.role == "assistant":
            content: list[dict] = []
            if m.content:
                content.append({"type": "text", "text": m.content})
            for c in m.tool_calls:
                content.append(
                    {"type": "tool_use", "id": c.id, "name": c.name, "input": args_object(c.arguments)}
                )
            out.append({"role": "assistant", "content": content or [{"type": "text", "text": ""}]})
        else:
            user_blocks().append({"type": "text", "text": m.content or ""})
    return ("\n\n".join(system) or None), out


def usage_of(u: Any) -> Usage | None:
    if not isinstance(u, dict) or u.get("input_tokens") is None:
        return None
    read = int(u.get("cache_read_input_tokens") or 0)
    write = int(u.get("cache_creation_input_tokens") or 0)
    return Usage(int(u["input_tokens"]) + read + write, int(u.get("output_tokens") or 0), read)


def decode_message(body: dict) -> ModelResponse:
    if body.get("type") == "error":
        raise ValueError(f"error body: {body.get('error')}")
    text: list[str] = []
    calls: list[ToolCall] = []
    for block in body.get("content") or []:
        if block.get("type") == "text":
            text.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            calls.append(ToolCall(block.get("id") or "", block.get("name") or "", block.get("input")))
    return ModelResponse(
        text=text_or_none("".join(text)),
        tool_calls=calls,
        usage=usage_of(body.get("usage")),
        finish_reason=body.get("stop_reason"),
    )


class MessagesStream(StreamState):
    def __init__(self) -> None:
        self.tool_blocks: set[int] = set()

    def feed(self, event: dict) -> tuple[bool, bool]:
        t = event.get("type")
        if t == "message_stop":
            self.complete = True
        elif t == "content_block_start":
            if (event.get("content_block") or {}).get("type") == "tool_use":
                self.tool_blocks.add(event.get("index", -1))
                return True, False
        elif t == "content_block_delta":
            return True, False
        elif t == "content_block_stop":
            return False, event.get("index", -1) in self.tool_blocks
        return False, False


def decode_events(events: list[dict]) -> ModelResponse:
    blocks: dict[int, dict] = {}
    order: list[int] = []
    usage: dict[str, Any] = {}
    finish = None
    for ev in events:
        t = ev.get("type")
        if t == "message_start":
            usage.update((ev.get("message") or {}).get("usage") or {})
        elif t == "content_block_start":
            idx = ev.get("index", len(order))
            cb = dict(ev.get("content_block") or {})
            cb["_json"] = ""
            blocks[idx] = cb
            order.append(idx)
        elif t == "content_block_delta":
            cb = blocks.setdefault(ev.get("index", 0), {"type": "text", "text": "", "_json": ""})
            d = ev.get("delta") or {}
            if d.get("type") == "text_delta":
                cb["text"] = (cb.get("text") or "") + (d.get("text") or "")
            elif d.get("type") == "input_json_delta":
                cb["_json"] += d.get("partial_json") or ""
        elif t == "message_delta":
            finish = (ev.get("delta") or {}).get("stop_reason") or finish
            usage.update({k: v for k, v in (ev.get("usage") or {}).items() if v is not None})
    text: list[str] = []
    calls: list[ToolCall] = []
    for idx in order:
        cb = blocks[idx]
        if cb.get("type") == "text":
            text.append(cb.get("text") or "")
        elif cb.get("type") == "tool_use":
            raw = cb["_json"]
            args: Any = raw if raw.strip() else (cb.get("input") or {})
            calls.append(ToolCall(cb.get("id") or "", cb.get("name") or "", args))
    return ModelResponse(
        text=text_or_none("".join(text)), tool_calls=calls, usage=usage_of(usage), finish_reason=finish
    )


class AnthropicModel(WireModel):
    provider = "anthropic"
    default_base_url = DEFAULT_BASE_URL
    key_env = ("ANTHROPIC_API_KEY",)
    streams = True

    def resolve_base_url(self, given: str | None) -> str:
        url = (given or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        # One --base-url ending in /v1 serves OpenAI-style and Anthropic-style clients alike.
        return url[: -len("/v1")] if url.endswith("/v1") else url

    def url(self) -> str:
        return f"{self.base_url}/v1/messages"

    def headers(self) -> dict[str, str]:
        h = {"anthropic-version": API_VERSION}
        if self.api_key:
            h["x-api-key"] = self.api_key
        return h

    def encode(self, request: ModelRequest, stream: bool) -> dict:
        settings = self.settings(request)
        system, messages = encode_messages(request)
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": int(settings.get("max_tokens") or self.opts.max_tokens),
            "messages": messages,
        }
        if system:
            body["system"] = system
        if request.tools:
            body["tools"] = [
                {
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "input_schema": t.get("parameters") or {"type": "object", "properties": {}},
                }
                for t in request.tools
            ]
            choice = settings.get("tool_choice")
            tc: dict[str, Any] = dict(choice) if isinstance(choice, dict) else {"type": "auto"}
            if isinstance(choice, str) and choice in ("auto", "any", "none"):
                tc = {"type": choice}
            elif choice == "required":
                tc = {"type": "any"}
            if settings.get("parallel_tool_calls") is False and tc["type"] != "none":
                tc["disable_parallel_tool_use"] = True
            if choice is not None or "disable_parallel_tool_use" in tc:
                body["tool_choice"] = tc
        if settings.get("temperature") is not None:
            body["temperature"] = settings["temperature"]
        if stream:
            body["stream"] = True
        return body

    def decode(self, body: dict, turn: int) -> ModelResponse:
        return decode_message(body)

    def stream_state(self) -> StreamState:
        return MessagesStream()

    def decode_stream(self, events: list[dict], turn: int) -> ModelResponse:
        return decode_events(events)


def make(name: str, options: dict, suites: list | None = None, seed: int = 0) -> AnthropicModel:
    return AnthropicModel(name, options)
