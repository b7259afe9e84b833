"""Anthropic Messages (`POST /v1/messages`), non-streaming and streaming."""

from __future__ import annotations

import json
from typing import Any

from ..models.base import Message, ModelResponse, ToolCall
from .conversation import Conversation, EmulatedUsage, args_text, obj, require, text_of
from .http import Request
from .reasoning import Signer, Thinking, calls_digest, check_thinking_block, reject
from .wire import ReplyIds, WireFormat, bearer, pieces, sse

_ERROR_TYPES = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "not_found": "not_found_error",
    "method_not_allowed": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "server_error": "api_error",
    "unavailable": "api_error",
    "overloaded": "overloaded_error",
}


class AnthropicMessages(WireFormat):
    name = "anthropic"

    def authorized(self, req: Request) -> bool:
        key = (req.header("x-api-key") or "").strip()
        return bool(key) or bearer(req) is not None

    def error(self, status: int, kind: str, message: str, param: str | None = None) -> dict:
        return {"type": "error", "error": {"type": _ERROR_TYPES.get(kind, "api_error"), "message": message}}

    def parse(self, body: Any, req: Request, path_model: str | None) -> Conversation:
        body = obj(body, "the request body")
        require(isinstance(body.get("model"), str), "model: Field required")
        mt = body.get("max_tokens")
        require(
            isinstance(mt, int) and not isinstance(mt, bool) and mt > 0, "max_tokens: Field required (> 0)"
        )
        messages: list[Message] = []
        system = body.get("system")
        if system:
            messages.append(Message("system", text_of(system, "system")))
        raw = body.get("messages")
        require(isinstance(raw, list) and raw, "messages: must be a non-empty array")
        names: dict[str, str] = {}
        for i, m in enumerate(raw):
            where = f"messages.{i}"
            m = obj(m, where)
            role, content = m.get("role"), m.get("content")
            require(
                role in ("user", "assistant"), f"{where}.role: must be 'user' or 'assistant', not {role!r}"
            )
            if isinstance(content, str) or content is None:
                messages.append(Message(str(role), content))
                continue
            require(isinstance(content, list), f"{where}.content: must be a string or an array of blocks")
            if role == "assistant":
                texts, calls = [], []
                for j, b in enumerate(content):
                    b = obj(b, f"{where}.content.{j}")
                    if b.get("type") == "text":
                        texts.append(str(b.get("text", "")))
                    elif b.get("type") == "tool_use":
                        require(isinstance(b.get("id"), str), f"{where}.content.{j}.id: Field required")
                        require(isinstance(b.get("name"), str), f"{where}.content.{j}.name: Field required")
                        names[b["id"]] = b["name"]
                        calls.append(ToolCall(b["id"], b["name"], args_text(b.get("input", {}))))
                messages.append(Message("assistant", "".join(texts) or None, calls))
                continue
            texts = []
            for j, b in enumerate(content):
                b = obj(b, f"{where}.content.{j}")
                if b.get("type") == "tool_result":
                    tid = b.get("tool_use_id")
                    require(isinstance(tid, str), f"{where}.content.{j}.tool_use_id: Field required")
                    result = text_of(b.get("content"), f"{where}.content.{j}.content") or ""
                    messages.append(Message("tool", result, tool_call_id=str(tid), name=names.get(str(tid))))
                elif b.get("type") == "text":
                    texts.append(str(b.get("text", "")))
            if texts:
                messages.append(Message("user", "".join(texts)))
        tools = []
        raw_tools = body.get("tools") or []
        require(isinstance(raw_tools, list), "tools: must be an array")
        for i, t in enumerate(raw_tools):
            t = obj(t, f"tools.{i}")
            if "input_schema" not in t:
                continue  # server tools (web_search ...) are accepted and never called
            require(isinstance(t.get("name"), str), f"tools.{i}.name: Field required")
            tools.append(
                {"name": t["name"], "description": t.get("description", ""), "parameters": t["input_schema"]}
            )
        choice = body.get("tool_choice") or {}
        parallel = not (isinstance(choice, dict) and choice.get("disable_parallel_tool_use"))
        return Conversation(
            body["model"], messages, tools, parallel=parallel, stream=bool(body.get("stream"))
        )

    @staticmethod
    def usage(u: EmulatedUsage, output_tokens: int | None = None) -> dict:
        return {
            "input_tokens": u.prompt_tokens - u.cached_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": u.cached_tokens,
            "output_tokens": u.completion_tokens if output_tokens is None else output_tokens,
        }

    @staticmethod
    def _blocks(resp: ModelResponse, think: Thinking | None = None) -> list[dict]:
        blocks: list[dict] = []
        if think is not None:
            blocks.append({"type": "thinking", "thinking": think.text, "signature": think.signature})
            if think.redacted is not None:
                blocks.append({"type": "redacted_thinking", "data": think.redacted})
        if resp.text:
            blocks.append({"type": "text", "text": resp.text})
        for tc in resp.tool_calls:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": _tool_id(tc.id),
                    "name": tc.name,
                    "input": json.loads(args_text(tc.arguments)),
                }
            )
        return blocks

    def check_reasoning(self, body: dict, conv: Conversation, signer: Signer) -> None:
        """Every assistant turn that called tools must start with its thinking block (and carry its
        redacted_thinking block when one was sent), unmodified."""
        turn = 0
        for i, m in enumerate(body.get("messages") or []):
            if not isinstance(m, dict) or m.get("role") != "assistant":
                continue
            turn += 1
            if not isinstance(m.get("content"), list):
                continue
            blocks = [b for b in m["content"] if isinstance(b, dict)]
            uses = [b for b in blocks if b.get("type") == "tool_use"]
            if not uses:
                continue
            if not blocks or blocks[0].get("type") not in ("thinking", "redacted_thinking"):
                found = blocks[0].get("type") if blocks else "nothing"
                raise reject(
                    f"messages.{i}.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
                    f"`{found}`. When `thinking` is enabled, a final `assistant` message must start with a "
                    "thinking block (preceding the lastmost set of `tool_use` and `tool_result` blocks). "
                    "We recommend you include thinking blocks from previous turns."
                )
            digest = calls_digest([(b.get("name"), b.get("input", {})) for b in uses])
            for j, b in enumerate(blocks):
                check_thinking_block(signer, b, digest, f"messages.{i}.content.{j}")
            if turn % 2 == 0 and not any(b.get("type") == "redacted_thinking" for b in blocks):
                raise reject(f"messages.{i}.content: the turn's `redacted_thinking` block is missing")

    def render(
        self,
        conv: Conversation,
        resp: ModelResponse,
        usage: EmulatedUsage,
        ids: ReplyIds,
        think: Thinking | None = None,
    ) -> dict:
        return {
            "id": f"msg_{ids.rid}",
            "type": "message",
            "role": "assistant",
            "model": conv.model,
            "content": self._blocks(resp, think),
            "stop_reason": "tool_use" if resp.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": self.usage(usage),
        }

    def stream(
        self,
        conv: Conversation,
        resp: ModelResponse,
        usage: EmulatedUsage,
        ids: ReplyIds,
        think: Thinking | None = None,
    ) -> list[bytes]:
        start = self.render(conv, resp, usage, ids, think)
        stop = start["stop_reason"]
        start.update(content=[], stop_reason=None, usage=self.usage(usage, output_tokens=1))
        out = [
            sse({"type": "message_start", "message": start}, "message_start"),
            sse({"type": "ping"}, "ping"),
        ]
        for i, b in enumerate(self._blocks(resp, think)):
            if b["type"] == "thinking":
                head: dict[str, Any] = {"type": "thinking", "thinking": ""}
                deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces(b["thinking"], 3)]
                deltas.append({"type": "signature_delta", "signature": b["signature"]})
            elif b["type"] == "redacted_thinking":
                head, deltas = b, []
            elif b["type"] == "text":
                head = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in pieces(b["text"], 4)]
            else:
                head = {**b, "input": {}}
                raw = json.dumps(b["input"])
                deltas = [{"type": "input_json_delta", "partial_json": ""}]
                deltas += [{"type": "input_json_delta", "partial_json": p} for p in pieces(raw, 3)]
            out.append(
                sse({"type": "content_block_start", "index": i, "content_block": head}, "content_block_start")
            )
            for d in deltas:
                out.append(
                    sse({"type": "content_block_delta", "index": i, "delta": d}, "content_block_delta")
                )
            out.append(sse({"type": "content_block_stop", "index": i}, "content_block_stop"))
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": usage.completion_tokens},
        }
        out.append(sse(delta, "message_delta"))
        out.append(sse({"type": "message_stop"}, "message_stop"))
        return out


def _tool_id(cid: str) -> str:
    return cid if cid.startswith("toolu_") else f"toolu_{cid}"
