"""Model strings -> Model objects: `policy/<name>`, `openai/<model>`, `anthropic/<model>`,
`openai-responses/<model>`, `google/<model>`, `replay/<run dir>`, `agent/<name>`."""

from __future__ import annotations

import importlib
from typing import Any

from .base import Message, Model, ModelError, ModelRequest, ModelResponse, ToolCall, Usage

__all__ = [
    "Message",
    "Model",
    "ModelError",
    "ModelRequest",
    "ModelResponse",
    "ToolCall",
    "Usage",
    "make_model",
]

# provider prefix -> (module, factory function); the module is imported only when used.
PROVIDERS: dict[str, tuple[str, str]] = {
    "openai": ("evals.models.openai", "make"),
    "anthropic": ("evals.models.anthropic", "make"),
    "openai-responses": ("evals.models.responses", "make"),
    "google": ("evals.models.google", "make"),
    "replay": ("evals.models.replay", "make"),
    "agent": ("evals.agents.runner", "make"),  # agents (issue 14): an agent program as the candidate
}


def split_model(spec: str) -> tuple[str, str]:
    if "/" not in spec:
        raise ValueError(f"model {spec!r} must look like provider/name (e.g. policy/oracle, openai/gpt-4.1)")
    provider, name = spec.split("/", 1)
    if not name:
        raise ValueError(f"model {spec!r} has no name after the provider")
    return provider, name


def make_model(spec: str, suites: list, seed: int = 0, options: dict[str, Any] | None = None) -> Model:
    provider, name = split_model(spec)
    if provider == "policy" and name == "prompt-sensitive":
        from .prompt_sensitive import PromptSensitiveModel  # demo model for `make gate-demo`

        return PromptSensitiveModel(suites, seed=seed)
    if provider == "policy":
        from .policies import PolicyModel

        return PolicyModel(name, suites, seed=seed)
    if provider not in PROVIDERS:
        raise ValueError(f"unknown provider {provider!r} in {spec!r}; known: policy, {', '.join(PROVIDERS)}")
    mod_name, fn = PROVIDERS[provider]
    try:
        mod = importlib.import_module(mod_name)
    except ModuleNotFoundError as exc:
        if exc.name == mod_name:
            raise ValueError(f"provider {provider!r} is not available in this build") from exc
        raise
    return getattr(mod, fn)(name, options or {}, suites=suites, seed=seed)
