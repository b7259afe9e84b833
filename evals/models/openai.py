"""`openai/<model>`: the Chat Completions wire format, for OpenAI and OpenAI-compatible servers.

`--base-url` (or `OPENAI_BASE_URL`) points it at vLLM, Ollama, llama.cpp, OpenRouter, Groq or the
Fanout emulator. Those servers differ in small ways, and each difference is tolerated here rather
than crashing an episode: arguments sent as an object instead of a JSON string, missing or
repeated call ids, `content: ""` beside tool calls, no `usage`, the legacy `function_call` field,
and streamed tool calls whose chunks carry no `index`.

A refusal (`message.refusal`, streamed as `delta.refusal`) is the turn's answer: its text is the
response text and the finish reason is `refusal`, as for a Responses API `refusal` content part.

Reasoning models keep their reasoning server-side in this format (nothing to send back);
`reasoning_effort` steers them and `completion_tokens_details.reasoning_tokens` counts it.
`--max-tokens` is sent as `max_completion_tokens`, the field reasoning models accept.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from .base import ModelRequest, ModelResponse, ToolCall, Usage, token_counts
from .http import (
    Failure,
    StreamState,
    WireModel,
    args_text,
    call_args,
    error_body,
    error_message,
    status_failure,
    text_or_none,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
REFUSAL = "refusal"  # the finish_reason of a turn the model refused (`message.refusal`)


def encode_messages(request: ModelRequest) -> list[dict]:
    out: list[dict] = []
    for m in request.messages:
        if m.role == "assistant":
            msg: dict[str, Any] = {"role": "assistant", "content": m.content}
            if m.tool_calls:
                msg["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": args_text(c.arguments)},
                    }
                    for c in m.tool_calls
                ]
            out.append(msg)
        elif m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content or ""})
        else:
            out.append({"role": m.role, "content": m.content or ""})
    return out


def encode_tools(tools: list[dict]) -> list[dict]:
    return [
        {
            "type": "function",
            "function": {
                "name": t["name"],
                "description": t.get("description", ""),
                "parameters": t.get("parameters") or {"type": "object", "properties": {}},
            },
        }
        for t in tools
    ]


def passthrough(body: dict, settings: dict[str, Any], has_tools: bool) -> None:
    if settings.get("temperature") is not None:
        body["temperature"] = settings["temperature"]
    if has_tools and settings.get("tool_choice") is not None:
        body["tool_choice"] = settings["tool_choice"]
    # Sent only when set: several OpenAI-compatible servers reject the field.
    if has_tools and settings.get("parallel_tool_calls") is not None:
        body["parallel_tool_calls"] = bool(settings["parallel_tool_calls"])
    if settings.get("reasoning_effort") is not None:
        body["reasoning_effort"] = settings["reasoning_effort"]
    if settings.get("max_tokens") is not None:
        body["max_completion_tokens"] = int(settings["max_tokens"])


def usage_of(u: Any, prompt: str = "prompt_tokens", completion: str = "completion_tokens") -> Usage | None:
    """Chat Completions counts cached tokens inside `prompt_tokens`, reasoning inside completion;
    the Responses API does the same under `input_tokens` and `output_tokens` (its `usage_of`)."""
    if not isinstance(u, dict) or u.get(prompt) is None:
        return None
    details = u.get(f"{prompt}_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    out_details = u.get(f"{completion}_details")
    reasoning = out_details.get("reasoning_tokens") if isinstance(out_details, dict) else None
    counts = token_counts(u[prompt], u.get(completion) or 0, cached or 0, reasoning or 0)
    if counts is None or counts[2] > counts[0] or counts[3] > counts[1]:
        return None
    return Usage(
        counts[0], counts[1], counts[2], reasoning_tokens=counts[3] if reasoning is not None else None
    )


def decode_message(body: dict) -> ModelResponse:
    choices = body.get("choices") or []
    if not choices:
        if "error" in body:
            raise ValueError(f"error body: {body['error']}")
        return ModelResponse(text=None, usage=usage_of(body.get("usage")), finish_reason="empty")
    choice = choices[0]
    msg = choice.get("message") or {}
    calls = []
    for tc in msg.get("tool_calls") or []:
        fn = tc.get("function") or {}
        calls.append(ToolCall(tc.get("id") or "", fn.get("name") or "", call_args(fn.get("arguments"))))
    legacy = msg.get("function_call")
    if not calls and isinstance(legacy, dict):
        calls.append(ToolCall("", legacy.get("name") or "", call_args(legacy.get("arguments"))))
    text = msg.get("content")
    if isinstance(text, list):  # some servers send content parts
        text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
    finish = choice.get("finish_reason")
    refusal = msg.get("refusal")
    if isinstance(refusal, str) and refusal:  # recorded as the answer, as the Responses adapter does
        text = (text if isinstance(text, str) else "") + refusal
        finish = finish if calls else REFUSAL
    return ModelResponse(
        text=text_or_none(text),
        tool_calls=calls,
        usage=usage_of(body.get("usage")),
        finish_reason=finish,
    )


class ChatStream(StreamState):
    """Tool-call deltas keyed by `index`; a call is complete when the next index starts or the
    choice finishes."""

    def __init__(self) -> None:
        self.open_index: int | None = None
        self.finished = False

    def feed(self, event: dict) -> tuple[bool, bool]:
        if event.get("type") == "[DONE]":
            self.complete = True
            return False, self._close()
        token = done = False
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content") or delta.get("refusal"):
                token = True
            for pos, tc in enumerate(delta.get("tool_calls") or []):
                token = True
                idx = tc.get("index", pos)
                if self.open_index is not None and idx != self.open_index:
                    done = True
                self.open_index = idx
            if choice.get("finish_reason"):
                self.finished = True
                done = self._close() or done
        return token, done

    def _close(self) -> bool:
        was_open = self.open_index is not None
        self.open_index = None
        return was_open


def decode_chunks(events: list[dict]) -> ModelResponse:
    text: list[str] = []
    refusal: list[str] = []
    calls: dict[int, dict] = {}
    order: list[int] = []
    finish = None
    usage = None
    for ev in events:
        if ev.get("type") == "[DONE]":
            continue
        if ev.get("usage"):
            usage = usage_of(ev["usage"]) or usage
        for choice in ev.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                text.append(delta["content"])
            if isinstance(delta.get("refusal"), str):
                refusal.append(delta["refusal"])
            for pos, tc in enumerate(delta.get("tool_calls") or []):
                idx = tc.get("index", pos)
                fn = tc.get("function") or {}
                cur = calls.get(idx)
                if cur is not None and tc.get("id") and cur["id"] and tc["id"] != cur["id"]:
                    idx = max(calls) + 1  # a new call reusing an index: servers that omit it
                    cur = None
                if cur is None:
                    cur = calls[idx] = {"id": "", "name": "", "args": None}
                    order.append(idx)
                if tc.get("id"):
                    cur["id"] = tc["id"]
                if fn.get("name"):
                    cur["name"] += fn["name"]
                a = fn.get("arguments")
                if isinstance(a, dict | list):
                    cur["args"] = call_args(a)
                elif a:
                    cur["args"] = (
                        (cur["args"] or "") + a if not isinstance(cur["args"], dict) else cur["args"]
                    )
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
    tool_calls = [ToolCall(calls[i]["id"], calls[i]["name"], calls[i]["args"] or "") for i in order]
    if "".join(refusal):
        text += refusal
        finish = finish if tool_calls else REFUSAL
    return ModelResponse(
        text=text_or_none("".join(text)), tool_calls=tool_calls, usage=usage, finish_reason=finish
    )


def openai_failure(status: int, headers: httpx.Headers, text: str) -> Failure:
    """`insufficient_quota` arrives as a 429 but no wait will fix it: stop the run."""
    err = error_body(text)
    if err.get("code") == "insufficient_quota" or err.get("type") == "insufficient_quota":
        return Failure(
            "fatal", f"{error_message(status, text)} (quota exhausted: check the plan and billing)"
        )
    return status_failure(status, headers, text)


class OpenAIEndpoint(WireModel):
    """Where OpenAI's two APIs (and the servers compatible with them) are reached and how they
    authenticate: one base URL (`OPENAI_BASE_URL`), one key, a bearer header."""

    default_base_url = DEFAULT_BASE_URL
    key_env = ("OPENAI_API_KEY",)

    def resolve_base_url(self, given: str | None) -> str:
        return (given or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}


class OpenAIChatModel(OpenAIEndpoint):
    provider = "openai"

    def url(self, stream: bool) -> str:
        return f"{self.base_url}/chat/completions"

    def encode(self, request: ModelRequest, stream: bool) -> dict:
        body: dict[str, Any] = {"model": self.model, "messages": encode_messages(request)}
        if request.tools:
            body["tools"] = encode_tools(request.tools)
        passthrough(body, self.settings(request), bool(request.tools))
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    def decode(self, body: dict, turn: int) -> ModelResponse:
        return decode_message(body)

    def stream_state(self) -> StreamState:
        return ChatStream()

    def decode_stream(self, events: list[dict], turn: int) -> ModelResponse:
        return decode_chunks(events)

    def classify(self, status: int, headers: httpx.Headers, text: str) -> Failure:
        return openai_failure(status, headers, text)
