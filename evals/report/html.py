"""The self-contained HTML page: jinja2 with autoescaping, charts and data inlined, no network.

Everything that came from a run (model names, model text, tool arguments) reaches the page either
through autoescaped template variables or inside the timeline JSON (`tojson`, which escapes `<`,
`>`, `&` and `'`), and the page's script writes it with `textContent` only. Chart SVG is the one
thing marked safe: matplotlib escapes the text it writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from .. import __version__
from ..metrics import METRICS, Metric
from . import formatting as f
from .tables import DEFAULT_SORT


@dataclass
class Column:
    key: str  # sort value: the row's value under this key
    title: str
    help: str
    kind: str = "num"  # num | text
    first: str = "desc"  # direction of the first click
    metric: Metric | None = None  # the registry metric shown, if any


def _metric_column(m: Metric) -> Column:
    return Column(m.name, m.label, m.help(), first="asc" if m.better == "lower" else "desc", metric=m)


LEADERBOARD = [
    Column("rank", "#", "position in the default order", first="asc"),
    Column("label", "Model", "model string of the run", kind="text", first="asc"),
    Column("suite", "Suite", "task suite", kind="text", first="asc"),
    *(_metric_column(m) for m in METRICS.on("board")),
]

PATTERNS = [
    Column("label", "Model", "model string of the run", kind="text", first="asc"),
    Column("suite", "Suite", "task suite", kind="text", first="asc"),
    Column("pattern", "Pattern", "dependency pattern of the tasks", kind="text", first="asc"),
    *(_metric_column(m) for m in METRICS.on("patterns")),
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


def render_html(
    *,
    title: str,
    rows: list[dict],
    pattern_rows: list[dict],
    charts: list[Chart],
    timeline: dict,
    metadata: list[dict],
) -> str:
    env = environment()
    tpl = env.get_template("leaderboard.html.j2")
    suites = sorted({r["suite"] for r in rows})
    # One suite: its name is in the header line, and the column would only push the table wider.
    board = [c for c in LEADERBOARD if c.key != "suite" or len(suites) > 1]
    by_pattern = [c for c in PATTERNS if c.key != "suite" or len(suites) > 1]
    return tpl.render(
        title=title,
        version=__version__,
        leaderboard_columns=board,
        leaderboard=table(rows, board),
        pattern_columns=by_pattern,
        patterns=table(pattern_rows, by_pattern),
        charts=[{"chart": c, "svg": Markup(c.svg) if c.svg else None} for c in charts],
        timeline=timeline,
        metadata=metadata,
        default_sort=DEFAULT_SORT,
        n_runs=len(rows),
        n_episodes=sum(r["episodes"] or 0 for r in rows),
        suites=suites,
        metrics=list(METRICS),
    )
