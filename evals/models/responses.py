"""`openai-responses/<model>`: the OpenAI Responses API (`POST /responses`).

Stateless use (`store: false`, the whole conversation sent each turn): the system prompt goes to
`instructions`, the model's calls come back as `function_call` output items whose `call_id` pairs
them with the `function_call_output` items we send next. `input_tokens` includes cached tokens
(`input_tokens_details.cached_tokens`).

Reasoning models return `reasoning` items. Without server-side storage the only way to keep a
model's reasoning across turns is to ask for it encrypted (`include:
["reasoning.encrypted_content"]`, sent whenever the model reasons) and send every output item back
as an input item, verbatim, on the next turn; otherwise the model restarts its reasoning every
turn (no error, more tokens, weaker multi-turn play), and `openai/` and `openai-responses/` numbers
for one model stop being comparable. A reasoning model the capability table does not list gets no
`include`, so its reasoning items come back without `encrypted_content`: those are not sent back
(under `store: false` the server cannot resolve their ids and answers 404 "Item with id 'rs_...' not
found"), and such a 404 fails the episode rather than stopping the run as an unknown model would.
Tools are declared with `strict: false` explicitly, the field the API types as required. A
`refusal` content part is the turn's answer: its text is the response text and the finish reason is
`refusal` (as for a Chat Completions `message.refusal`).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from .base import ModelRequest, ModelResponse, ProviderParts, ToolCall, Usage
from .http import (
    Failure,
    RetryableError,
    StreamState,
    args_text,
    call_args,
    error_body,
    error_message,
    own_parts,
    text_or_none,
)
from .openai import REFUSAL, OpenAIEndpoint, openai_failure
from .openai import usage_of as chat_usage_of

FORMAT = "responses"


def _unresolvable(item: dict) -> bool:
    """A reasoning item only the server's storage could resolve: no `encrypted_content` (it was
    not asked for: a reasoning model the capability table does not list) and no reasoning text of
    its own. Sent back under `store: false`, OpenAI answers 404 "Item with id 'rs_...' not found"."""
    return item.get("type") == "reasoning" and not item.get("encrypted_content") and not item.get("content")


def _replayed_items(items: list[dict], calls: list[ToolCall], stored: bool = False) -> list[dict]:
    """Output items sent back as input: verbatim, except that each function_call carries the
    call id and arguments the conversation uses (the same unless the harness had to make an id
    unique), and that without server-side storage a reasoning item nothing but that storage
    could resolve is left out (the model restarts its reasoning, as it would anyway)."""
    out: list[dict] = []
    it = iter(calls)
    for item in items:
        if not stored and _unresolvable(item):
            continue
        if item.get("type") == "function_call":
            c = next(it, None)
            if c is not None:
                item = {**item, "call_id": c.id, "arguments": args_text(c.arguments)}
        out.append(item)
    return out


def encode_input(request: ModelRequest, stored: bool = False) -> tuple[str | None, list[dict]]:
    """`stored`: the request sets `store: true` (with -M), so the server can resolve item ids."""
    system: list[str] = []
    items: list[dict] = []
    for m in request.messages:
        if m.role == "system":
            if m.content:
                system.append(m.content)
        elif m.role == "assistant":
            own = own_parts(m, FORMAT)
            if own is not None:
                items.extend(_replayed_items(own, m.tool_calls, stored))
                continue
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
    return chat_usage_of(u, "input_tokens", "output_tokens")


def decode_response(body: dict) -> ModelResponse:
    if body.get("error"):
        raise ValueError(f"error body: {body['error']}")
    text: list[str] = []
    calls: list[ToolCall] = []
    refused = False
    output = body.get("output") or []
    for item in output:
        t = item.get("type")
        if t == "message":
            for part in item.get("content") or []:
                if part.get("type") in ("output_text", "text"):
                    text.append(part.get("text") or "")
                elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                    text.append(part["refusal"])
                    refused = refused or bool(part["refusal"])
        elif t == "function_call":
            calls.append(
                ToolCall(
                    item.get("call_id") or item.get("id") or "",
                    item.get("name") or "",
                    call_args(item.get("arguments")),
                )
            )
    status = body.get("status")
    finish = "tool_calls" if calls else ("stop" if status == "completed" else status)
    if refused and not calls:
        finish = REFUSAL
    reasoning = any(isinstance(i, dict) and i.get("type") == "reasoning" for i in output)
    return ModelResponse(
        text=text_or_none("".join(text)),
        tool_calls=calls,
        usage=usage_of(body.get("usage")),
        finish_reason=finish,
        provider_parts=ProviderParts(FORMAT, list(output)) if reasoning else None,
    )


class ResponsesStream(StreamState):
    """Typed events; the stream is complete at `response.completed` (or `response.incomplete`)."""

    def feed(self, event: dict) -> tuple[bool, bool]:
        t = event.get("type") or ""
        if t in ("response.completed", "response.incomplete"):
            self.complete = True
        elif t == "response.failed":
            err = (event.get("response") or {}).get("error") or {}
            raise RetryableError(f"response.failed: {err.get('code', '')} {err.get('message', '')}")
        elif t.endswith(".delta"):
            return True, False
        elif t == "response.output_item.done":
            return False, (event.get("item") or {}).get("type") == "function_call"
        return False, False


def decode_events(events: list[dict]) -> ModelResponse:
    """The terminal event carries the whole response; items streamed as `output_item.done` fill
    in when a server leaves its `output` empty."""
    final: dict | None = None
    done_items: dict[int, dict] = {}
    for ev in events:
        t = ev.get("type")
        if t in ("response.completed", "response.incomplete"):
            final = dict(ev.get("response") or {})
        elif t == "response.output_item.done" and isinstance(ev.get("item"), dict):
            done_items[int(ev.get("output_index", len(done_items)))] = ev["item"]
    if final is None:
        raise ValueError("the stream has no response.completed event")
    if not final.get("output") and done_items:
        final["output"] = [done_items[i] for i in sorted(done_items)]
    return decode_response(final)


_ITEM_NOT_FOUND = re.compile(r"\bItem with id '[^']*' not found")


def responses_failure(status: int, headers: httpx.Headers, text: str) -> Failure:
    """As Chat Completions (`openai_failure`), except that a 404 naming an input item the server
    cannot find (an item of an earlier turn it did not store) is this conversation's problem, not
    an unknown model or endpoint: it fails the episode instead of stopping the run."""
    if status == 404:
        msg = error_body(text).get("message")
        if isinstance(msg, str) and _ITEM_NOT_FOUND.search(msg):
            return Failure("fail", error_message(status, text))
    return openai_failure(status, headers, text)


class ResponsesModel(OpenAIEndpoint):
    provider = "openai-responses"

    def url(self, stream: bool) -> str:
        return f"{self.base_url}/responses"

    def encode(self, request: ModelRequest, stream: bool) -> dict:
        settings = self.settings(request)
        instructions, items = encode_input(request, self.opts.params.get("store") is True)
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
                    "strict": False,
                }
                for t in request.tools
            ]
            if settings.get("parallel_tool_calls") is not None:
                body["parallel_tool_calls"] = bool(settings["parallel_tool_calls"])
            choice = settings.get("tool_choice")
            if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
                choice = {"type": "function", "name": choice["function"].get("name")}  # Chat-shaped
            if choice is not None:
                body["tool_choice"] = choice
        if settings.get("temperature") is not None:
            body["temperature"] = settings["temperature"]
        if settings.get("max_tokens") is not None:
            body["max_output_tokens"] = int(settings["max_tokens"])
        if settings.get("reasoning_effort") is not None:
            body["reasoning"] = {"effort": settings["reasoning_effort"]}
        if self.reasons():
            body["include"] = ["reasoning.encrypted_content"]
        if stream:
            body["stream"] = True
        return body

    def decode(self, body: dict, turn: int) -> ModelResponse:
        return decode_response(body)

    def stream_state(self) -> StreamState:
        return ResponsesStream()

    def decode_stream(self, events: list[dict], turn: int) -> ModelResponse:
        return decode_events(events)

    def classify(self, status: int, headers: httpx.Headers, text: str) -> Failure:
        return responses_failure(status, headers, text)
