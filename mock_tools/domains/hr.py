"""HR on top of the people directory: reporting lines, leave balances and time-off requests.

The reporting tree is the fixed `MANAGERS` catalogue, so prompts may rely on who reports to whom;
balances are seeded, and a time-off request (a write) lowers the balance seen by later batches.
"""

from __future__ import annotations

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import MANAGERS


class UserRef(Args):
    user_id: str = Field(description="A user id as returned by find_user")


class TimeOff(Args):
    user_id: str
    start_date: str = Field(description="First day off, ISO date YYYY-MM-DD")
    days: int = Field(ge=1, le=30, description="Number of working days requested")


def _allowance(ctx: ToolContext, key: str) -> int:
    return ctx.world.randint(8, 25, "pto", key)


@tool(
    "list_direct_reports",
    UserRef,
    "List the people who report directly to a user (id, name, email), sorted by name.",
    latency=lognormal(0.12, 0.25),
    domain="hr",
)
def list_direct_reports(a: dict, ctx: ToolContext) -> dict:
    key = ctx.user_key(a["user_id"])
    first = ctx.world.people[key][0]
    reports = []
    for name, mgr in MANAGERS.items():
        if mgr == first:
            rec = ctx.world.user_record(name.lower())
            reports.append({"id": rec["id"], "name": rec["name"], "email": rec["email"]})
    reports.sort(key=lambda r: r["name"])
    return {"user_id": a["user_id"].strip(), "reports": reports, "count": len(reports)}


@tool(
    "get_pto_balance",
    UserRef,
    "A user's remaining paid time off for this year, in working days.",
    latency=lognormal(0.08, 0.2),
    domain="hr",
)
def get_pto_balance(a: dict, ctx: ToolContext) -> dict:
    key = ctx.user_key(a["user_id"])
    taken = ctx.state.get("pto_taken", key, 0)
    total = _allowance(ctx, key)
    return {
        "user_id": a["user_id"].strip(),
        "name": ctx.world.user_record(key)["name"],
        "days_remaining": total - taken,
        "days_requested_this_session": taken,
    }


@tool(
    "request_time_off",
    TimeOff,
    "Submit a time-off request for a user. Each call submits a new request and deducts the days.",
    write=True,
    latency=lognormal(0.35, 0.2),
    domain="hr",
)
def request_time_off(a: dict, ctx: ToolContext) -> dict:
    key = ctx.user_key(a["user_id"])
    remaining = _allowance(ctx, key) - ctx.state.get("pto_taken", key, 0)
    if a["days"] > remaining:
        raise ToolError("insufficient_balance", f"only {remaining} day(s) of time off left")
    ctx.mutate("pto_taken", key, lambda old: (old or 0) + a["days"])
    rid = ctx.world.ident("PTO-", key, a["start_date"].strip(), a["days"]).upper()
    return {
        "request_id": rid,
        "status": "submitted",
        "start_date": a["start_date"].strip(),
        "days": a["days"],
    }
