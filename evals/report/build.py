"""`fanout report`: run folders in, leaderboard.{html,md,csv,json} out.

The runs are read once; every output is derived from the same rows in the same (default) order,
and nothing depends on the time of generation, so the same runs always give the same files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..files import write_text_atomic
from ..metrics import METRICS
from ..shards import assigned
from . import charts as ch
from .agents import load_agent_runtimes
from .comparability import comparability
from .export import to_csv, to_json
from .html import Chart, render_html
from .load import ReportInputError, RunData, load_runs, read_input_json
from .markdown import render_markdown
from .tables import by_pattern, fan_out_widths, leaderboard
from .timeline import timeline_data

DEFAULT_TITLE = "Fanout leaderboard"


@dataclass
class ReportFiles:
    html: Path
    markdown: Path
    csv: Path
    json: Path
    rows: list[dict]
    warnings: list[str] = field(default_factory=list)  # why some runs do not compare


def load_whatif(path: str | Path) -> list[dict]:
    """Rows of a `fanout whatif --out` file: a list of row objects, or an object holding `rows`."""
    p = Path(path)
    doc = read_input_json(p, "what-if")
    rows = doc.get("rows") if isinstance(doc, dict) else doc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ReportInputError(f"{p}: expected a list of what-if rows (or an object with 'rows')")
    return rows


def _metadata(run: RunData, label: str) -> dict:
    c, rt = run.config, run.config.runtime
    lat = rt.latency_profile or "default"
    if rt.latency_scale != 1.0:
        lat += f" x{rt.latency_scale:g}"
    return {
        "model": label,
        "suite": c.suite,
        "run_id": c.run_id,
        "suite_hash": c.suite_hash,
        "prompt_hash": c.prompt_hash,
        "clock": rt.clock,
        "inference_profile": rt.profile_label or "default",
        "latency": lat,
        "fan_out_cap": rt.fan_out_cap if rt.fan_out_cap is not None else "none",
        "seed": rt.seed,
        "epochs": c.epochs,
        "tasks": len(c.task_ids),
        "harness_version": c.harness_version,
        "price_table_version": c.price_table_version or "",
        "created": c.created,
        "status": c.status,
    }


HEATMAPS = (  # (metric, title, lower is better): what matters by pattern, not only success
    ("parallel_success_rate", "Parallel success by dependency pattern (%)", False),
    ("success_rate", "Success by dependency pattern (%)", False),
    ("fan_out_recall", "Fan-out recall by dependency pattern (%)", False),
    ("incorrect_fan_out_rate", "Incorrect fan-out by dependency pattern (%, lower is better)", True),
)


def _charts(
    rows: list[dict],
    runs: list[RunData],
    labels: list[str],
    patterns: list[dict],
    whatif: list[dict] | None,
    palette: dict[str, str],
) -> list[Chart]:
    colors = [palette[r["model"]] for r in rows]
    full, labels = labels, [ch.short(lab) for lab in labels]  # the captions name models in full
    untimed = [lab for r, lab in zip(rows, full, strict=True) if r["wall_s_p50"] is None]
    wall_caption = (
        "Median wall-clock of the successful episodes (x) against success rate with its 95% interval "
        "(y). Up and left is better; the dashed line joins the models no other model beats on both."
    )
    if untimed:
        wall_caption += " Not shown, no successful episode to time: " + ", ".join(untimed) + "."
    out = [
        Chart(
            "success-wall",
            "Success vs wall-clock",
            wall_caption,
            ch.success_vs(
                rows,
                labels,
                colors,
                "wall_s_p50",
                "wall-clock p50 of successful episodes (s)",
                "success-wall",
            ),
            "No run has a successful episode to time.",
        ),
    ]
    known = [r for r in rows if r["cost_per_task_usd"] is not None]
    unknown = [lab for r, lab in zip(rows, full, strict=True) if r["cost_per_task_usd"] is None]
    cost_caption = "Cost per episode (x) against success rate (y); up and left is better."
    if known and unknown:
        cost_caption += " Not shown, cost unknown: " + ", ".join(unknown) + "."
    out.append(
        Chart(
            "success-cost",
            "Success vs cost",
            cost_caption,
            ch.success_vs(rows, labels, colors, "cost_per_task_usd", "cost per episode (USD)", "success-cost")
            if known
            else None,
            "Cost is unknown for every model in this report (no price in the price table), so there is no cost "
            "chart. Reference policies have no price; pass --prices to a run to price a model.",
        )
    )
    out.append(
        Chart(
            "fan-out-width",
            "Fan-out width",
            "How many calls each batch (a turn that issued tool calls) held, as a share of that model's batches.",
            ch.width_distribution([fan_out_widths(r) for r in runs], labels, colors, "fan-out-width"),
            "No run issued a tool call.",
        )
    )
    if whatif is not None:
        out.append(
            Chart(
                "whatif",
                "Speedup vs sequential by inference speed",
                "From fanout whatif: the sequential schedule of each task's required calls over the actual "
                "wall-clock, over the successful episodes, recomputed for each inference profile without a "
                "fan-out cap, one line per model (1x: no faster than one call at a time). Faster inference "
                "leaves more of each episode to tool waiting, which fan-out overlaps.",
                ch.whatif_speedup(whatif, "whatif", palette),
                "The what-if file holds no rows with a model, an inference profile and a speedup vs sequential "
                "(files written before that metric existed: re-run fanout whatif).",
            )
        )
    keys = [(r["model"], r["suite"], r["run_id"]) for r in rows]
    for metric, title, lower in HEATMAPS:
        out.append(
            Chart(
                f"patterns-{metric.replace('_', '-')}",
                title,
                f"{METRICS[metric].description[:1].upper()}{METRICS[metric].description[1:]}, per model and "
                "dependency pattern; n/a where the pattern does not define it.",
                ch.pattern_heatmap(patterns, keys, labels, f"hm-{metric}", metric, title, lower),
                "No episodes define this metric.",
            )
        )
    return out


def _status(r: RunData) -> str | None:
    """How an unfinished run stands ("interrupted, not complete (40 of 188 episodes)"); None when complete."""
    c = r.config
    if c.status == "complete":
        return None
    expected = len(assigned(c.task_ids, c.epochs, c.shard))
    status = "running (in progress, or killed)" if c.status == "running" else c.status
    return f"{status}, not complete ({len(r.traces)} of {expected} episodes)"


def unfinished(runs: list[RunData]) -> list[str]:
    """A warning per run that is not complete (still running, killed, interrupted, stopped): its
    row scores only the episodes it has, which the page's numbers do not say by themselves."""
    out = []
    for r in runs:
        status = _status(r)
        if status is not None:
            out.append(
                f"{r.path} is {status}: its row scores only those; finish it with: fanout run --resume {r.path}"
            )
    return out


def unfinished_notes(runs: list[RunData], labels: list[str]) -> list[str]:
    """The same warnings for the page and the Markdown, which a reader sees without the terminal:
    the run named by its label (a local path means nothing on a published page)."""
    out = []
    for r, label in zip(runs, labels, strict=True):
        status = _status(r)
        if status is not None:
            out.append(f"the run {label} is {status}: its row scores only those episodes")
    return out


def build_report(
    run_dirs: list[str | Path],
    out: str | Path | Callable[[], Path],
    title: str = DEFAULT_TITLE,
    whatif: str | Path | None = None,
    agent_runtimes: str | Path | None = None,
) -> ReportFiles:
    runs = load_runs(run_dirs)
    if not runs:
        raise ReportInputError("no run folders given")
    whatif_rows = load_whatif(whatif) if whatif else None
    agents = load_agent_runtimes(agent_runtimes) if agent_runtimes else None
    comp = comparability(runs)
    rows = leaderboard(runs, comp.groups)
    by_key = {r.key: r for r in runs}
    ordered = [by_key[(r["model"], r["suite"], r["run_id"])] for r in rows]
    multi_suite = len({r.config.suite for r in runs}) > 1
    labels = [f"{r.label} ({r.config.suite})" if multi_suite else r.label for r in ordered]
    label_of = {r.key: r.label for r in runs}
    patterns = by_pattern(ordered)
    rank: dict[str | None, int] = {}
    for r in rows:  # page-only keys; CSV and JSON keep LEADERBOARD_COLUMNS
        r["label"] = label_of[(r["model"], r["suite"], r["run_id"])]
        rank[r["group"]] = rank.get(r["group"], 0) + 1
        r["rank"] = rank[r["group"]]
    for p in patterns:
        p["label"] = label_of[(p["model"], p["suite"], p["run_id"])]
    palette = ch.model_colors(r["model"] for r in rows)
    # What the reader must know beside the numbers: why runs do not compare, and which are partial.
    shown_comp = replace(comp, warnings=comp.warnings + unfinished_notes(ordered, labels))
    out_dir = out() if callable(out) else Path(out)  # a function claims a new folder, made now
    out_dir.mkdir(parents=True, exist_ok=True)
    html = render_html(
        title=title,
        rows=rows,
        pattern_rows=patterns,
        charts=_charts(rows, ordered, labels, patterns, whatif_rows, palette),
        timeline=timeline_data(ordered, labels),
        metadata=[_metadata(r, lab) for r, lab in zip(ordered, labels, strict=True)],
        comparability=shown_comp,
        agents=agents,
    )
    files = ReportFiles(
        html=out_dir / "leaderboard.html",
        markdown=out_dir / "leaderboard.md",
        csv=out_dir / "leaderboard.csv",
        json=out_dir / "leaderboard.json",
        rows=rows,
        warnings=comp.warnings + unfinished(ordered),
    )
    # Each file replaces the old one whole (a page being served never shows half a report).
    write_text_atomic(files.html, html)
    write_text_atomic(files.markdown, render_markdown(title, rows, patterns, label_of, shown_comp, agents))
    write_text_atomic(files.csv, to_csv(rows))
    write_text_atomic(files.json, to_json(rows, patterns, [fan_out_widths(r) for r in ordered]))
    return files
