"""`google/<model>`: Gemini `generateContent` (`POST /v1beta/models/{model}:generateContent`).

Calls come back as `functionCall` parts (several in one candidate when the model fans out);
results go back as `functionResponse` parts of one user turn, in call order. Tool schemas go in
`parametersJsonSchema` (full JSON Schema) rather than the OpenAPI-subset `parameters`, so nothing is
lost in translation. Ids are optional in this format: a server-given `functionCall.id` is echoed in
the matching `functionResponse`; when a call has none we make one locally, never send it back, and
the server matches results by order.
`promptTokenCount` includes `cachedContentTokenCount`; thinking tokens are billed as output, so
completion = candidates + thoughts. The key travels in the `x-goog-api-key` header, never the URL.
"""

from __future__ import annotations

import json
from typing import Any

from .base import ModelRequest, ModelResponse, ToolCall, Usage
from .http import StreamState, WireModel, args_object, text_or_none

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
LOCAL_ID = "gemini-local-"  # prefix of ids we made up; never sent back to the server


def _response_object(content: str | None) -> dict:
    try:
        val = json.loads(content or "null")
    except ValueError:
        return {"result": content}
    return val if isinstance(val, dict) else {"result": val}


def encode_contents(request: ModelRequest) -> tuple[str | None, list[dict]]:
    system: list[str] = []
    contents: list[dict] = []
    for m in request.messages:
        if m.role == "system":
            if m.content:
                system.append(m.content)
        elif m.role == "assistant":
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
    completion = int(u.get("candidatesTokenCount") or 0) + int(u.get("thoughtsTokenCount") or 0)
    return Usage(int(u["promptTokenCount"]), completion, int(u.get("cachedContentTokenCount") or 0))


def decode_response(body: dict, turn: int = 1) -> ModelResponse:
    if body.get("error"):
        raise ValueError(f"error body: {body['error']}")
    candidates = body.get("candidates") or []
    usage = usage_of(body.get("usageMetadata"))
    if not candidates:
        reason = (body.get("promptFeedback") or {}).get("blockReason") or "empty"
        return ModelResponse(text=None, usage=usage, finish_reason=str(reason).lower())
    cand = candidates[0]
    text: list[str] = []
    calls: list[ToolCall] = []
    for part in (cand.get("content") or {}).get("parts") or []:
        if "functionCall" in part:
            fc = part["functionCall"] or {}
            cid = fc.get("id") or f"{LOCAL_ID}{turn}-{len(calls)}"
            calls.append(ToolCall(cid, fc.get("name") or "", fc.get("args") or {}))
        elif part.get("text") and not part.get("thought"):
            text.append(part["text"])
    finish = cand.get("finishReason")
    return ModelResponse(
        text=text_or_none("".join(text)),
        tool_calls=calls,
        usage=usage,
        finish_reason=finish.lower() if isinstance(finish, str) else finish,
    )


class GeminiModel(WireModel):
    provider = "google"
    default_base_url = DEFAULT_BASE_URL
    key_env = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    streams = False

    def resolve_base_url(self, given: str | None) -> str:
        url = (given or DEFAULT_BASE_URL).rstrip("/")
        for suffix in ("/v1beta", "/v1"):
            if url.endswith(suffix):
                return url[: -len(suffix)]
        return url

    def url(self) -> str:
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
        gen: dict[str, Any] = {}
        if settings.get("temperature") is not None:
            gen["temperature"] = settings["temperature"]
        if gen:
            body["generationConfig"] = gen
        return body

    def decode(self, body: dict, turn: int) -> ModelResponse:
        return decode_response(body, turn)

    def stream_state(self) -> StreamState:  # pragma: no cover - streams is False
        raise NotImplementedError


def make(name: str, options: dict, suites: list | None = None, seed: int = 0) -> GeminiModel:
    return GeminiModel(name, options)
