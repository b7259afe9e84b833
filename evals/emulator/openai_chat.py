"""OpenAI Chat Completions (`POST /v1/chat/completions`), non-streaming and streaming."""

from __future__ import annotations

from typing import Any

from ..models.base import Message, ModelResponse, ToolCall
from .conversation import Conversation, EmulatedUsage, args_text, obj, require, text_of
from .http import Request
from .reasoning import Thinking
from .wire import ReplyIds, WireFormat, pieces, sse

_ERROR_TYPES = {
    "invalid_request": ("invalid_request_error", None),
    "authentication": ("invalid_request_error", "invalid_api_key"),
    "not_found": ("invalid_request_error", "not_found"),
    "method_not_allowed": ("invalid_request_error", "method_not_allowed"),
    "rate_limit": ("requests", "rate_limit_exceeded"),
    "server_error": ("server_error", None),
    "unavailable": ("server_error", "service_unavailable"),
    "overloaded": ("server_error", "overloaded"),
}


def openai_error(kind: str, message: str, param: str | None = None) -> dict:
    typ, code = _ERROR_TYPES.get(kind, ("server_error", None))
    return {"error": {"message": message, "type": typ, "param": param, "code": code}}


def parse_chat_messages(raw: Any) -> list[Message]:
    require(isinstance(raw, list) and raw, "'messages' must be a non-empty array", "messages")
    out: list[Message] = []
    names: dict[str, str] = {}
    for i, m in enumerate(raw):
        where = f"messages[{i}]"
        m = obj(m, where)
        role = m.get("role")
        if role in ("system", "developer"):
            out.append(Message("system", text_of(m.get("content"), where)))
        elif role == "user":
            out.append(Message("user", text_of(m.get("content"), where)))
        elif role == "assistant":
            calls = []
            raw_calls = m.get("tool_calls") or []
            require(isinstance(raw_calls, list), f"{where}.tool_calls must be an array", where)
            for j, tc in enumerate(raw_calls):
                tc = obj(tc, f"{where}.tool_calls[{j}]")
                fn = obj(tc.get("function"), f"{where}.tool_calls[{j}].function")
                require(isinstance(fn.get("name"), str), f"{where}.tool_calls[{j}].function.name is missing")
                cid = str(tc.get("id") or f"call_{i}_{j}")
                names[cid] = fn["name"]
                calls.append(ToolCall(cid, fn["name"], args_text(fn.get("arguments", "{}"))))
            out.append(Message("assistant", text_of(m.get("content"), where), calls))
        elif role == "tool":
            tid = m.get("tool_call_id")
            require(isinstance(tid, str), f"{where}: a tool message needs 'tool_call_id'", where)
            tid = str(tid)
            out.append(
                Message("tool", text_of(m.get("content"), where) or "", tool_call_id=tid, name=names.get(tid))
            )
        else:
            require(
                False, f"{where}.role must be system, developer, user, assistant or tool, not {role!r}", where
            )
    return out


def parse_function_tools(raw: Any, nested: bool) -> list[dict]:
    """Tools as {name, description, parameters}. Chat nests them under `function`, Responses does not."""
    if raw is None:
        return []
    require(isinstance(raw, list), "'tools' must be an array", "tools")
    out = []
    for i, t in enumerate(raw):
        t = obj(t, f"tools[{i}]")
        if t.get("type", "function") != "function":
            continue  # built-in tools (web search ...) are accepted and never called
        fn = obj(t.get("function"), f"tools[{i}].function") if nested else t
        require(isinstance(fn.get("name"), str), f"tools[{i}]: function name is missing", "tools")
        spec = {"name": fn["name"], "description": fn.get("description", "")}
        spec["parameters"] = fn.get("parameters") or {"type": "object", "properties": {}}
        out.append(spec)
    return out


class OpenAIChat(WireFormat):
    name = "openai-chat"

    def parse(self, body: Any, req: Request, path_model: str | None) -> Conversation:
        body = obj(body, "the request body")
        require(isinstance(body.get("model"), str), "'model' is required", "model")
        opts = body.get("stream_options") or {}
        return Conversation(
            model=body["model"],
            messages=parse_chat_messages(body.get("messages")),
            tools=parse_function_tools(body.get("tools"), nested=True),
            parallel=body.get("parallel_tool_calls") is not False,
            stream=bool(body.get("stream")),
            include_usage=bool(isinstance(opts, dict) and opts.get("include_usage")),
        )

    def error(self, status: int, kind: str, message: str, param: str | None = None) -> dict:
        return openai_error(kind, message, param)

    @staticmethod
    def usage(u: EmulatedUsage) -> dict:
        return {
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
            "total_tokens": u.prompt_tokens + u.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": u.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens, "audio_tokens": 0},
        }

    def render(
        self,
        conv: Conversation,
        resp: ModelResponse,
        usage: EmulatedUsage,
        ids: ReplyIds,
        think: Thinking | None = None,
    ) -> dict:
        msg: dict[str, Any] = {"role": "assistant", "content": resp.text, "refusal": None}
        if resp.tool_calls:
            msg["tool_calls"] = [
                {"id": tc.id, "type": "function", "function": {"name": tc.name, "arguments": tc.arguments}}
                for tc in resp.tool_calls
            ]
        return {
            "id": f"chatcmpl-{ids.rid}",
            "object": "chat.completion",
            "created": ids.created,
            "model": conv.model,
            "choices": [{"index": 0, "message": msg, "logprobs": None, "finish_reason": _finish(resp)}],
            "usage": self.usage(usage),
            "system_fingerprint": "fp_fanout",
        }

    def stream(
        self,
        conv: Conversation,
        resp: ModelResponse,
        usage: EmulatedUsage,
        ids: ReplyIds,
        think: Thinking | None = None,
    ) -> list[bytes]:
        base = {
            "id": f"chatcmpl-{ids.rid}",
            "object": "chat.completion.chunk",
            "created": ids.created,
            "model": conv.model,
            "system_fingerprint": "fp_fanout",
        }

        def chunk(delta: dict, finish: str | None = None) -> bytes:
            c = dict(base, choices=[{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}])
            if conv.include_usage:
                c["usage"] = None
            return sse(c)

        out = [chunk({"role": "assistant", "content": "" if resp.text else None, "refusal": None})]
        out += [chunk({"content": p}) for p in pieces(resp.text or "", 4)]
        for i, tc in enumerate(resp.tool_calls):
            head = {
                "index": i,
                "id": tc.id,
                "type": "function",
                "function": {"name": tc.name, "arguments": ""},
            }
            out.append(chunk({"tool_calls": [head]}))
            for p in pieces(args_text(tc.arguments), 3):
                out.append(chunk({"tool_calls": [{"index": i, "function": {"arguments": p}}]}))
        out.append(chunk({}, _finish(resp)))
        if conv.include_usage:
            out.append(sse(dict(base, choices=[], usage=self.usage(usage))))
        out.append(sse("[DONE]"))
        return out


def _finish(resp: ModelResponse) -> str:
    return "tool_calls" if resp.tool_calls else "stop"
