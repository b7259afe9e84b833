"""Matplotlib charts rendered to SVG text for inlining in the page.

Figures are built with the object API (no pyplot state, no GUI backend), SVG ids are salted and
prefixed per chart so several charts can share one document, and no date is written, so the
same runs give byte-identical SVG. Text stays text (`svg.fonttype: none`), which keeps the page small.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
from collections.abc import Iterable
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .formatting import percent

# The reference policies keep one colour each in every report, whatever adapter serves them
# (`policy/oracle`, `openai/oracle`); other models take a colour from PALETTE by a hash of their
# name, so a model keeps its colour across charts and reports (a clash with a model already
# coloured in the same report moves to the next free colour). Paul Tol's colour-blind-safe
# "bright" and "vibrant" sets.
REFERENCE_COLORS = {
    "oracle": "#228833",  # green
    "sequential": "#ee7733",  # orange
    "greedy": "#cc3311",  # red
    "redundant": "#aa3377",  # purple
    "lazy": "#4477aa",  # blue
    "prompt-sensitive": "#ccbb44",  # yellow
}
PALETTE = [
    "#0077bb",
    "#33bbee",
    "#009988",
    "#ee3377",
    "#332288",
    "#999933",
    "#882255",
    "#66ccee",
    "#bbbbbb",
    "#555555",
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


CHART_LABEL_MAX = 40


def short(text: str, limit: int = CHART_LABEL_MAX) -> str:
    """A label a chart can hold: a longer one (a model name can be anything the user typed) keeps
    its start and its end (provider and version) around an ellipsis. Charts fit their bounding box,
    so one 200-character name would otherwise shrink every chart to a strip; the tables keep the
    full name."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 3 // 5
    return text[:head] + "\u2026" + text[len(text) - (limit - 1 - head) :]


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _policy(model: str) -> str | None:
    name = model.split(" ", 1)[0].rsplit("/", 1)[-1]
    return name if name in REFERENCE_COLORS else None


def model_colors(models: Iterable[str]) -> dict[str, str]:
    """A colour per model name, stable across reports: the reference policies' own, else the
    palette entry a hash of the name picks (the next free one when taken in this report)."""
    names = list(dict.fromkeys(models))
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        p = _policy(name)
        if p is not None and REFERENCE_COLORS[p] not in used:
            out[name] = REFERENCE_COLORS[p]
            used.add(out[name])
    free = [c for c in PALETTE if c not in used]
    for name in sorted(n for n in names if n not in out):
        start = int(hashlib.sha256(name.encode()).hexdigest(), 16) % len(PALETTE)
        order = PALETTE[start:] + PALETTE[:start]
        pick = next((c for c in order if c in free), None)
        if pick is None:  # more models than colours: reuse, in the same stable order
            pick = order[0]
        else:
            free.remove(pick)
        out[name] = pick
    return out


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
        ax.set_ylim(-8, 112)
        if x_key.startswith("cost") and all(x > 0 for _, x, _ in pts):
            span = max(x for _, x, _ in pts) / min(x for _, x, _ in pts)
            if span > 20:
                ax.set_xscale("log")
        if len(front) > 1:  # the points carry their labels; the legend only names the front
            ax.legend(handles=ax.lines[-1:], loc="lower right", fontsize=8, frameon=False)
        x0, x1 = ax.get_xlim()
        ax.set_xlim(x0, x1 + 0.3 * (x1 - x0))  # room for the labels of the rightmost points
        _label_points(ax, [(x, 100 * y, labels[i], colors[i]) for i, x, y in pts])
        return to_svg(fig, prefix)


def _label_points(ax: Axes, pts: list[tuple[float, float, str, str]]) -> None:
    """Write each point's label to its right; labels that would overlap are pushed down, in
    display units, and joined to their point by a thin line, so none hides another; each sits
    on a white backing above the lines it crosses."""
    fig = ax.figure
    to_pt = 72.0 / fig.dpi
    line_h, char_w, mark = 10.5, 4.6, 5.0  # points, at font size 8; a marker's half width
    where = [tuple(v * to_pt for v in ax.transData.transform((x, y))) for x, y, _, _ in pts]
    # Boxes no label may cover, (x0, x1, y_center, half height): every marker, then each label.
    taken: list[tuple[float, float, float, float]] = [(px - mark, px + mark, py, mark) for px, py in where]
    order = sorted(range(len(pts)), key=lambda i: (-pts[i][1], pts[i][0]))
    for i in order:
        x, y, text, col = pts[i]
        px, py = where[i]
        lx, ly = px + 8, py
        width = char_w * len(text)
        for _ in range(4 * len(pts) + 4):
            hit = [b for b in taken if lx < b[1] and b[0] < lx + width and abs(ly - b[2]) < line_h / 2 + b[3]]
            if not hit:
                break
            ly = min(b[2] - b[3] for b in hit) - line_h / 2 - 1
        taken.append((lx, lx + width, ly, line_h / 2))
        moved = abs(ly - py) > 2
        ax.annotate(
            plain(text),
            (x, y),
            xytext=(lx - px, ly - py),
            textcoords="offset points",
            fontsize=8,
            color=col,
            va="center",
            # a white backing, so the Pareto line or a grid line never strikes through a label
            bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none", "alpha": 0.85},
            zorder=5,
            arrowprops={"arrowstyle": "-", "color": col, "linewidth": 0.6, "shrinkA": 0, "shrinkB": 4}
            if moved
            else None,
        )


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
    pattern_rows: list[dict],
    row_keys: list[tuple[str, str, str]],
    labels: list[str],
    prefix: str,
    metric: str = "success_rate",
    title: str = "success rate by dependency pattern (%)",
    lower_is_better: bool = False,
) -> str | None:
    """One rate per dependency pattern (columns) and run (rows), the value written in each cell
    (n/a where the pattern does not define it, e.g. recall without parallelisable calls). Drawn as
    vector cells (pcolormesh), not an embedded bitmap, so the page loads no image."""
    if not pattern_rows:
        return None
    patterns = sorted({(r["suite"], r["pattern"]) for r in pattern_rows})
    index = {(r["model"], r["suite"], r["run_id"], r["pattern"]): r for r in pattern_rows}
    present = [[key[1] == s and (*key, p) in index for s, p in patterns] for key in row_keys]
    grid = [
        [(index.get((*key, p)) or {}).get(metric) if key[1] == s else None for s, p in patterns]
        for key in row_keys
    ]
    if all(v is None for row in grid for v in row):
        return None
    multi_suite = len({s for s, _ in patterns}) > 1
    cols = [f"{s}/{p}" if multi_suite else p for s, p in patterns]
    data = np.ma.masked_invalid(np.array([[np.nan if v is None else 100 * v for v in row] for row in grid]))
    with matplotlib.rc_context(_RC):
        fig = _figure(min(9.0, max(4.0, 0.5 * len(cols) + 2.6)), max(2.0, 0.36 * len(row_keys) + 1.7))
        ax = fig.axes[0]
        ax.grid(False)
        ax.set_facecolor("#eeeeee")
        cmap = "RdYlGn_r" if lower_is_better else "RdYlGn"
        ax.pcolormesh(data, cmap=cmap, vmin=0, vmax=100, edgecolors="white", linewidth=1, alpha=0.65)
        for y, row in enumerate(grid):
            for x, v in enumerate(row):
                if v is not None:
                    ax.text(x + 0.5, y + 0.5, percent(v, 0), ha="center", va="center", fontsize=7.5)
                elif present[y][x]:
                    ax.text(x + 0.5, y + 0.5, "n/a", ha="center", va="center", fontsize=6.5, color="#777777")
        ax.set_xticks([i + 0.5 for i in range(len(cols))], [plain(c) for c in cols], rotation=40, ha="right")
        ax.set_yticks([i + 0.5 for i in range(len(labels))], [plain(label) for label in labels])
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9)
        return to_svg(fig, prefix)


def whatif_series(rows: list[dict], key: str = "speedup_vs_sequential") -> dict[str, dict[str, float]]:
    """model -> inference profile -> `key`, from a `fanout whatif --out` file: its whole-run rows (no
    pattern) without a fan-out cap, timeout or hedge; the first row per model and profile wins when
    a sweep varied something else."""
    series: dict[str, dict[str, float]] = {}
    for r in rows:
        model, prof, v = r.get("model"), r.get("inference_profile"), r.get(key)
        if model is None or prof is None or v is None or r.get("pattern") is not None:
            continue
        if any(r.get(k) not in (None, "none") for k in ("fan_out_cap", "tool_timeout", "hedge_after")):
            continue
        series.setdefault(str(model), {}).setdefault(str(prof), float(v))
    return series


def whatif_speedup(rows: list[dict], prefix: str, colors: dict[str, str] | None = None) -> str | None:
    """Speedup vs sequential against inference speed, one line per model (see whatif_series)."""
    series = whatif_series(rows)
    if not series:
        return None
    colors = colors or model_colors(series)
    order = {"fast": 0, "typical": 1, "slow": 2}
    profiles = sorted({p for pts in series.values() for p in pts}, key=lambda p: (order.get(p, 9), p))
    with matplotlib.rc_context(_RC):
        fig = _figure(5.0, 3.6)
        ax = fig.axes[0]
        for i, (model, d) in enumerate(sorted(series.items())):
            xs = [k for k, p in enumerate(profiles) if p in d]
            ys = [d[profiles[k]] for k in xs]
            ax.plot(xs, ys, marker="o", color=colors.get(model, color(i)), label=plain(short(model)))
        ax.axhline(1.0, color="#999999", linewidth=0.8, linestyle=":")
        ax.set_xticks(range(len(profiles)), [plain(p) for p in profiles])
        ax.set_xlabel("inference profile (fast to slow model)")
        ax.set_ylabel("speedup vs sequential (x)")
        _legend(ax)
        return to_svg(fig, prefix)
