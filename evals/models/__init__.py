"""Model strings -> Model objects: `policy/<name>`, `openai/<model>`, `anthropic/<model>`,
`openai-responses/<model>`, `google/<model>`, `replay/<run dir>`, `agent/<name>`; each kind is
registered with `@modelapi` (see `registry.py` and `providers.py`)."""

from __future__ import annotations

from .base import Message, Model, ModelError, ModelRequest, ModelResponse, ProviderParts, ToolCall, Usage
from .registry import ModelContext, kinds, make_model, model_strings, modelapi, split_model

__all__ = [
    "Message",
    "Model",
    "ModelContext",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "ProviderParts",
    "ToolCall",
    "Usage",
    "kinds",
    "make_model",
    "model_strings",
    "modelapi",
    "split_model",
]
