"""The provider-neutral view of one wire request, and the usage the emulator reports for it.

Usage is estimated exactly as `evals.runtime` estimates it for in-process reference policies
(`evals.tokens`): prompt = tools + every message (+ MESSAGE_OVERHEAD each, an assistant message
counting as the completion estimate of its turn), cached = the previous turn's prompt plus its
completion (the shared prefix a provider cache would hit), completion = text + each call's name and
arguments. So a policy served over HTTP reports the same token counts as the same policy in-process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..models.base import Message, ModelResponse, ToolCall
from ..tokens import MESSAGE_OVERHEAD, estimate_json, estimate_text, estimate_tools


class WireError(Exception):
    """A request the emulator refuses; rendered in the provider's error shape."""

    def __init__(self, status: int, kind: str, message: str, param: str | None = None):
        super().__init__(message)
        self.status, self.kind, self.message, self.param = status, kind, message, param


@dataclass
class Conversation:
    model: str
    messages: list[Message]
    tools: list[dict]  # {name, description, parameters}, as Task.tool_specs
    parallel: bool = True
    stream: bool = False
    include_usage: bool = False  # OpenAI chat stream_options.include_usage
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class EmulatedUsage:
    prompt_tokens: int  # cached included
    completion_tokens: int  # reasoning included
    cached_tokens: int
    reasoning_tokens: int = 0  # reasoning mode only


def completion_estimate(text: str | None, calls: list[ToolCall]) -> int:
    n = estimate_text(text) + sum(
        estimate_text(tc.name) + estimate_json(tc.arguments) + MESSAGE_OVERHEAD for tc in calls
    )
    return max(1, n)


def _message_tokens(m: Message) -> int:
    if m.role == "assistant":
        return completion_estimate(m.content, m.tool_calls) + MESSAGE_OVERHEAD
    return estimate_text(m.content) + MESSAGE_OVERHEAD


def estimate_usage(conv: Conversation, resp: ModelResponse) -> EmulatedUsage:
    tools = estimate_tools(conv.tools)
    sizes = [_message_tokens(m) for m in conv.messages]
    prompt = tools + sum(sizes)
    cached = 0
    last = max((i for i, m in enumerate(conv.messages) if m.role == "assistant"), default=None)
    if last is not None:
        prev_prompt = tools + sum(sizes[:last])
        prev_completion = sizes[last] - MESSAGE_OVERHEAD
        cached = min(prev_prompt + prev_completion, prompt)
    return EmulatedUsage(prompt, completion_estimate(resp.text, resp.tool_calls), cached)


def text_of(content: Any, what: str) -> str | None:
    """Message content given as a string or as a list of text parts (all providers allow both)."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for p in content:
            if isinstance(p, str):
                texts.append(p)
            elif isinstance(p, dict) and isinstance(p.get("text"), str):
                texts.append(p["text"])
            elif isinstance(p, dict) and p.get("type") in ("tool_result", "tool_use", "image", "image_url"):
                continue
            else:
                raise WireError(400, "invalid_request", f"{what}: unsupported content part {str(p)[:80]}")
        return "".join(texts)
    raise WireError(400, "invalid_request", f"{what}: content must be a string or a list of parts")


def args_text(args: Any) -> str:
    """Arguments as the JSON text a policy emits (json.dumps default separators), from an object."""
    if isinstance(args, str):
        return args
    return json.dumps(args)


def require(cond: object, message: str, param: str | None = None) -> None:
    if not cond:
        raise WireError(400, "invalid_request", message, param)


def obj(body: Any, what: str) -> dict:
    require(isinstance(body, dict), f"{what} must be a JSON object")
    return body
