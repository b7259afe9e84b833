"""The agent-runtimes table: how concurrently each agent framework ran the calls a model asked for
together (`examples/agents/measure.py` writes the data, e.g. reports/agent_runtimes.json).

It is a separate table, not leaderboard rows: every agent runs the same oracle model, so what it
ranks is the runtime, and its figures (measured on the real clock, process start-up included) do
not compare with the models' virtual-clock ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import UsageError, describe_validation


class AgentPattern(BaseModel):
    model_config = ConfigDict(extra="allow")
    episodes: int = 0
    runtime_concurrency: float | None = None
    runtime_concurrency_ideal: float | None = None


class AgentRow(BaseModel):
    model_config = ConfigDict(extra="allow")
    agent: str
    description: str = ""
    model: str = ""
    versions: dict[str, str] = Field(default_factory=dict)
    episodes: int = 0
    success_rate: float | None = None
    runtime_concurrency: float | None = None
    runtime_concurrency_ideal: float | None = None
    runtime_lost_s_mean: float | None = None
    runtime_dispatch_s_mean: float | None = None
    wall_s_mean: float | None = None
    process_s_mean: float | None = None
    startup_s_mean: float | None = None
    by_pattern: dict[str, AgentPattern] = Field(default_factory=dict)


class AgentRuntimes(BaseModel):
    model_config = ConfigDict(extra="allow")
    table: str = "agent runtimes"
    suite: str = ""
    tasks: list[str] = Field(default_factory=list)
    clock: str = "real"
    measured: str = ""
    note: str = ""
    rows: list[AgentRow]

    @property
    def patterns(self) -> list[str]:
        return sorted({p for r in self.rows for p in r.by_pattern})


def load_agent_runtimes(path: str | Path) -> AgentRuntimes:
    from .load import read_input_json

    p = Path(path)
    doc = read_input_json(p, "agent-runtimes")
    try:
        return AgentRuntimes.model_validate(doc)
    except ValidationError as exc:
        why = describe_validation(exc.errors())
        raise UsageError(f"{p}: not an agent-runtimes table: {why}") from None


def _f(v: float | None, digits: int = 2) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def _pair(a: float | None, b: float | None) -> str:
    return f"{_f(a)} / {_f(b)}"


def table(data: AgentRuntimes) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the table, as text (the page and the Markdown show the same)."""
    header = ["Agent", "Success", "Runtime concurrency / ideal"]
    header += [f"`{p}`" for p in data.patterns]
    header += ["Lost s/episode", "Dispatch s/batch", "Wall s", "Process s", "Start-up s", "Versions"]
    rows = []
    for r in data.rows:
        line = [r.agent, _f(r.success_rate), _pair(r.runtime_concurrency, r.runtime_concurrency_ideal)]
        for p in data.patterns:
            bp = r.by_pattern.get(p)
            line.append(_pair(bp.runtime_concurrency, bp.runtime_concurrency_ideal) if bp else "")
        line += [
            _f(r.runtime_lost_s_mean),
            _f(r.runtime_dispatch_s_mean, 3),
            _f(r.wall_s_mean),
            _f(r.process_s_mean),
            _f(r.startup_s_mean),
            ", ".join(f"{k} {v}" for k, v in sorted(r.versions.items())),
        ]
        rows.append(line)
    return header, rows


def caption(data: AgentRuntimes) -> str:
    n = sorted({r.episodes for r in data.rows})
    eps = f"{n[0]} episodes each" if len(n) == 1 else "episodes: " + ", ".join(map(str, n))
    parts = [
        f"Suite {data.suite}, tasks {', '.join(data.tasks)}, {data.clock} clock, {eps}, measured {data.measured}.",
        "Every agent runs the oracle policy as its model, so only the runtime differs. Cells are measured "
        "runtime concurrency / what fully concurrent execution measures on the same calls; lost = batch span "
        "minus its longest call; dispatch = model response to first call; process and start-up include the "
        "interpreter and imports.",
    ]
    if data.note:
        parts.append(data.note[:1].upper() + data.note[1:] + ".")
    return " ".join(parts)


def as_dict(data: AgentRuntimes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    header, rows = table(data)
    return {"header": header, "rows": rows, "caption": caption(data)}
