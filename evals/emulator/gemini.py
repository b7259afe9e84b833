"""Gemini `generateContent` (`POST /v1beta/models/{model}:generateContent`) and
`:streamGenerateContent?alt=sse`.

Gemini calls need not carry ids: a `functionResponse` is matched to its `functionCall` by `id`
when the client echoes one, else by position among the previous model turn's calls.
"""

from __future__ import annotations

import json
from typing import Any

from ..models.base import Message, ModelResponse, ToolCall
from .conversation import Conversation, EmulatedUsage, WireError, obj, require
from .http import Request
from .wire import ReplyIds, WireFormat, bearer, pieces, sse

_STATUS = {
    "invalid_request": "INVALID_ARGUMENT",
    "authentication": "UNAUTHENTICATED",
    "not_found": "NOT_FOUND",
    "method_not_allowed": "INVALID_ARGUMENT",
    "rate_limit": "RESOURCE_EXHAUSTED",
    "server_error": "INTERNAL",
    "unavailable": "UNAVAILABLE",
    "overloaded": "UNAVAILABLE",
}
_RESULT_KEYS = ("result", "output", "content")


def _get(d: dict, camel: str) -> Any:
    """Gemini's REST API accepts both camelCase and snake_case field names."""
    if camel in d:
        return d[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return d.get(snake)


def _result_text(response: Any) -> str:
    """The tool result as JSON text: the `response` object itself, or the string an adapter wrapped."""
    if isinstance(response, dict) and len(response) == 1:
        ((k, v),) = response.items()
        if k in _RESULT_KEYS and isinstance(v, str):
            return v
    return json.dumps(response, separators=(",", ":"), ensure_ascii=False)


class GeminiGenerate(WireFormat):
    name = "gemini"

    def authorized(self, req: Request) -> bool:
        key = (req.header("x-goog-api-key") or req.query.get("key") or "").strip()
        return bool(key) or bearer(req) is not None

    def error(self, status: int, kind: str, message: str, param: str | None = None) -> dict:
        return {"error": {"code": status, "message": message, "status": _STATUS.get(kind, "INTERNAL")}}

    def parse(self, body: Any, req: Request, path_model: str | None) -> Conversation:
        body = obj(body, "the request body")
        stream = req.path.rstrip("/").endswith(":streamGenerateContent")
        if stream and req.query.get("alt") != "sse":
            raise WireError(
                400, "invalid_request", "the emulator streams Gemini only as server-sent events: add ?alt=sse"
            )
        messages: list[Message] = []
        system = _get(body, "systemInstruction")
        if system:
            parts = obj(system, "systemInstruction").get("parts") or []
            messages.append(
                Message("system", "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict)))
            )
        contents = body.get("contents")
        require(isinstance(contents, list) and contents, "contents must be a non-empty array")
        turn = 0
        for i, c in enumerate(contents):
            where = f"contents[{i}]"
            c = obj(c, where)
            role, parts = c.get("role", "user"), c.get("parts")
            require(
                role in ("user", "model", "function"), f"{where}.role must be 'user' or 'model', not {role!r}"
            )
            require(isinstance(parts, list), f"{where}.parts must be an array")
            if role == "model":
                turn += 1
                texts, calls = [], []
                for j, p in enumerate(parts):
                    p = obj(p, f"{where}.parts[{j}]")
                    fc = _get(p, "functionCall")
                    if fc is not None:
                        fc = obj(fc, f"{where}.parts[{j}].functionCall")
                        require(
                            isinstance(fc.get("name"), str),
                            f"{where}.parts[{j}].functionCall.name is missing",
                        )
                        cid = str(fc.get("id") or f"gemini_{turn}_{len(calls)}")
                        calls.append(ToolCall(cid, fc["name"], json.dumps(fc.get("args") or {})))
                    elif isinstance(p.get("text"), str) and not p.get("thought"):
                        texts.append(p["text"])
                messages.append(Message("assistant", "".join(texts) or None, calls))
                continue
            pending = list(messages[-1].tool_calls) if messages and messages[-1].role == "assistant" else []
            texts = []
            for j, p in enumerate(parts):
                p = obj(p, f"{where}.parts[{j}]")
                fr = _get(p, "functionResponse")
                if fr is not None:
                    fr = obj(fr, f"{where}.parts[{j}].functionResponse")
                    call = next((tc for tc in pending if fr.get("id") and tc.id == fr["id"]), None)
                    if call is None:
                        call = next(
                            (tc for tc in pending if tc.name == fr.get("name")),
                            pending[0] if pending else None,
                        )
                    if call is not None:
                        pending.remove(call)
                    cid = call.id if call is not None else str(fr.get("id") or f"orphan_{i}_{j}")
                    messages.append(
                        Message(
                            "tool", _result_text(fr.get("response")), tool_call_id=cid, name=fr.get("name")
                        )
                    )
                elif isinstance(p.get("text"), str):
                    texts.append(p["text"])
            if texts:
                messages.append(Message("user", "".join(texts)))
        tools = []
        raw_tools = body.get("tools") or []
        require(isinstance(raw_tools, list), "tools must be an array")
        for i, t in enumerate(raw_tools):
            decls = _get(obj(t, f"tools[{i}]"), "functionDeclarations") or []
            for j, d in enumerate(decls):
                d = obj(d, f"tools[{i}].functionDeclarations[{j}]")
                require(
                    isinstance(d.get("name"), str), f"tools[{i}].functionDeclarations[{j}].name is missing"
                )
                params = (
                    d.get("parameters")
                    or _get(d, "parametersJsonSchema")
                    or {"type": "object", "properties": {}}
                )
                tools.append(
                    {"name": d["name"], "description": d.get("description", ""), "parameters": params}
                )
        return Conversation(path_model or "", messages, tools, parallel=True, stream=stream)

    @staticmethod
    def usage(u: EmulatedUsage) -> dict:
        return {
            "promptTokenCount": u.prompt_tokens,
            "candidatesTokenCount": u.completion_tokens,
            "totalTokenCount": u.prompt_tokens + u.completion_tokens,
            "cachedContentTokenCount": u.cached_tokens,
        }

    @staticmethod
    def _parts(resp: ModelResponse) -> list[dict]:
        parts: list[dict] = [{"text": resp.text}] if resp.text else []
        for tc in resp.tool_calls:
            parts.append({"functionCall": {"id": tc.id, "name": tc.name, "args": json.loads(tc.arguments)}})
        return parts

    def _chunk(
        self, conv: Conversation, ids: ReplyIds, parts: list[dict], last: bool, usage: EmulatedUsage
    ) -> dict:
        cand: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if last:
            cand["finishReason"] = "STOP"
        out = {"candidates": [cand], "modelVersion": conv.model, "responseId": ids.rid}
        if last:
            out["usageMetadata"] = self.usage(usage)
        return out

    def render(self, conv: Conversation, resp: ModelResponse, usage: EmulatedUsage, ids: ReplyIds) -> dict:
        return self._chunk(conv, ids, self._parts(resp), True, usage)

    def stream(
        self, conv: Conversation, resp: ModelResponse, usage: EmulatedUsage, ids: ReplyIds
    ) -> list[bytes]:
        # Gemini streams text in pieces but sends each functionCall whole.
        chunks = [[{"text": p}] for p in pieces(resp.text or "", 4)]
        chunks += [[p] for p in self._parts(resp) if "functionCall" in p]
        if not chunks:
            chunks = [[]]
        return [self._chunk_sse(conv, ids, c, i == len(chunks) - 1, usage) for i, c in enumerate(chunks)]

    def _chunk_sse(
        self, conv: Conversation, ids: ReplyIds, parts: list[dict], last: bool, usage: EmulatedUsage
    ) -> bytes:
        return sse(self._chunk(conv, ids, parts, last, usage))
