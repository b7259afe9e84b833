"""What a model accepts, from the capability table shipped beside the prices (evals/data/models.json).

Reasoning models refuse some requests that older models take: gpt-5 and o-series answer
`temperature` with "Only the default (1) value is supported", Claude Opus 4.7+ with "temperature is
deprecated for this model", a Claude thinking budget must be at least 1024 tokens and below
`max_tokens`. Checking the run's settings against the table when the model is built turns each of
those 400s, which would otherwise fail every episode of a run one by one, into one clear line
before any request. A model the table does not list gets no checks.
"""

from __future__ import annotations

import fnmatch
import json
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import UsageError

ALIASES = {"openai-responses/": "openai/"}


class UnsupportedSetting(UsageError, ValueError):
    """A flag the model is known to reject; raised before any request (exit 2, no run folder)."""


class Capability(BaseModel):
    model_config = ConfigDict(extra="forbid")
    match: list[str]
    reasoning: Literal["none", "optional", "default"] = "none"
    control: Literal["effort", "budget", "adaptive", "level"] | None = None
    efforts: list[str] = Field(default_factory=list)
    min_budget: int | None = None
    max_budget: int | None = None
    rejects: list[str] = Field(default_factory=list)
    signatures: bool = False  # Gemini 3: thought signatures must come back during function calling
    context_window: int | None = None
    max_output_tokens: int | None = None
    source: str | None = None


class CapabilityTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    read_on: str
    notes: str | None = None
    source: dict[str, str] = Field(default_factory=dict)
    families: list[Capability]

    def lookup(self, model: str) -> Capability | None:
        for a, b in ALIASES.items():
            if model.startswith(a):
                model = b + model[len(a) :]
        for fam in self.families:
            if any(fnmatch.fnmatchcase(model, pat) for pat in fam.match):
                return fam
        return None


@lru_cache(maxsize=1)
def load_capabilities() -> CapabilityTable:
    data = json.loads((resources.files("evals") / "data" / "models.json").read_text(encoding="utf-8"))
    return CapabilityTable.model_validate(data)


def capability(model: str) -> Capability | None:
    return load_capabilities().lookup(model)


def check_settings(model: str, settings: dict[str, Any], params: dict[str, Any]) -> None:
    """Refuse, with one line naming the flag, what the table says `model` answers with a 400."""
    cap = capability(model)
    if cap is None:
        return
    provider = model.split("/", 1)[0]

    def refuse(msg: str) -> None:
        raise UnsupportedSetting(f"{model}: {msg}")

    for key in ("temperature", "top_p", "top_k"):
        given = settings.get(key) is not None or key in params
        if given and key in cap.rejects:
            flag = "--temperature" if key == "temperature" and settings.get(key) is not None else f"-M {key}"
            refuse(f"the model rejects {key} (only its default is supported); drop {flag}")
    effort = settings.get("reasoning_effort")
    budget = settings.get("thinking_budget")
    max_tokens = settings.get("max_tokens")
    if effort is not None:
        if cap.reasoning == "none":
            refuse("the model does not reason; drop --reasoning-effort")
        if cap.control == "budget":
            refuse("the model takes a thinking budget, not an effort; use --thinking-budget instead")
        if cap.efforts and effort not in cap.efforts:
            refuse(f"--reasoning-effort {effort} is not accepted; use one of {', '.join(cap.efforts)}")
    if budget is not None:
        if cap.reasoning == "none":
            refuse("the model does not think; drop --thinking-budget")
        if cap.control == "effort":
            refuse("the model takes a reasoning effort, not a budget; use --reasoning-effort instead")
        if cap.control == "adaptive":
            refuse("the model only thinks adaptively (no budget); use --reasoning-effort instead")
        if not (provider == "google" and budget == -1):  # -1: Gemini decides
            if cap.min_budget is not None and budget < cap.min_budget:
                refuse(f"--thinking-budget {budget} is below the model's minimum of {cap.min_budget}")
            if cap.max_budget is not None and budget > cap.max_budget:
                refuse(f"--thinking-budget {budget} is above the model's maximum of {cap.max_budget}")
    if max_tokens is not None and cap.max_output_tokens is not None and max_tokens > cap.max_output_tokens:
        refuse(f"--max-tokens {max_tokens} is above the model's output limit of {cap.max_output_tokens}")
    if provider == "anthropic" and budget is not None and budget > 0:
        if settings.get("temperature") is not None:
            refuse("temperature cannot be set while thinking is on; drop --temperature or --thinking-budget")
        if max_tokens is not None and max_tokens <= budget:
            refuse(
                f"--max-tokens {max_tokens} must exceed --thinking-budget {budget} (thinking counts in it)"
            )
