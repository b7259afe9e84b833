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
    """Days left before this episode's requests (a seeded fact of the person)."""
    return ctx.world.randint(8, 25, "pto", key)


def _requests(ctx: ToolContext, key: str) -> list[dict]:
    return list(ctx.state.get("pto_requests", key, []))


@tool(
    "list_direct_reports",
    UserRef,
    "List the people who report directly to a user, sorted by name. Returns user_id, reports (each with id, "
    "name and email) and count.",
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
    "A user's paid time off for this year. Returns user_id, name, days_remaining (working days left after "
    "requests already submitted) and upcoming_requests (each with request_id, start_date, days, status).",
    latency=lognormal(0.08, 0.2),
    domain="hr",
)
def get_pto_balance(a: dict, ctx: ToolContext) -> dict:
    key = ctx.user_key(a["user_id"])
    requests = _requests(ctx, key)
    return {
        "user_id": a["user_id"].strip(),
        "name": ctx.world.user_record(key)["name"],
        "days_remaining": _allowance(ctx, key) - sum(r["days"] for r in requests),
        "upcoming_requests": sorted(requests, key=lambda r: (r["start_date"], r["request_id"])),
    }


@tool(
    "request_time_off",
    TimeOff,
    "Submit a time-off request for a user. Each call submits a new request and deducts the days from the "
    "balance. Returns request_id, status, start_date and days.",
    write=True,
    latency=lognormal(0.35, 0.2),
    domain="hr",
)
def request_time_off(a: dict, ctx: ToolContext) -> dict:
    key = ctx.user_key(a["user_id"])
    requests = _requests(ctx, key)
    remaining = _allowance(ctx, key) - sum(r["days"] for r in requests)
    if a["days"] > remaining:
        raise ToolError("insufficient_balance", f"only {remaining} day(s) of time off left")
    start = a["start_date"].strip()
    rid = ctx.world.ident("PTO-", key, start, a["days"], len(requests)).upper()
    req = {"request_id": rid, "start_date": start, "days": a["days"], "status": "submitted"}
    ctx.mutate("pto_requests", key, lambda old: [*(old or []), req])
    return {"request_id": rid, "status": "submitted", "start_date": start, "days": a["days"]}
