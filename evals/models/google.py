"""`google/<model>`: Gemini `generateContent` (`POST /v1beta/models/{model}:generateContent`, and
`:streamGenerateContent?alt=sse` with `--stream`).

Calls come back as `functionCall` parts (several in one candidate when the model fans out);
results go back as `functionResponse` parts of one user turn, in call order. Tool schemas go in
`parametersJsonSchema` (full JSON Schema) rather than the OpenAPI-subset `parameters`, so nothing is
lost in translation. Ids are optional in this format: a server-given `functionCall.id` is echoed in
the matching `functionResponse`; when a call has none we make one locally, never send it back, and
the server matches results by order.

Thinking models attach a `thoughtSignature` to parts (the first functionCall of each step, or the
last part). Gemini 3 rejects a function-calling conversation whose earlier model turns come back
without them; Gemini 2.5 accepts it but loses its reasoning context. A model turn holding a
signature or a thought part is therefore kept as `ProviderParts` and sent back verbatim.
`--thinking-budget` sets `thinkingConfig.thinkingBudget` (0 off, -1 dynamic), `--reasoning-effort`
sets `thinkingConfig.thinkingLevel` (Gemini 3), `--max-tokens` sets `maxOutputTokens`, and a
`tool_choice` setting becomes `toolConfig.functionCallingConfig`.
`promptTokenCount` includes `cachedContentTokenCount`; thinking tokens are billed as output, so
completion = candidates + thoughts (`reasoning_tokens` = thoughts). The key travels in the
`x-goog-api-key` header, never the URL. A prompt blocked for its content gets no candidates, only
`promptFeedback.blockReason` (streamed: in the first and only chunk); streamed or not, the turn has
no text and its `finish_reason` is the reason in lower case (`prohibited_content`).

Rate limits: a 429 `RESOURCE_EXHAUSTED` carries its wait in the body (`google.rpc.RetryInfo`
`retryDelay`), which is honoured like a Retry-After; a daily quota (a `QuotaFailure` whose quota id
is per day) cannot recover within a run and stops it.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from .base import ModelRequest, ModelResponse, ProviderParts, ToolCall, Usage, token_counts
from .http import (
    Failure,
    StreamState,
    WireModel,
    args_object,
    call_args,
    error_body,
    error_message,
    own_parts,
    status_failure,
    text_or_none,
)

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
LOCAL_ID = "gemini-local-"  # prefix of ids we made up; never sent back to the server
FORMAT = "gemini"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def _response_object(content: str | None) -> dict:
    try:
        val = json.loads(content or "null")
    except (ValueError, RecursionError):
        return {"result": content}
    return val if isinstance(val, dict) else {"result": val}


def _replayed_parts(parts: list[dict], calls: list[ToolCall]) -> list[dict]:
    """A thinking turn sent back: every part verbatim (signatures included), each functionCall
    with the id and arguments the conversation uses (ids we made up are not sent)."""
    out: list[dict] = []
    it = iter(calls)
    for p in parts:
        if isinstance(p.get("functionCall"), dict):
            c = next(it, None)
            if c is not None:
                fc = {k: v for k, v in p["functionCall"].items() if k != "id"}
                fc["args"] = args_object(c.arguments)
                if c.id and not c.id.startswith(LOCAL_ID):
                    fc["id"] = c.id
                p = {**p, "functionCall": fc}
        out.append(p)
    return out


def encode_contents(request: ModelRequest) -> tuple[str | None, list[dict]]:
    system: list[str] = []
    contents: list[dict] = []
    for m in request.messages:
        if m.role == "system":
            if m.content:
                system.append(m.content)
        elif m.role == "assistant":
            own = own_parts(m, FORMAT)
            if own is not None:
                contents.append({"role": "model", "parts": _replayed_parts(own, m.tool_calls)})
                continue
            parts: list[dict] = []
            if m.content:
                parts.append({"text": m.content})
            for c in m.tool_calls:
                fc = {"name": c.name, "args": args_object(c.arguments)}
                if c.id and not c.id.startswith(LOCAL_ID):
                    fc["id"] = c.id
                parts.append({"functionCall": fc})
            contents.append({"role": "model", "parts": parts or [{"text": ""}]})
        elif m.role == "tool":
            fr = {"name": m.name or "", "response": _response_object(m.content)}
            if m.tool_call_id and not m.tool_call_id.startswith(LOCAL_ID):
                fr["id"] = m.tool_call_id
            part = {"functionResponse": fr}
            if contents and contents[-1]["role"] == "user" and "functionResponse" in contents[-1]["parts"][0]:
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
        else:
            contents.append({"role": "user", "parts": [{"text": m.content or ""}]})
    return ("\n\n".join(system) or None), contents


def usage_of(u: Any) -> Usage | None:
    if not isinstance(u, dict) or u.get("promptTokenCount") is None:
        return None
    thoughts = u.get("thoughtsTokenCount")
    counts = token_counts(
        u["promptTokenCount"],
        u.get("candidatesTokenCount") or 0,
        u.get("cachedContentTokenCount") or 0,
        thoughts or 0,
    )
    if counts is None or counts[2] > counts[0]:
        return None
    prompt, candidates, cached, thought = counts
    return Usage(
        prompt, candidates + thought, cached, reasoning_tokens=thought if thoughts is not None else None
    )


def _decoded(parts: list[dict], usage: Usage | None, finish: Any, turn: int) -> ModelResponse:
    text: list[str] = []
    calls: list[ToolCall] = []
    opaque = False
    for part in parts:
        if part.get("thoughtSignature") or part.get("thought"):
            opaque = True
        if "functionCall" in part:
            fc = part["functionCall"] or {}
            cid = fc.get("id") or f"{LOCAL_ID}{turn}-{len(calls)}"
            calls.append(ToolCall(cid, fc.get("name") or "", call_args(fc.get("args") or {})))
        elif part.get("text") and not part.get("thought"):
            text.append(part["text"])
    return ModelResponse(
        text=text_or_none("".join(text)),
        tool_calls=calls,
        usage=usage,
        finish_reason=finish.lower() if isinstance(finish, str) else finish,
        provider_parts=ProviderParts(FORMAT, parts) if opaque else None,
    )


def decode_response(body: dict, turn: int = 1) -> ModelResponse:
    if body.get("error"):
        raise ValueError(f"error body: {body['error']}")
    candidates = body.get("candidates") or []
    usage = usage_of(body.get("usageMetadata"))
    if not candidates:
        return _blocked(usage, _block_reason(body))
    cand = candidates[0]
    parts = [p for p in (cand.get("content") or {}).get("parts") or [] if isinstance(p, dict)]
    return _decoded(parts, usage, cand.get("finishReason"), turn)


def _block_reason(body: dict) -> Any:
    """Why the prompt was blocked (`promptFeedback.blockReason`), or None."""
    return (body.get("promptFeedback") or {}).get("blockReason")


def _blocked(usage: Usage | None, reason: Any) -> ModelResponse:
    """A response without candidates: a blocked prompt (its reason lowercased), else "empty"."""
    return ModelResponse(text=None, usage=usage, finish_reason=str(reason or "empty").lower())


class GeminiStream(StreamState):
    """Gemini's SSE stream has no terminal event: it is complete once a chunk carries a
    `finishReason`, or, for a blocked prompt, once a chunk without candidates carries
    `promptFeedback.blockReason` (sent in the first and only chunk). Text streams in pieces;
    each functionCall arrives whole."""

    def feed(self, event: dict) -> tuple[bool, bool]:
        token = call = False
        feedback = event.get("promptFeedback")
        if not event.get("candidates") and isinstance(feedback, dict) and feedback.get("blockReason"):
            self.complete = True
        for cand in event.get("candidates") or []:
            for p in (cand.get("content") or {}).get("parts") or []:
                if isinstance(p, dict) and "functionCall" in p:
                    token = call = True
                elif isinstance(p, dict) and p.get("text"):
                    token = True
            if cand.get("finishReason"):
                self.complete = True
        return token, call


def decode_chunks(events: list[dict], turn: int) -> ModelResponse:
    parts: list[dict] = []
    usage = None
    finish = None
    seen = False  # any candidate at all
    for ev in events:
        if ev.get("error"):
            raise ValueError(f"error chunk: {ev['error']}")
        if ev.get("usageMetadata"):
            usage = usage_of(ev["usageMetadata"]) or usage
        for cand in ev.get("candidates") or []:
            seen = True
            parts += [p for p in (cand.get("content") or {}).get("parts") or [] if isinstance(p, dict)]
            finish = cand.get("finishReason") or finish
    if not seen:  # a blocked prompt (its one chunk): decoded as the same answer non-streamed
        block = next((r for r in map(_block_reason, events) if r), None)
        if block:
            return _blocked(usage, block)
    return _decoded(parts, usage, finish, turn)


def _seconds(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    m = _DURATION.match(value) if isinstance(value, str) else None
    return float(m.group(1)) if m else None


def gemini_failure(status: int, headers: httpx.Headers, text: str) -> Failure:
    """Read `google.rpc` details: a RetryInfo wait, a per-day quota, an invalid key (a 400)."""
    err = error_body(text)
    details = [d for d in err.get("details") or [] if isinstance(d, dict)]
    msg = error_message(status, text)
    if status == 400 and any(d.get("reason") == "API_KEY_INVALID" for d in details):
        return Failure("fatal", f"{msg} (the API key is invalid)")
    if status == 429:
        for d in details:
            if str(d.get("@type", "")).endswith("QuotaFailure"):
                ids = [str(v.get("quotaId", "")) for v in d.get("violations") or [] if isinstance(v, dict)]
                if any("PerDay" in q for q in ids):
                    return Failure("fatal", f"{msg} (daily quota exhausted: {', '.join(ids)})")
        wait = next(
            (_seconds(d.get("retryDelay")) for d in details if str(d.get("@type", "")).endswith("RetryInfo")),
            None,
        )
        base = status_failure(status, headers, text)
        return Failure("retry", msg, wait if wait is not None else base.wait_s)
    return status_failure(status, headers, text)


class GeminiModel(WireModel):
    provider = "google"
    default_base_url = DEFAULT_BASE_URL
    key_env = ("GEMINI_API_KEY", "GOOGLE_API_KEY")

    def resolve_base_url(self, given: str | None) -> str:
        url = (given or DEFAULT_BASE_URL).rstrip("/")
        for suffix in ("/v1beta", "/v1"):
            if url.endswith(suffix):
                return url[: -len(suffix)]
        return url

    def url(self, stream: bool) -> str:
        if stream:
            return f"{self.base_url}/v1beta/models/{self.model}:streamGenerateContent?alt=sse"
        return f"{self.base_url}/v1beta/models/{self.model}:generateContent"

    def headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.api_key} if self.api_key else {}

    def encode(self, request: ModelRequest, stream: bool) -> dict:
        settings = self.settings(request)
        system, contents = encode_contents(request)
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        if request.tools:
            decls = []
            for t in request.tools:
                d: dict[str, Any] = {"name": t["name"], "description": t.get("description", "")}
                if (t.get("parameters") or {}).get("properties"):
                    d["parametersJsonSchema"] = t["parameters"]
                decls.append(d)
            body["tools"] = [{"functionDeclarations": decls}]
            fcc = self._function_calling(settings.get("tool_choice"))
            if fcc is not None:
                body["toolConfig"] = {"functionCallingConfig": fcc}
        gen: dict[str, Any] = {}
        if settings.get("temperature") is not None:
            gen["temperature"] = settings["temperature"]
        if settings.get("max_tokens") is not None:
            gen["maxOutputTokens"] = int(settings["max_tokens"])
        thinking: dict[str, Any] = {}
        if settings.get("thinking_budget") is not None:
            thinking["thinkingBudget"] = int(settings["thinking_budget"])
        if settings.get("reasoning_effort") is not None:
            thinking["thinkingLevel"] = settings["reasoning_effort"]
        if thinking:
            gen["thinkingConfig"] = thinking
        if gen:
            body["generationConfig"] = gen
        return body

    @staticmethod
    def _function_calling(choice: Any) -> dict | None:
        if choice is None:
            return None
        if choice in ("auto", "none"):
            return {"mode": str(choice).upper()}
        if choice in ("required", "any"):
            return {"mode": "ANY"}
        if isinstance(choice, dict):
            inner = choice.get("function")
            fn: dict = inner if isinstance(inner, dict) else choice
            if isinstance(fn.get("name"), str):
                return {"mode": "ANY", "allowedFunctionNames": [fn["name"]]}
        return None

    def decode(self, body: dict, turn: int) -> ModelResponse:
        return decode_response(body, turn)

    def stream_state(self) -> StreamState:
        return GeminiStream()

    def decode_stream(self, events: list[dict], turn: int) -> ModelResponse:
        return decode_chunks(events, turn)

    def classify(self, status: int, headers: httpx.Headers, text: str) -> Failure:
        return gemini_failure(status, headers, text)
