"""The self-contained HTML page: jinja2 with autoescaping, charts and data inlined, no network.

Everything that came from a run (model names, model text, tool arguments) reaches the page either
through autoescaped template variables or inside the timeline JSON (`tojson`, which escapes `<`,
`>`, `&` and `'`), and the page's script writes it with `textContent` only. Chart SVG is the one
thing marked safe: matplotlib escapes the text it writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from .. import __version__
from ..metrics import METRICS, Metric
from . import formatting as f
from .agents import AgentRuntimes, as_dict
from .charts import model_colors
from .comparability import Comparability
from .tables import DEFAULT_SORT, HEADLINE


@dataclass
class Column:
    key: str  # sort value: the row's value under this key
    title: str
    help: str
    kind: str = "num"  # num | text
    first: str = "desc"  # direction of the first click
    metric: Metric | None = None  # the registry metric shown, if any
    optional: bool = False  # hidden on narrow screens (below 1,180 px), where the table must still fit


def _metric_column(m: Metric) -> Column:
    first = "asc" if m.better == "lower" else "desc"
    return Column(
        m.name, m.label, m.help(), first=first, metric=m, optional=not m.narrow
    )  # declared with the metric


LEADERBOARD = [
    Column("rank", "#", "position in the default order (within its group)", first="asc"),
    Column("label", "Model", "model string of the run", kind="text", first="asc"),
    Column("suite", "Suite", "task suite", kind="text", first="asc"),
    *(_metric_column(m) for m in METRICS.on("board")),
]


def _cell(row: dict, c: Column) -> tuple[str, str]:
    """(display text, interval text) of one leaderboard or pattern cell."""
    if c.metric is not None:
        return f.metric_cell(c.metric, row)
    v = row.get(c.key)
    return ("" if v is None else str(v)), ""


def _sort_value(row: dict, key: str, kind: str) -> str:
    v = row.get(key)
    if v is None:
        return ""
    if kind == "num":
        return repr(float(v))
    return str(v)


def table(rows: list[dict], columns: list[Column]) -> list[list[dict]]:
    return [
        [
            dict(zip(("text", "interval"), _cell(r, c), strict=True))
            | {"sort": _sort_value(r, c.key, c.kind)}
            for c in columns
        ]
        for r in rows
    ]


def environment() -> Environment:
    root = resources.files("evals.report") / "templates"
    env = Environment(
        loader=FileSystemLoader(str(root)),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
    return env


@dataclass
class Chart:
    id: str
    title: str
    caption: str
    svg: str | None
    missing: str = ""  # shown in place of the chart when svg is None
    wide: bool = False  # spans the whole row of the chart grid


def _named(svg: str, title: str) -> str:
    """The chart's accessible name is its title (a screen reader read out the id prefix)."""
    return re.sub(r'aria-label="[^"]*"', lambda _: f'aria-label="{escape(title)}"', svg, count=1)


def shown(columns: list[Column], rows: list[dict]) -> list[Column]:
    """The columns some row has a value for: a suite-specific metric (BFCL accuracy, TaskBench F1)
    on another suite, or reasoning tokens no run reported, would be a column of n/a."""
    out = []
    for c in columns:
        if c.metric is not None and rows:
            values = [r.get(c.key) for r in rows]
            if all(v is None for v in values) or (c.key == "reasoning_tokens" and not any(values)):
                continue
        out.append(c)
    return out


# The per-pattern matrices: one table per metric of the registry's `patterns` surface (the task
# count is a column of each), patterns down, models across; a metric no row defines is left out.
PATTERN_METRICS = tuple(m.name for m in METRICS.on("patterns") if m.name != "tasks")


def pattern_matrices(rows: list[dict], pattern_rows: list[dict]) -> list[dict]:
    """For each metric, a matrix: one row per (suite, pattern), one column per run, in the
    leaderboard's order, so all of it is in view without a 60-row list."""
    keys = [(r["model"], r["suite"], r["run_id"]) for r in rows]
    index = {(p["model"], p["suite"], p["run_id"], p["pattern"]): p for p in pattern_rows}
    patterns = sorted({(p["suite"], p["pattern"]) for p in pattern_rows})
    multi_suite = len({s for s, _ in patterns}) > 1
    out = []
    for name in PATTERN_METRICS:
        m = METRICS[name]
        if all(p.get(name) is None for p in pattern_rows):
            continue
        body = []
        for suite, pattern in patterns:
            cells = []
            for k in keys:
                hit = index.get((*k, pattern)) if k[1] == suite else None
                text = f.metric_cell(m, hit)[0] if hit else ""
                cells.append({"text": text, "sort": _sort_value(hit or {}, name, "num")})
            head = f"{suite}/{pattern}" if multi_suite else pattern
            tasks = next((index[(*k, pattern)]["tasks"] for k in keys if (*k, pattern) in index), None)
            body.append({"pattern": head, "tasks": tasks, "cells": cells})
        out.append({"metric": m, "id": name.replace("_", "-"), "rows": body})
    return out


def render_html(
    *,
    title: str,
    rows: list[dict],
    pattern_rows: list[dict],
    charts: list[Chart],
    timeline: dict,
    metadata: list[dict],
    comparability: Comparability | None = None,
    agents: AgentRuntimes | None = None,
) -> str:
    env = environment()
    tpl = env.get_template("leaderboard.html.j2")
    suites = sorted({r["suite"] for r in rows})
    comp = comparability or Comparability()
    # One suite: its name is in the header line, and the column would only push the table wider.
    board = shown([c for c in LEADERBOARD if c.key != "suite" or len(suites) > 1], rows)
    groups = []
    for g in dict.fromkeys(r.get("group") for r in rows):
        members = [r for r in rows if r.get("group") == g]
        groups.append({"name": g, "caption": comp.captions.get(g or "", ""), "rows": table(members, board)})
    palette = model_colors(r["model"] for r in rows)
    return tpl.render(
        title=title,
        version=__version__,
        headline=HEADLINE,
        swatches={r["label"]: palette[r["model"]] for r in rows},
        leaderboard_columns=board,
        groups=groups,
        warnings=comp.warnings,
        pattern_labels=[r["label"] for r in rows],
        pattern_matrices=pattern_matrices(rows, pattern_rows),
        charts=[{"chart": c, "svg": Markup(_named(c.svg, c.title)) if c.svg else None} for c in charts],
        agents=as_dict(agents),
        timeline=timeline,
        metadata=metadata,
        default_sort=DEFAULT_SORT,
        n_runs=len(rows),
        n_episodes=sum(r["episodes"] or 0 for r in rows),
        suites=suites,
        metrics=list(METRICS),
    )
