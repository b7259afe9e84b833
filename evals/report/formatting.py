"""How numbers read on the page and in Markdown; one place so HTML and Markdown never disagree.

Missing values read as "n/a" (undefined, e.g. no parallelisable node) except cost, which reads
"unknown": an unknown price is not a free model.
"""

from __future__ import annotations

NA = "n/a"
UNKNOWN_COST = "unknown"


def pct(v: float | None, digits: int = 1) -> str:
    return NA if v is None else f"{100 * v:.{digits}f}%"


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
