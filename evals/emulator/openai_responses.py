"""OpenAI Responses API (`POST /v1/responses`), non-streaming and streaming.

Stateless only: the client sends the whole conversation as `input` items (`function_call` items
echoed back, `function_call_output` items with the results). `previous_response_id` would need
server-side storage and is refused with a 400 that says so.
"""

from __future__ import annotations

from typing import Any

from ..models.base import Message, ModelResponse, ToolCall
from .conversation import Conversation, EmulatedUsage, args_text, obj, require, text_of
from .http import Request
from .openai_chat import openai_error, parse_function_tools
from .reasoning import Signer, Thinking, calls_digest, reject
from .wire import ReplyIds, WireFormat, pieces, sse


def parse_input(raw: Any) -> list[Message]:
    if isinstance(raw, str):
        return [Message("user", raw)]
    require(isinstance(raw, list) and raw, "'input' must be a string or a non-empty array of items", "input")
    out: list[Message] = []
    names: dict[str, str] = {}
    for i, item in enumerate(raw):
        where = f"input[{i}]"
        item = obj(item, where)
        typ = item.get("type", "message")
        if typ == "message":
            role = item.get("role")
            require(
                role in ("user", "system", "developer", "assistant"),
                f"{where}.role {role!r} is not supported",
            )
            text = text_of(item.get("content"), where)
            out.append(Message("system" if role == "developer" else str(role), text))
        elif typ == "function_call":
            cid, name = item.get("call_id"), item.get("name")
            require(
                isinstance(cid, str) and isinstance(name, str),
                f"{where}: function_call needs call_id and name",
            )
            names[str(cid)] = str(name)
            call = ToolCall(str(cid), str(name), args_text(item.get("arguments", "{}")))
            # Calls of one response arrive as consecutive items after its (optional) message item.
            if out and out[-1].role == "assistant":
                out[-1].tool_calls.append(call)
            else:
                out.append(Message("assistant", None, [call]))
        elif typ == "function_call_output":
            cid = item.get("call_id")
            require(isinstance(cid, str), f"{where}: function_call_output needs call_id", "input")
            output = text_of(item.get("output"), where) or ""
            out.append(Message("tool", output, tool_call_id=str(cid), name=names.get(str(cid))))
        elif typ == "reasoning":
            continue
        else:
            require(False, f"{where}.type {typ!r} is not supported by the emulator", "input")
    return out


class OpenAIResponses(WireFormat):
    name = "openai-responses"

    def error(self, status: int, kind: str, message: str, param: str | None = None) -> dict:
        return openai_error(kind, message, param)

    def parse(self, body: Any, req: Request, path_model: str | None) -> Conversation:
        body = obj(body, "the request body")
        require(isinstance(body.get("model"), str), "'model' is required", "model")
        require(
            not body.get("previous_response_id"),
            "the emulator is stateless: send the whole conversation in 'input' instead of previous_response_id",
            "previous_response_id",
        )
        messages = parse_input(body.get("input"))
        if isinstance(body.get("instructions"), str):
            messages.insert(0, Message("system", body["instructions"]))
        return Conversation(
            model=body["model"],
            messages=messages,
            tools=parse_function_tools(body.get("tools"), nested=False),
            parallel=body.get("parallel_tool_calls") is not False,
            stream=bool(body.get("stream")),
            extra={"instructions": body.get("instructions"), "tools": body.get("tools") or []},
        )

    @staticmethod
    def usage(u: EmulatedUsage) -> dict:
        return {
            "input_tokens": u.prompt_tokens,
            "input_tokens_details": {"cached_tokens": u.cached_tokens},
            "output_tokens": u.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
            "total_tokens": u.prompt_tokens + u.completion_tokens,
        }

    @staticmethod
    def _items(resp: ModelResponse, ids: ReplyIds, think: Thinking | None = None) -> list[dict]:
        items: list[dict] = []
        if think is not None:
            items.append(
                {
                    "type": "reasoning",
                    "id": f"rs_{ids.rid}",
                    "summary": [{"type": "summary_text", "text": think.text}],
                    "encrypted_content": think.encrypted,
                }
            )
        if resp.text:
            part = {"type": "output_text", "text": resp.text, "annotations": [], "logprobs": []}
            items.append(
                {
                    "type": "message",
                    "id": f"msg_{ids.rid}",
                    "status": "completed",
                    "role": "assistant",
                    "content": [part],
                }
            )
        for i, tc in enumerate(resp.tool_calls):
            items.append(
                {
                    "type": "function_call",
                    "id": f"fc_{ids.rid}_{i}",
                    "call_id": tc.id,
                    "name": tc.name,
                    "arguments": tc.arguments,
                    "status": "completed",
                }
            )
        return items

    def render(
        self,
        conv: Conversation,
        resp: ModelResponse,
        usage: EmulatedUsage,
        ids: ReplyIds,
        think: Thinking | None = None,
    ) -> dict:
        return self._response(conv, ids, "completed", self._items(resp, ids, think), self.usage(usage))

    def check_reasoning(self, body: dict, conv: Conversation, signer: Signer) -> None:
        """Each group of function_call items must follow the reasoning item of its turn, with the
        encrypted content the emulator sent (requested with include=reasoning.encrypted_content)."""
        include = body.get("include") or []
        if body.get("store") is False and "reasoning.encrypted_content" not in include:
            raise reject(
                "reasoning mode: with store=false a reasoning model's state survives only as "
                "encrypted reasoning items; send include=['reasoning.encrypted_content'] and return them",
                "include",
            )
        raw = body.get("input")
        if not isinstance(raw, list):
            return
        i = 0
        while i < len(raw):
            item = raw[i] if isinstance(raw[i], dict) else {}
            if item.get("type") != "function_call":
                i += 1
                continue
            j = i
            calls = []
            while j < len(raw) and isinstance(raw[j], dict) and raw[j].get("type") == "function_call":
                calls.append((raw[j].get("name"), raw[j].get("arguments")))
                j += 1
            prev = i - 1
            while prev >= 0 and isinstance(raw[prev], dict) and raw[prev].get("type") == "message":
                prev -= 1  # the turn's text message may sit between its reasoning and its calls
            reasoning = raw[prev] if prev >= 0 and isinstance(raw[prev], dict) else {}
            if reasoning.get("type") != "reasoning":
                raise reject(
                    f"Item 'input[{i}]' of type 'function_call' was provided without its required "
                    "'reasoning' item (reasoning mode: send every output item back)",
                    "input",
                )
            if reasoning.get("encrypted_content") is None:
                raise reject(
                    f"input[{prev}]: reasoning item without encrypted_content; items are not persisted "
                    "when `store` is false",
                    "input",
                )
            if signer.unseal(reasoning.get("encrypted_content")) != f"responses:{calls_digest(calls)}":
                raise reject(f"input[{prev}]: the encrypted content could not be verified", "input")
            i = j

    @staticmethod
    def _response(conv: Conversation, ids: ReplyIds, status: str, output: list, usage: dict | None) -> dict:
        return {
            "id": f"resp_{ids.rid}",
            "object": "response",
            "created_at": ids.created,
            "status": status,
            "error": None,
            "incomplete_details": None,
            "instructions": conv.extra.get("instructions"),
            "max_output_tokens": None,
            "model": conv.model,
            "output": output,
            "parallel_tool_calls": conv.parallel,
            "previous_response_id": None,
            "reasoning": {"effort": None, "summary": None},
            "store": False,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}},
            "tool_choice": "auto",
            "tools": conv.extra.get("tools", []),
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": usage,
            "metadata": {},
        }

    def stream(
        self,
        conv: Conversation,
        resp: ModelResponse,
        usage: EmulatedUsage,
        ids: ReplyIds,
        think: Thinking | None = None,
    ) -> list[bytes]:
        out: list[bytes] = []

        def emit(typ: str, **fields: Any) -> None:
            out.append(sse({"type": typ, "sequence_number": len(out), **fields}, typ))

        emit("response.created", response=self._response(conv, ids, "in_progress", [], None))
        emit("response.in_progress", response=self._response(conv, ids, "in_progress", [], None))
        items = self._items(resp, ids, think)
        for idx, item in enumerate(items):
            if item["type"] == "reasoning":
                emit("response.output_item.added", output_index=idx, item=dict(item, summary=[]))
                loc = {"item_id": item["id"], "output_index": idx, "summary_index": 0}
                for p in pieces(item["summary"][0]["text"], 3):
                    emit("response.reasoning_summary_text.delta", **loc, delta=p)
                emit("response.reasoning_summary_text.done", **loc, text=item["summary"][0]["text"])
            elif item["type"] == "message":
                text = item["content"][0]["text"]
                emit(
                    "response.output_item.added",
                    output_index=idx,
                    item=dict(item, status="in_progress", content=[]),
                )
                empty = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
                loc = {"item_id": item["id"], "output_index": idx, "content_index": 0}
                emit("response.content_part.added", **loc, part=empty)
                for p in pieces(text, 4):
                    emit("response.output_text.delta", **loc, delta=p, logprobs=[])
                emit("response.output_text.done", **loc, text=text, logprobs=[])
                emit("response.content_part.done", **loc, part=item["content"][0])
            else:
                emit(
                    "response.output_item.added",
                    output_index=idx,
                    item=dict(item, arguments="", status="in_progress"),
                )
                for p in pieces(item["arguments"], 3):
                    emit(
                        "response.function_call_arguments.delta",
                        item_id=item["id"],
                        output_index=idx,
                        delta=p,
                    )
                emit(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=idx,
                    name=item["name"],
                    arguments=item["arguments"],
                )
            emit("response.output_item.done", output_index=idx, item=item)
        emit("response.completed", response=self._response(conv, ids, "completed", items, self.usage(usage)))
        return out
