"""Matplotlib charts rendered to SVG text for inlining in the page.

Figures are built with the object API (no pyplot state, no GUI backend), SVG ids are salted and
prefixed per chart so several charts can share one document, and no date is written, so the
same runs give byte-identical SVG. Text stays text (`svg.fonttype: none`), which keeps the page small.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

PALETTE = [
    "#4477aa",
    "#ee6677",
    "#228833",
    "#ccbb44",
    "#66ccee",
    "#aa3377",
    "#bbbbbb",
    "#332288",
    "#117733",
    "#882255",
]
MAX_WIDTH_BIN = 8  # batches of 8 or more calls share the last bar

_RC: dict[Any, Any] = {  # matplotlib types keys as a Literal of every rcParam
    "svg.hashsalt": "fanout-report",
    "svg.fonttype": "none",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
}


def plain(text: str) -> str:
    """Label text shown literally: `$` would otherwise start matplotlib mathtext (and can raise)."""
    return text.replace("\\", "\\\\").replace("$", r"\$")


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def to_svg(fig: Figure, prefix: str) -> str:
    with matplotlib.rc_context(_RC):
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{prefix}" ', 1)


def _legend(ax: Axes) -> None:
    """Legend beside the axes, so it never hides a point however many models there are."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False, borderaxespad=0)


def _figure(w: float = 6.4, h: float = 4.0) -> Figure:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(w, h))
        fig.add_subplot(1, 1, 1)
    return fig


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of points no other point beats (lower x and higher-or-equal y), in x order."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def success_vs(
    rows: list[dict], labels: list[str], colors: list[str], x_key: str, x_label: str, prefix: str
) -> str | None:
    """Success rate (with its 95% interval) against a cost-like metric; the Pareto front is drawn.
    None when no row has a value for `x_key`."""
    pts = [
        (i, r[x_key], r["success_rate"])
        for i, r in enumerate(rows)
        if r.get(x_key) is not None and r.get("success_rate") is not None
    ]
    if not pts:
        return None
    with matplotlib.rc_context(_RC):
        fig = _figure(5.0, 3.6)
        ax = fig.axes[0]
        for i, x, y in pts:
            r = rows[i]
            lo, hi = r.get("success_rate_lo"), r.get("success_rate_hi")
            yerr = [[max(0.0, y - lo)], [max(0.0, hi - y)]] if lo is not None and hi is not None else None
            ax.errorbar(
                [x],
                [100 * y],
                yerr=None if yerr is None else [[100 * yerr[0][0]], [100 * yerr[1][0]]],
                fmt="o",
                color=colors[i],
                capsize=3,
                markersize=7,
                label=plain(labels[i]),
            )
        front = pareto_front([(x, y) for _, x, y in pts])
        if len(front) > 1:
            fx = [pts[k][1] for k in front]
            fy = [100 * pts[k][2] for k in front]
            ax.step(fx, fy, where="post", color="#555555", linestyle="--", linewidth=1, label="Pareto front")
        ax.set_xlabel(plain(x_label))
        ax.set_ylabel("success rate (%)")
        ax.set_ylim(-5, 105)
        if x_key.startswith("cost") and all(x > 0 for _, x, _ in pts):
            span = max(x for _, x, _ in pts) / min(x for _, x, _ in pts)
            if span > 20:
                ax.set_xscale("log")
        _legend(ax)
        return to_svg(fig, prefix)


def width_distribution(
    widths: list[dict[int, int]], labels: list[str], colors: list[str], prefix: str
) -> str | None:
    """Share of batches by fan-out width (calls per turn), one bar group per width, one bar per row."""
    if not any(widths):
        return None
    bins = list(range(1, MAX_WIDTH_BIN + 1))
    with matplotlib.rc_context(_RC):
        fig = _figure(5.0, 3.6)
        ax = fig.axes[0]
        n = len(widths)
        bar = 0.8 / max(n, 1)
        for i, (w, label) in enumerate(zip(widths, labels, strict=True)):
            total = sum(w.values())
            shares = []
            for b in bins:
                c = sum(v for k, v in w.items() if (k >= b if b == MAX_WIDTH_BIN else k == b))
                shares.append(100 * c / total if total else 0.0)
            xs = [b - 0.4 + bar * (i + 0.5) for b in bins]
            ax.bar(xs, shares, width=bar, color=colors[i], label=plain(label))
        ax.set_xticks(bins, [str(b) for b in bins[:-1]] + [f"{MAX_WIDTH_BIN}+"])
        ax.set_xlabel("calls in one batch (fan-out width)")
        ax.set_ylabel("share of batches (%)")
        _legend(ax)
        return to_svg(fig, prefix)


def pattern_heatmap(
    pattern_rows: list[dict], row_keys: list[tuple[str, str, str]], labels: list[str], prefix: str
) -> str | None:
    """Success rate per dependency pattern (columns) and run (rows), the value written in each cell.
    Drawn as vector cells (pcolormesh), not an embedded bitmap, so the page loads no image."""
    if not pattern_rows:
        return None
    patterns = sorted({(r["suite"], r["pattern"]) for r in pattern_rows})
    index = {(r["model"], r["suite"], r["run_id"], r["pattern"]): r for r in pattern_rows}
    grid = [
        [(index.get((*key, p)) or {}).get("success_rate") if key[1] == s else None for s, p in patterns]
        for key in row_keys
    ]
    multi_suite = len({s for s, _ in patterns}) > 1
    cols = [f"{s}/{p}" if multi_suite else p for s, p in patterns]
    data = np.ma.masked_invalid(np.array([[np.nan if v is None else 100 * v for v in row] for row in grid]))
    with matplotlib.rc_context(_RC):
        fig = _figure(min(16.0, max(4.0, 0.75 * len(cols) + 2.8)), max(2.0, 0.42 * len(row_keys) + 1.9))
        ax = fig.axes[0]
        ax.grid(False)
        ax.pcolormesh(data, cmap="RdYlGn", vmin=0, vmax=100, edgecolors="white", linewidth=1, alpha=0.65)
        for y, row in enumerate(grid):
            for x, v in enumerate(row):
                if v is not None:
                    ax.text(x + 0.5, y + 0.5, f"{100 * v:.0f}", ha="center", va="center", fontsize=8)
        ax.set_xticks([i + 0.5 for i in range(len(cols))], [plain(c) for c in cols], rotation=35, ha="right")
        ax.set_yticks([i + 0.5 for i in range(len(labels))], [plain(label) for label in labels])
        ax.invert_yaxis()
        ax.set_title("success rate by dependency pattern (%)", fontsize=9)
        return to_svg(fig, prefix)


def saved_share(row: dict) -> float | None:
    """Share of the serial wall-clock that fan-out saved in a what-if row: 1 - wall / serial, from
    the row's micro-averaged `parallel_speedup`, else from its mean wall and serial wall-clock."""
    sp = row.get("parallel_speedup")
    if sp is not None and float(sp) > 0:
        return 1.0 - 1.0 / float(sp)
    wall, serial = row.get("wall_s_mean"), row.get("serial_wall_s_mean")
    if wall is not None and serial is not None and float(serial) > 0:
        return 1.0 - float(wall) / float(serial)
    return None


def whatif_series(rows: list[dict]) -> dict[str, dict[str, float]]:
    """model -> inference profile -> share of serial wall-clock saved, from a `fanout whatif --out` file: its
    whole-run rows (no pattern) without a fan-out cap, timeout or hedge; the first row per model and
    profile wins when a sweep varied something else."""
    series: dict[str, dict[str, float]] = {}
    for r in rows:
        model, prof = r.get("model"), r.get("inference_profile")
        saved = saved_share(r)
        if model is None or prof is None or saved is None or r.get("pattern") is not None:
            continue
        if any(r.get(k) not in (None, "none") for k in ("fan_out_cap", "tool_timeout", "hedge_after")):
            continue
        series.setdefault(str(model), {}).setdefault(str(prof), saved)
    return series


def whatif_savings(rows: list[dict], prefix: str, colors: dict[str, str] | None = None) -> str | None:
    """Wall-clock saved by fan-out against inference speed, one line per model (see whatif_series)."""
    series = whatif_series(rows)
    if not series:
        return None
    colors = colors or {}
    order = {"fast": 0, "typical": 1, "slow": 2}
    profiles = sorted({p for pts in series.values() for p in pts}, key=lambda p: (order.get(p, 9), p))
    with matplotlib.rc_context(_RC):
        fig = _figure(5.0, 3.6)
        ax = fig.axes[0]
        for i, (model, d) in enumerate(sorted(series.items())):
            xs = [k for k, p in enumerate(profiles) if p in d]
            ys = [100 * d[profiles[k]] for k in xs]
            ax.plot(xs, ys, marker="o", color=colors.get(model, color(i)), label=plain(model))
        ax.set_xticks(range(len(profiles)), [plain(p) for p in profiles])
        ax.set_xlabel("inference profile (fast to slow model)")
        ax.set_ylabel("wall-clock saved by fan-out (% of serial)")
        _legend(ax)
        return to_svg(fig, prefix)
