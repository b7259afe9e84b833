"""How numbers read on the page and in Markdown; one place so HTML and Markdown never disagree.

Missing values read as "n/a" (undefined, e.g. no parallelisable node) except cost, which reads
"unknown": an unknown price is not a free model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..aggregations import Quotient
from ..metrics import Metric

NA = "n/a"
UNKNOWN_COST = "unknown"


def percent(v: float, digits: int = 1) -> str:
    """A share as a percentage without the sign. Rounding never reaches 100 for a share below 1 nor 0
    for one above 0: 1,999 successes in 2,000 read ">99.9", not "100.0", the figure of a model that
    never failed (and one premature call in 2,000 nodes reads "<0.1", not "0.0")."""
    text = f"{100 * v:.{digits}f}"
    step = 10.0**-digits
    if v < 1 and float(text) >= 100:
        return f">{100 - step:.{digits}f}"
    if v > 0 and float(text) <= 0:
        return f"<{step:.{digits}f}"
    return text


def pct(v: float | None, digits: int = 1) -> str:
    return NA if v is None else percent(v, digits) + "%"


def interval_pct(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return ""
    return f"[{100 * lo:.1f}, {100 * hi:.1f}]"


def num(v: float | None, digits: int = 2) -> str:
    return NA if v is None else f"{v:.{digits}f}"


def interval_num(lo: float | None, hi: float | None, digits: int = 2) -> str:
    if lo is None or hi is None:
        return ""
    return f"[{lo:.{digits}f}, {hi:.{digits}f}]"


def seconds(v: float | None) -> str:
    return NA if v is None else f"{v:.2f} s"


def speedup(v: float | None) -> str:
    return NA if v is None else f"{v:.2f}x"


def tokens(v: float | None, estimated: bool = False) -> str:
    if v is None:
        return NA
    return f"{v:,.0f}" + (" (est.)" if estimated else "")


def cost(v: float | None) -> str:
    if v is None:
        return UNKNOWN_COST
    if v == 0:
        return "$0"
    return f"${v:.4f}" if v < 1 else f"${v:,.2f}"


def turns(mean: float | None, ideal: float | None) -> str:
    if mean is None or ideal is None:
        return NA
    return f"{mean:.2f} / {ideal:.2f}"


def metric_cell(m: Metric, row: Mapping[str, Any]) -> tuple[str, str]:
    """(text, interval text) of metric `m` in a leaderboard or pattern row, by the metric's unit."""
    v = row.get(m.name)
    lo, hi = row.get(f"{m.name}_lo"), row.get(f"{m.name}_hi")
    if m.unit in ("rate", "share"):
        return pct(v), interval_pct(lo, hi)
    if m.unit == "count":
        return num(v), interval_num(lo, hi)
    if m.unit == "seconds":
        return seconds(v), interval_num(lo, hi)
    if m.unit == "factor":
        return speedup(v), interval_num(lo, hi)
    if m.unit == "tokens":
        return tokens(v, bool(row.get("tokens_estimated"))), ""
    if m.unit == "usd":
        return cost(v), ""
    if m.unit == "turns" and isinstance(m.agg, Quotient):
        return turns(row.get(m.agg.num), row.get(m.agg.den)), ""
    return ("" if v is None else str(v)), ""
