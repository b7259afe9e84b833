"""`anthropic/<model>`: the Messages API.

Shape rules the API enforces: the system prompt is a top-level field; an assistant turn's calls are
`tool_use` blocks (input is an object); their results go back as `tool_result` blocks, all of them
first in the next user message, in the order the calls were made. Consecutive tool messages are
therefore merged into one user message. `parallel_tool_calls: false` maps to
`tool_choice.disable_parallel_tool_use`. Usage: `input_tokens` excludes cache reads and cache
writes, so the prompt count is the sum of the three (cached = cache reads; cache writes are kept
apart because they bill at 1.25x the input rate).

Thinking: `--thinking-budget N` turns on `thinking: {type: enabled, budget_tokens: N}`;
`--reasoning-effort` on models that only think adaptively (Opus 4.7 and later) sends
`thinking: {type: adaptive}` with `output_config.effort`. A thinking turn's content (`thinking`
and `redacted_thinking` blocks with their signatures, then text and `tool_use`) must come back on
the next request exactly as received, or the API answers 400; it is kept as `ProviderParts` and
sent back verbatim. `max_tokens` counts thinking, so its default leaves room for it: 4096 for the
answer plus the budget. `reasoning_tokens` is the API's own count when the usage reports one
(`usage.output_tokens_details.thinking_tokens`: the raw reasoning, not the possibly shorter summary
returned); when it does not, it is estimated from the thinking text returned (a lower bound for
models that summarise it, and 0 for a turn whose thinking is all redacted).
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from mock_tools import is_error

from ..tokens import estimate_text
from .base import ModelRequest, ModelResponse, ProviderParts, ToolCall, Usage, token_counts
from .http import (
    Failure,
    StreamState,
    WireModel,
    args_object,
    call_args,
    error_body,
    error_message,
    loads_json,
    own_parts,
    status_failure,
    text_or_none,
)

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
FORMAT = "anthropic"
ANSWER_TOKENS = 4096  # max_tokens left for the answer itself, on top of any thinking budget
ADAPTIVE_MAX_TOKENS = 32000  # default max_tokens when the model thinks adaptively
THINKING = ("thinking", "redacted_thinking")


def _is_error_content(content: str | None) -> bool:
    try:
        return is_error(json.loads(content or "null"))
    except (ValueError, RecursionError):
        return False


def _replayed_blocks(blocks: list[dict], calls: list[ToolCall]) -> list[dict]:
    """A thinking turn sent back: every block verbatim, each tool_use with the id and input the
    conversation uses (the same unless the harness had to make an id unique)."""
    out: list[dict] = []
    it = iter(calls)
    for b in blocks:
        if b.get("type") == "tool_use":
            c = next(it, None)
            if c is not None:
                b = {**b, "id": c.id, "input": args_object(c.arguments)}
        out.append(b)
    return out


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
            own = own_parts(m, FORMAT)
            if own is not None:
                out.append({"role": "assistant", "content": _replayed_blocks(own, m.tool_calls)})
                continue
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


def thinking_tokens(blocks: list[dict]) -> int | None:
    """Estimated tokens of the thinking returned; None when the turn did not think (used when the
    usage reports no `output_tokens_details.thinking_tokens`)."""
    seen = False
    n = 0
    for b in blocks:
        if b.get("type") == "thinking":
            seen = True
            n += estimate_text(b.get("thinking") or "")
        elif b.get("type") == "redacted_thinking":
            seen = True
    return n if seen else None


def usage_of(u: Any, blocks: list[dict] | None = None) -> Usage | None:
    if not isinstance(u, dict) or u.get("input_tokens") is None:
        return None
    counts = token_counts(
        u["input_tokens"],
        u.get("output_tokens") or 0,
        u.get("cache_read_input_tokens") or 0,
        u.get("cache_creation_input_tokens") or 0,
    )
    if counts is None:
        return None
    fresh, output, read, write = counts
    details = u.get("output_tokens_details")
    reported = details.get("thinking_tokens") if isinstance(details, dict) else None
    reported_ok = token_counts(reported) is not None and isinstance(reported, int)
    return Usage(
        fresh + read + write,
        output,
        read,
        reasoning_tokens=reported if reported_ok else thinking_tokens(blocks or []),
        cache_write_tokens=write,
    )


def _decoded(blocks: list[dict], usage: Any, finish: Any) -> ModelResponse:
    text: list[str] = []
    calls: list[ToolCall] = []
    for block in blocks:
        if block.get("type") == "text":
            text.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            calls.append(
                ToolCall(block.get("id") or "", block.get("name") or "", call_args(block.get("input")))
            )
    thinks = any(b.get("type") in THINKING for b in blocks)
    return ModelResponse(
        text=text_or_none("".join(text)),
        tool_calls=calls,
        usage=usage_of(usage, blocks),
        finish_reason=finish,
        provider_parts=ProviderParts(FORMAT, blocks) if thinks else None,
    )


def decode_message(body: dict) -> ModelResponse:
    if body.get("type") == "error":
        raise ValueError(f"error body: {body.get('error')}")
    blocks = [b for b in body.get("content") or [] if isinstance(b, dict)]
    return _decoded(blocks, body.get("usage"), body.get("stop_reason"))


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
    """Reassemble the content blocks (thinking and its signature included) from the deltas."""
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
            kind = d.get("type")
            if kind == "text_delta":
                cb["text"] = (cb.get("text") or "") + (d.get("text") or "")
            elif kind == "input_json_delta":
                cb["_json"] += d.get("partial_json") or ""
            elif kind == "thinking_delta":
                cb["thinking"] = (cb.get("thinking") or "") + (d.get("thinking") or "")
            elif kind == "signature_delta":
                cb["signature"] = (cb.get("signature") or "") + (d.get("signature") or "")
        elif t == "message_delta":
            finish = (ev.get("delta") or {}).get("stop_reason") or finish
            usage.update({k: v for k, v in (ev.get("usage") or {}).items() if v is not None})
    out: list[dict] = []
    raws: list[str] = []
    for idx in order:
        cb = dict(blocks[idx])
        raw = cb.pop("_json", "")
        if cb.get("type") == "tool_use":
            raws.append(raw)
            if raw.strip():
                try:
                    cb["input"] = call_args(loads_json(raw))
                except ValueError:
                    cb["input"] = {}  # unparseable: the call keeps the text, the runtime scores it
                if not isinstance(cb["input"], dict):
                    cb["input"] = {}
        out.append(cb)
    resp = _decoded(out, usage, finish)
    for c, raw in zip(resp.tool_calls, raws, strict=True):
        if raw.strip():
            c.arguments = raw  # the text exactly as streamed, as the trace records it
    return resp


def anthropic_failure(status: int, headers: httpx.Headers, text: str) -> Failure:
    """A spent credit balance (a 400) or a billing problem (a 402 `billing_error`) is not fixed by
    a retry or by the next episode: stop the run."""
    err = error_body(text)
    if status == 400 and "credit balance" in str(err.get("message", "")).lower():
        return Failure("fatal", f"{error_message(status, text)} (credit exhausted)")
    if status == 402 or err.get("type") == "billing_error":
        return Failure("fatal", f"{error_message(status, text)} (billing: check the plan and payment)")
    return status_failure(status, headers, text)


class AnthropicModel(WireModel):
    provider = "anthropic"
    default_base_url = DEFAULT_BASE_URL
    key_env = ("ANTHROPIC_API_KEY",)

    def resolve_base_url(self, given: str | None) -> str:
        url = (given or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        # One --base-url ending in /v1 serves OpenAI-style and Anthropic-style clients alike.
        return url[: -len("/v1")] if url.endswith("/v1") else url

    def url(self, stream: bool) -> str:
        return f"{self.base_url}/v1/messages"

    def headers(self) -> dict[str, str]:
        h = {"anthropic-version": API_VERSION}
        if self.api_key:
            h["x-api-key"] = self.api_key
        return h

    def max_tokens(self, settings: dict[str, Any]) -> int:
        if settings.get("max_tokens"):
            return int(settings["max_tokens"])
        if self.opts.max_tokens:
            return self.opts.max_tokens
        budget = int(settings.get("thinking_budget") or 0)
        if settings.get("reasoning_effort") is not None and budget <= 0:
            limit = self.capability.max_output_tokens if self.capability else None
            return min(ADAPTIVE_MAX_TOKENS, limit or ADAPTIVE_MAX_TOKENS)
        return ANSWER_TOKENS + max(0, budget)

    def encode(self, request: ModelRequest, stream: bool) -> dict:
        settings = self.settings(request)
        system, messages = encode_messages(request)
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens(settings),
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
            tc: dict[str, Any] = {"type": "auto"}
            if isinstance(choice, str) and choice in ("auto", "any", "none"):
                tc = {"type": choice}
            elif choice == "required":
                tc = {"type": "any"}
            elif isinstance(choice, dict) and isinstance(choice.get("function"), dict):
                tc = {"type": "tool", "name": choice["function"].get("name")}  # OpenAI-shaped
            elif isinstance(choice, dict) and choice.get("type") in ("auto", "any", "none", "tool"):
                tc = dict(choice)
            if settings.get("parallel_tool_calls") is False and tc["type"] != "none":
                tc["disable_parallel_tool_use"] = True
            if choice is not None or "disable_parallel_tool_use" in tc:
                body["tool_choice"] = tc
        if settings.get("temperature") is not None:
            body["temperature"] = settings["temperature"]
        budget = settings.get("thinking_budget")
        if budget is not None:
            if budget > 0:
                body["thinking"] = {"type": "enabled", "budget_tokens": int(budget)}
            else:
                body["thinking"] = {"type": "disabled"}
        elif settings.get("reasoning_effort") is not None:
            body["thinking"] = {"type": "adaptive"}
            body["output_config"] = {"effort": settings["reasoning_effort"]}
        if stream:
            body["stream"] = True
        return body

    def decode(self, body: dict, turn: int) -> ModelResponse:
        return decode_message(body)

    def stream_state(self) -> StreamState:
        return MessagesStream()

    def decode_stream(self, events: list[dict], turn: int) -> ModelResponse:
        return decode_events(events)

    def classify(self, status: int, headers: httpx.Headers, text: str) -> Failure:
        return anthropic_failure(status, headers, text)
