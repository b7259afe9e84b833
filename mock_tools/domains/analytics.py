"""Product analytics: monthly business metrics from a (slow, occasionally very slow) warehouse."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool

Metric = Literal[
    "signups", "active_users", "revenue_usd", "churn_rate", "conversion_rate", "support_tickets", "page_views"
]
# metric: (low, high, decimals); rates are percentages.
_RANGES = {
    "signups": (800, 9000, 0),
    "active_users": (20000, 250000, 0),
    "revenue_usd": (150000, 2400000, 0),
    "churn_rate": (0.8, 6.5, 1),
    "conversion_rate": (1.2, 9.8, 1),
    "support_tickets": (150, 4200, 0),
    "page_views": (300000, 9000000, 0),
}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class MetricQuery(Args):
    metric: Metric
    month: str = Field(description="Calendar month, YYYY-MM")


@tool(
    "get_metric",
    MetricQuery,
    "Value of a business metric for one month (rates are percentages, revenue is in USD). Runs a warehouse "
    "query: slow. Returns metric, month and value.",
    latency=lognormal(1.2, 0.35, straggler_p=0.1, straggler_mult=4.0),
    domain="analytics",
)
def get_metric(a: dict, ctx: ToolContext) -> dict:
    month = a["month"].strip()
    if not _MONTH.match(month):
        raise ToolError("invalid_arguments", f"month must look like 2026-09, got {a['month']!r}")
    if month > "2026-10":
        raise ToolError("not_found", f"no data yet for {month}")
    lo, hi, dec = _RANGES[a["metric"]]
    raw = lo + ctx.world.rand("metric", a["metric"], month) * (hi - lo)
    value: float | int = round(raw, 1) if dec else int(raw)
    return {"metric": a["metric"], "month": month, "value": value}
