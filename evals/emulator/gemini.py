"""Gemini `generateContent` (`POST /v1beta/models/{model}:generateContent`) and
`:streamGenerateContent?alt=sse`.

Gemini calls need not carry ids: a `functionResponse` is matched to its `functionCall` by `id`
when the client echoes one, else by position among the previous model turn's calls.
"""

from __future__ import annotations

import json
from typing import Any

from ..models.base import Message, ModelResponse, ToolCall
from .conversation import Conversation, EmulatedUsage, WireError, args_text, obj, require
from .http import Request
from .reasoning import Signer, Thinking, calls_digest, reject
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
                texts: list[str] = []
                calls: list[ToolCall] = []
                for j, p in enumerate(parts or []):
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
            for j, p in enumerate(parts or []):
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
        gen = _get(body, "generationConfig") or {}
        thinking = _get(gen, "thinkingConfig") if isinstance(gen, dict) else None
        thoughts = bool(isinstance(thinking, dict) and _get(thinking, "includeThoughts"))
        return Conversation(
            path_model or "", messages, tools, parallel=True, stream=stream, extra={"thoughts": thoughts}
        )

    @staticmethod
    def usage(u: EmulatedUsage) -> dict:
        return {
            "promptTokenCount": u.prompt_tokens,
            "candidatesTokenCount": u.completion_tokens - u.reasoning_tokens,
            "totalTokenCount": u.prompt_tokens + u.completion_tokens,
            "cachedContentTokenCount": u.cached_tokens,
            **({"thoughtsTokenCount": u.reasoning_tokens} if u.reasoning_tokens else {}),
        }

    @staticmethod
    def _parts(resp: ModelResponse, think: Thinking | None = None, thoughts: bool = False) -> list[dict]:
        """Gemini 3 puts the step's signature on its first functionCall part (on the last part
        when there is no call); thought summaries come first when includeThoughts is set."""
        parts: list[dict] = []
        if think is not None and thoughts:
            parts.append({"text": think.text, "thought": True})
        if resp.text:
            parts.append({"text": resp.text})
        for tc in resp.tool_calls:
            parts.append(
                {"functionCall": {"id": tc.id, "name": tc.name, "args": json.loads(args_text(tc.arguments))}}
            )
        if think is not None:
            first = next((p for p in parts if "functionCall" in p), None)
            if first is None:  # no call: the signature rides on a last, empty part
                parts.append(first := {"text": ""})
            first["thoughtSignature"] = think.gemini_signature
        return parts

    def check_reasoning(self, body: dict, conv: Conversation, signer: Signer) -> None:
        """Every model turn that called functions must carry its thoughtSignature on its first
        functionCall part, unmodified."""
        for i, c in enumerate(body.get("contents") or []):
            if not isinstance(c, dict) or c.get("role") != "model" or not isinstance(c.get("parts"), list):
                continue
            parts = [p for p in c["parts"] if isinstance(p, dict)]
            fcs = [(j, p) for j, p in enumerate(parts) if isinstance(_get(p, "functionCall"), dict)]
            if not fcs:
                continue
            j, first = fcs[0]
            fc = _get(first, "functionCall")
            sig = _get(first, "thoughtSignature")
            if sig is None:
                raise reject(
                    "Function call is missing a thought_signature in functionCall parts. This is required "
                    "for tools to work correctly, and missing thought_signature may lead to degraded model "
                    f"performance. Additional data, function call `{fc.get('name')}` , position {i + 1}."
                )
            digest = calls_digest(
                [
                    (_get(p, "functionCall").get("name"), _get(p, "functionCall").get("args") or {})
                    for _, p in fcs
                ]
            )
            if not signer.verify(f"gemini:{digest}", sig):
                raise reject(f"contents[{i}].parts[{j}]: Corrupted thought signature.")

    def _chunk(
        self, conv: Conversation, ids: ReplyIds, parts: list[dict], last: bool, usage: EmulatedUsage
    ) -> dict:
        cand: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if last:
            cand["finishReason"] = "STOP"
        out: dict[str, Any] = {"candidates": [cand], "modelVersion": conv.model, "responseId": ids.rid}
        if last:
            out["usageMetadata"] = self.usage(usage)
        return out

    def render(
        self,
        conv: Conversation,
        resp: ModelResponse,
        usage: EmulatedUsage,
        ids: ReplyIds,
        think: Thinking | None = None,
    ) -> dict:
        return self._chunk(
            conv, ids, self._parts(resp, think, conv.extra.get("thoughts", False)), True, usage
        )

    def stream(
        self,
        conv: Conversation,
        resp: ModelResponse,
        usage: EmulatedUsage,
        ids: ReplyIds,
        think: Thinking | None = None,
    ) -> list[bytes]:
        # Gemini streams text in pieces but sends each functionCall whole (signature attached).
        parts = self._parts(resp, think, conv.extra.get("thoughts", False))
        chunks = [[p] for p in parts if p.get("thought")]
        chunks += [[{"text": p}] for p in pieces(resp.text or "", 4)]
        chunks += [[p] for p in parts if "functionCall" in p]
        chunks += [[p] for p in parts if "thoughtSignature" in p and "functionCall" not in p]
        if not chunks:
            chunks = [[]]
        return [self._chunk_sse(conv, ids, c, i == len(chunks) - 1, usage) for i, c in enumerate(chunks)]

    def _chunk_sse(
        self, conv: Conversation, ids: ReplyIds, parts: list[dict], last: bool, usage: EmulatedUsage
    ) -> bytes:
        return sse(self._chunk(conv, ids, parts, last, usage))
