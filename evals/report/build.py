"""`fanout report`: run folders in, leaderboard.{html,md,csv,json} out.

The runs are read once; every output is derived from the same rows in the same (default) order,
and nothing depends on the time of generation, so the same runs always give the same files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..files import write_text_atomic
from . import charts as ch
from .export import to_csv, to_json
from .html import Chart, render_html
from .load import ReportInputError, RunData, load_runs
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


def load_whatif(path: str | Path) -> list[dict]:
    """Rows of a `fanout whatif --out` file: a list of row objects, or an object holding `rows`."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportInputError(f"{p}: no such what-if file") from None
    except ValueError as exc:
        raise ReportInputError(f"{p}: not JSON ({exc})") from None
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


def _charts(
    rows: list[dict], runs: list[RunData], labels: list[str], patterns: list[dict], whatif: list[dict] | None
) -> list[Chart]:
    colors = [ch.color(i) for i in range(len(rows))]
    out = [
        Chart(
            "success-wall",
            "Success vs wall-clock",
            "Median episode wall-clock (x) against success rate with its 95% interval (y). Up and left is better; "
            "the dashed line joins the models no other model beats on both.",
            ch.success_vs(
                rows, labels, colors, "wall_s_p50", "wall-clock p50 per episode (s)", "success-wall"
            ),
            "No run has a wall-clock figure.",
        ),
    ]
    known = [r for r in rows if r["cost_per_task_usd"] is not None]
    unknown = [lab for r, lab in zip(rows, labels, strict=True) if r["cost_per_task_usd"] is None]
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
                "Wall-clock saved by fan-out vs inference speed",
                "From fanout whatif: the share of the serial wall-clock (every batch run one call at a time) "
                "that fan-out saved, recomputed for each inference profile without a fan-out cap, one line per "
                "model. The seconds saved do not depend on model speed; their share shrinks as the model slows.",
                ch.whatif_savings(
                    whatif, "whatif", {r["model"]: c for r, c in zip(rows, colors, strict=True)}
                ),
                "The what-if file holds no rows with a model, an inference profile and wall-clock figures.",
            )
        )
    keys = [(r["model"], r["suite"], r["run_id"]) for r in rows]
    out.append(
        Chart(
            "patterns",
            "Success by dependency pattern",
            "Success rate of each model on the tasks of each pattern.",
            ch.pattern_heatmap(patterns, keys, labels, "patterns"),
            "No episodes.",
            wide=len({(p["suite"], p["pattern"]) for p in patterns}) > 6,
        )
    )
    return out


def build_report(
    run_dirs: list[str | Path], out: str | Path, title: str = DEFAULT_TITLE, whatif: str | Path | None = None
) -> ReportFiles:
    runs = load_runs(run_dirs)
    if not runs:
        raise ReportInputError("no run folders given")
    whatif_rows = load_whatif(whatif) if whatif else None
    rows = leaderboard(runs)
    by_key = {r.key: r for r in runs}
    ordered = [by_key[(r["model"], r["suite"], r["run_id"])] for r in rows]
    multi_suite = len({r.config.suite for r in runs}) > 1
    labels = [f"{r.label} ({r.config.suite})" if multi_suite else r.label for r in ordered]
    label_of = {r.key: r.label for r in runs}
    patterns = by_pattern(ordered)
    for i, r in enumerate(rows, start=1):  # page-only keys; CSV and JSON keep LEADERBOARD_COLUMNS
        r["label"] = label_of[(r["model"], r["suite"], r["run_id"])]
        r["rank"] = i
    for p in patterns:
        p["label"] = label_of[(p["model"], p["suite"], p["run_id"])]
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    html = render_html(
        title=title,
        rows=rows,
        pattern_rows=patterns,
        charts=_charts(rows, ordered, labels, patterns, whatif_rows),
        timeline=timeline_data(ordered, labels),
        metadata=[_metadata(r, lab) for r, lab in zip(ordered, labels, strict=True)],
    )
    files = ReportFiles(
        html=out_dir / "leaderboard.html",
        markdown=out_dir / "leaderboard.md",
        csv=out_dir / "leaderboard.csv",
        json=out_dir / "leaderboard.json",
        rows=rows,
    )
    # Each file replaces the old one whole (a page being served never shows half a report).
    write_text_atomic(files.html, html)
    write_text_atomic(files.markdown, render_markdown(title, rows, patterns, label_of))
    write_text_atomic(files.csv, to_csv(rows))
    write_text_atomic(files.json, to_json(rows, patterns, [fan_out_widths(r) for r in ordered]))
    return files
