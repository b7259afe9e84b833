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
from . import formatting as f
from .tables import DEFAULT_SORT


@dataclass
class Column:
    key: str  # sort value: the row's value under this key
    title: str
    help: str
    kind: str = "num"  # num | text
    first: str = "desc"  # direction of the first click


LEADERBOARD = [
    Column("rank", "#", "position in the default order", first="asc"),
    Column("label", "Model", "model string of the run", kind="text", first="asc"),
    Column("suite", "Suite", "task suite", kind="text", first="asc"),
    Column(
        "success_rate",
        "Success",
        "share of episodes whose required calls were all made and whose answer passed; 95% bootstrap interval over tasks",
    ),
    Column(
        "fan_out_recall",
        "Fan-out recall",
        "parallelisable nodes issued at the first turn they were ready, over all parallelisable nodes (micro-averaged; 95% interval)",
    ),
    Column(
        "incorrect_fan_out_rate",
        "Incorrect fan-out",
        "nodes with a premature call, over nodes with a dependency (micro-averaged; lower is better; 95% interval)",
        first="asc",
    ),
    Column(
        "redundant_calls_per_task",
        "Redundant/task",
        "duplicate + extraneous calls per episode (lower is better; 95% interval)",
        first="asc",
    ),
    Column(
        "turns_over_ideal",
        "Turns/ideal",
        "mean model responses per episode against the ideal (longest path + 1)",
        first="asc",
    ),
    Column("wall_s_p50", "Wall p50", "median episode wall-clock on the run's clock", first="asc"),
    Column("wall_s_p95", "Wall p95", "95th percentile episode wall-clock", first="asc"),
    Column("parallel_speedup", "Speedup", "serial wall-clock over actual wall-clock (sum over episodes)"),
    Column("tokens_per_task", "Tokens/task", "prompt + completion tokens per episode", first="asc"),
    Column(
        "cost_per_task_usd",
        "Cost/task",
        "USD per episode from the price table; unknown when the model has no price",
        first="asc",
    ),
    Column("episodes", "Episodes", "episodes in the run"),
    Column("errors", "Errors", "episodes that ended in a model error", first="asc"),
]

PATTERNS = [
    Column("label", "Model", "model string of the run", kind="text", first="asc"),
    Column("suite", "Suite", "task suite", kind="text", first="asc"),
    Column("pattern", "Pattern", "dependency pattern of the tasks", kind="text", first="asc"),
    Column("tasks", "Tasks", "tasks of this pattern"),
    Column("success_rate", "Success", "share of successful episodes"),
    Column("fan_out_recall", "Fan-out recall", "micro-averaged over the pattern's tasks"),
    Column(
        "incorrect_fan_out_rate", "Incorrect fan-out", "micro-averaged over the pattern's tasks", first="asc"
    ),
    Column(
        "redundant_calls_per_task",
        "Redundant/task",
        "duplicate + extraneous calls per episode",
        first="asc",
    ),
    Column("turns", "Turns/ideal", "mean turns over mean ideal turns", first="asc"),
    Column("wall_s_p50", "Wall p50", "median episode wall-clock", first="asc"),
    Column("parallel_speedup", "Speedup", "serial over actual wall-clock"),
]


def _cell(row: dict, key: str) -> tuple[str, str]:
    """(display text, interval text) of one leaderboard or pattern cell."""
    v = row.get(key)
    if key in ("success_rate", "fan_out_recall", "incorrect_fan_out_rate"):
        return f.pct(v), f.interval_pct(row.get(f"{key}_lo"), row.get(f"{key}_hi"))
    if key == "redundant_calls_per_task":
        return f.num(v), f.interval_num(row.get(f"{key}_lo"), row.get(f"{key}_hi"))
    if key in ("turns_over_ideal", "turns"):
        return f.turns(row.get("mean_turns"), row.get("mean_ideal_turns")), ""
    if key in ("wall_s_p50", "wall_s_p95"):
        return f.seconds(v), ""
    if key == "parallel_speedup":
        return f.speedup(v), ""
    if key == "tokens_per_task":
        return f.tokens(v, bool(row.get("tokens_estimated"))), ""
    if key == "cost_per_task_usd":
        return f.cost(v), ""
    return ("" if v is None else str(v)), ""


def _sort_value(row: dict, key: str, kind: str) -> str:
    v = row.get("turns_over_ideal" if key == "turns" else key)
    if key == "turns" and v is None and row.get("mean_ideal_turns"):
        v = row["mean_turns"] / row["mean_ideal_turns"]
    if v is None:
        return ""
    if kind == "num":
        return repr(float(v))
    return str(v)


def table(rows: list[dict], columns: list[Column]) -> list[list[dict]]:
    return [
        [
            dict(zip(("text", "interval"), _cell(r, c.key), strict=True))
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
    )
