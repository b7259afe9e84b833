"""`openai-responses/<model>`: the OpenAI Responses API (`POST /responses`).

Stateless use (`store: false`, the whole conversation sent each turn): the system prompt goes to
`instructions`, the model's calls come back as `function_call` output items whose `call_id` pairs
them with the `function_call_output` items we send next. `input_tokens` includes cached tokens
(`input_tokens_details.cached_tokens`). Streaming is not implemented for this format; `--stream`
is ignored here.
"""

from __future__ import annotations

import os
from typing import Any

from .base import ModelRequest, ModelResponse, ToolCall, Usage
from .http import StreamState, WireModel, args_text, text_or_none
from .openai import DEFAULT_BASE_URL


def encode_input(request: ModelRequest) -> tuple[str | None, list[dict]]:
    system: list[str] = []
    items: list[dict] = []
    for m in request.messages:
        if m.role == "system":
            if m.content:
                system.append(m.content)
        elif m.role == "assistant":
            if m.content:
                items.append({"role": "assistant", "content": m.content})
            for c in m.tool_calls:
                items.append(
                    {
                        "type": "function_call",
                        "call_id": c.id,
                        "name": c.name,
                        "arguments": args_text(c.arguments),
                    }
                )
        elif m.role == "tool":
            items.append(
                {"type": "function_call_output", "call_id": m.tool_call_id, "output": m.content or ""}
            )
        else:
            items.append({"role": "user", "content": m.content or ""})
    return ("\n\n".join(system) or None), items


def usage_of(u: Any) -> Usage | None:
    if not isinstance(u, dict) or u.get("input_tokens") is None:
        return None
    cached = (u.get("input_tokens_details") or {}).get("cached_tokens") or 0
    return Usage(int(u["input_tokens"]), int(u.get("output_tokens") or 0), int(cached))


def decode_response(body: dict) -> ModelResponse:
    if body.get("error"):
        raise ValueError(f"error body: {body['error']}")
    text: list[str] = []
    calls: list[ToolCall] = []
    for item in body.get("output") or []:
        t = item.get("type")
        if t == "message":
            for part in item.get("content") or []:
                if part.get("type") in ("output_text", "text"):
                    text.append(part.get("text") or "")
        elif t == "function_call":
            calls.append(
                ToolCall(
                    item.get("call_id") or item.get("id") or "", item.get("name") or "", item.get("arguments")
                )
            )
    status = body.get("status")
    finish = "tool_calls" if calls else ("stop" if status == "completed" else status)
    return ModelResponse(
        text=text_or_none("".join(text)),
        tool_calls=calls,
        usage=usage_of(body.get("usage")),
        finish_reason=finish,
    )


class ResponsesModel(WireModel):
    provider = "openai-responses"
    default_base_url = DEFAULT_BASE_URL
    key_env = ("OPENAI_API_KEY",)
    streams = False

    def resolve_base_url(self, given: str | None) -> str:
        return (given or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")

    def url(self) -> str:
        return f"{self.base_url}/responses"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def encode(self, request: ModelRequest, stream: bool) -> dict:
        settings = self.settings(request)
        instructions, items = encode_input(request)
        body: dict[str, Any] = {"model": self.model, "input": items, "store": False}
        if instructions:
            body["instructions"] = instructions
        if request.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "parameters": t.get("parameters") or {"type": "object", "properties": {}},
                }
                for t in request.tools
            ]
            if settings.get("parallel_tool_calls") is not None:
                body["parallel_tool_calls"] = bool(settings["parallel_tool_calls"])
            if settings.get("tool_choice") is not None:
                body["tool_choice"] = settings["tool_choice"]
        if settings.get("temperature") is not None:
            body["temperature"] = settings["temperature"]
        return body

    def decode(self, body: dict, turn: int) -> ModelResponse:
        return decode_response(body)

    def stream_state(self) -> StreamState:  # pragma: no cover - streams is False
        raise NotImplementedError


def make(name: str, options: dict, suites: list | None = None, seed: int = 0) -> ResponsesModel:
    return ResponsesModel(name, options)
