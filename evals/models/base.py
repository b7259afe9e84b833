"""The one model interface: provider-neutral messages and tool schemas in, text and/or tool calls out.

Reference policies, HTTP providers and replays all implement `Model`, so the runtime cannot
tell them apart.

Reasoning models add one thing the neutral shape cannot express: state the provider hands out
with a response and requires back, unchanged, on the next request (Gemini thought signatures,
Claude `thinking`/`redacted_thinking` blocks, Responses `reasoning` items with encrypted
content). It travels as `ProviderParts`: the assistant turn exactly as the provider rendered it,
carried from the response into the assistant `Message` and sent back verbatim by the adapter
that produced it. Nothing else reads it.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import FanoutError

Role = Literal["system", "user", "assistant", "tool"]  # who said a message of the conversation


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str | dict | Any  # JSON text as sent; some servers send an object instead


@dataclass
class ProviderParts:
    """An assistant turn in the provider's own shape, kept because it holds opaque reasoning state.

    `format` names the wire format that produced it ("anthropic", "gemini", "responses"); an
    adapter only ever sends back parts of its own format. `items` are the content blocks, parts or
    output items exactly as received (streamed ones reassembled), in order.
    """

    format: str
    items: list[dict]

    def to_json(self) -> dict:
        return {"format": self.format, "items": self.items}

    @classmethod
    def from_json(cls, data: Any) -> ProviderParts | None:
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            return None
        return cls(str(data.get("format") or ""), list(data["items"]))


@dataclass
class Message:
    role: Role
    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None  # tool name, on tool messages
    provider_parts: ProviderParts | None = None  # assistant turns of reasoning models
    # What a policy reads of this message, as a hashable key, once per message: a conversation's
    # key (`policies._conversation_key`) is rebuilt at every turn from the same message objects.
    policy_key: tuple | None = field(default=None, init=False, repr=False, compare=False)


MAX_TOKEN_COUNT = 100_000_000  # no model reads or writes this many tokens in one response
_DIGITS = re.compile(r"\s*\d{1,12}\s*", re.ASCII)


def token_counts(*values: Any) -> list[int] | None:
    """A response's usage counts as ints, or None when any is no count: negative, fractional,
    not a number, or past any context window. A server's garbage usage is treated as no usage
    (tokens then estimated and flagged), not as an error that loses the model's answer, nor as a
    negative or astronomical cost. A missing optional count is passed in as 0."""
    out: list[int] = []
    for v in values:
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        elif isinstance(v, str) and _DIGITS.fullmatch(v):
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= MAX_TOKEN_COUNT:
            return None
        out.append(v)
    return out


@dataclass
class Usage:
    prompt_tokens: int  # all input tokens, cached included
    completion_tokens: int  # all output tokens, reasoning included (they are billed as output)
    cached_tokens: int = 0  # input tokens read from the provider's cache
    estimated: bool = False
    reasoning_tokens: int | None = None  # the part of completion spent thinking; None = not reported
    cache_write_tokens: int = 0  # input tokens written to the provider's cache (Anthropic bills 1.25x)


@dataclass
class ModelRequest:
    messages: list[Message]
    tools: list[dict]  # {name, description, parameters}
    settings: dict[str, Any] = field(
        default_factory=dict
    )  # temperature, parallel_tool_calls, tool_choice ...
    epoch: int = 0


@dataclass
class ModelResponse:
    text: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    latency_s: float | None = None  # measured request latency; None = use the inference profile
    cached: bool = False
    finish_reason: str | None = None
    ttft_s: float | None = None
    first_call_s: float | None = None
    provider_parts: ProviderParts | None = None  # to send back on the next turn (reasoning models)


class ModelError(FanoutError, RuntimeError):
    """A provider failure that survived the retries; recorded on the episode, never dropped."""


class Model(ABC):
    name: str = "model"
    remote: bool = False

    @abstractmethod
    async def generate(self, request: ModelRequest) -> ModelResponse: ...

    async def aclose(self) -> None:
        return None

    def describe(self) -> dict:
        """What run.json records about the model (never credentials)."""
        return {"name": self.name}

    def priced_as(self) -> str:
        """The model string whose price applies (a replay is priced as the model it replays)."""
        return self.name

    def unservable(self, pairs: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        """The (task id, epoch) pairs this model is known, before the run, to have no response
        for at all (a replay's unrecorded episodes): asking would only fail every one of them."""
        return []
