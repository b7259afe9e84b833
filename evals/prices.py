"""Prices per million tokens, shipped as data and overridable; unknown price means unknown cost."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0, description="USD per million uncached input tokens")
    cached_input: float | None = Field(None, ge=0, description="USD per million cached input tokens")
    output: float = Field(ge=0, description="USD per million output tokens")


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    read_on: str = Field(description="date the prices were read from the providers' pages")
    source: dict[str, str] = Field(default_factory=dict)
    models: dict[str, Price]

    def lookup(self, model: str) -> Price | None:
        """Exact `provider/model` first, then the longest listed prefix (dated snapshots)."""
        if model in self.models:
            return self.models[model]
        best = None
        for k in self.models:
            if model.startswith(k) and (best is None or len(k) > len(best)):
                best = k
        return self.models[best] if best else None


def load_prices(override: str | Path | None = None) -> PriceTable:
    base = json.loads((resources.files("evals") / "data" / "prices.json").read_text())
    table = PriceTable.model_validate(base)
    if override:
        user = json.loads(Path(override).read_text())
        extra = (
            PriceTable.model_validate({"version": "user", "read_on": "user", **user})
            if "models" in user
            else PriceTable.model_validate({"version": "user", "read_on": "user", "models": user})
        )
        table = PriceTable(
            version=f"{table.version}+user",
            read_on=table.read_on,
            source=table.source,
            models={**table.models, **extra.models},
        )
    return table


def cost_usd(price: Price | None, prompt: int, cached: int, completion: int) -> float | None:
    if price is None:
        return None
    cached_rate = price.cached_input if price.cached_input is not None else price.input
    return ((prompt - cached) * price.input + cached * cached_rate + completion * price.output) / 1e6
