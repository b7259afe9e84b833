"""The one model interface: provider-neutral messages and tool schemas in, text and/or tool calls out.

Reference policies, HTTP providers and replays all implement `Model`, so the runtime cannot
tell them apart.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
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
class Message:
    role: Role
    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None  # tool name, on tool messages


@dataclass
class Usage:
    prompt_tokens: int  # all input tokens, cached included
    completion_tokens: int
    cached_tokens: int = 0
    estimated: bool = False


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
