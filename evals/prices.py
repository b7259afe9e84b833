"""Prices per million tokens, shipped as data (evals/data/prices.json) and overridable by a user file.

Each shipped price names its source and the date it was read (`fanout prices` flags old ones).
Input tokens bill at three rates: uncached, read from the provider's cache (`cached_input`) and
written to it (`cache_write`: Anthropic charges 1.25x the input rate for 5-minute writes). An unlisted model
has an unknown cost (None, shown as such, never 0). Lookup is exact first, then a listed name
followed by a dated snapshot suffix (`claude-sonnet-4-5-20250929`, `gpt-4.1-2025-04-14`); a plain
longer name such as `gpt-4.1-nano` does not inherit `gpt-4.1`'s price. The Responses API bills the
same models as Chat Completions, so `openai-responses/<m>` falls back to `openai/<m>`.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import UsageError

SNAPSHOT = re.compile(r"^(-\d{4}-\d{2}-\d{2}|-\d{8}|-latest|@.+)$")
ALIASES = {"openai-responses/": "openai/"}


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0, description="USD per million uncached input tokens")
    cached_input: float | None = Field(None, ge=0, description="USD per million cached input tokens")
    cache_write: float | None = Field(
        None, ge=0, description="USD per million input tokens written to the cache; None = the input rate"
    )
    output: float = Field(ge=0, description="USD per million output tokens")
    source: str | None = Field(None, description="where the price was read (a key of PriceTable.source)")
    read_on: str | None = Field(None, description="date the price was read (YYYY-MM-DD)")


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str
    read_on: str = Field(description="date the prices were read from the providers' pages")
    notes: str | None = None
    source: dict[str, str] = Field(default_factory=dict)
    models: dict[str, Price]

    def lookup(self, model: str) -> Price | None:
        found = self.resolve(model)
        return None if found is None else self.models[found]

    def resolve(self, model: str) -> str | None:
        """The table entry a model string is billed as (aliases and dated snapshots resolved)."""
        for name in (model, *(model.replace(a, b, 1) for a, b in ALIASES.items() if model.startswith(a))):
            if name in self.models:
                return name
            best = None
            for k in self.models:
                if (
                    name.startswith(k)
                    and SNAPSHOT.match(name[len(k) :])
                    and (best is None or len(k) > len(best))
                ):
                    best = k
            if best:
                return best
        return None


def _table(data: dict, origin: str, error: type[Exception] = ValueError) -> PriceTable:
    try:
        return PriceTable.model_validate(data)
    except ValidationError as exc:
        bad = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise error(f"price table {origin} is invalid: {bad}") from None


def load_prices(override: str | Path | None = None) -> PriceTable:
    """The shipped table, with a user file's entries added or replacing shipped ones. The user file
    is either a full table ({"models": {...}, ...}) or just {"provider/model": {input, output, ...}};
    a user file that cannot be read or is not a price table is a UsageError (exit 2, one line)."""
    base = json.loads((resources.files("evals") / "data" / "prices.json").read_text())
    table = _table(base, "evals/data/prices.json")
    if not override:
        return table
    try:
        raw = Path(override).read_text(encoding="utf-8")
        user = json.loads(raw)
    except OSError as exc:
        raise UsageError(f"cannot read the price file {override}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"price file {override} is not JSON: {exc}") from None
    if not isinstance(user, dict):
        raise UsageError(f"price file {override} must hold a JSON object")
    doc = user if "models" in user else {"models": user}
    extra = _table({"version": "user", "read_on": "user", **doc}, str(override), UsageError)
    return PriceTable(
        # the user file's content in the version: a run and its resume price alike, or are refused
        version=f"{table.version}+user:{hashlib.sha256(raw.encode()).hexdigest()[:8]}",
        read_on=table.read_on,
        notes=table.notes,
        source={**table.source, **extra.source},
        models={**table.models, **extra.models},
    )


def cost_usd(
    price: Price | None, prompt: int, cached: int, completion: int, cache_write: int = 0
) -> float | None:
    """Prompt counts include cached reads and cache writes; each bills at its own rate when the
    table knows it, else at the input rate."""
    if price is None:
        return None
    cached_rate = price.cached_input if price.cached_input is not None else price.input
    write_rate = price.cache_write if price.cache_write is not None else price.input
    uncached = prompt - cached - cache_write
    return (
        uncached * price.input + cached * cached_rate + cache_write * write_rate + completion * price.output
    ) / 1e6
