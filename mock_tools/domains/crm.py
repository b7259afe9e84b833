"""CRM: customer accounts, their contacts, and logging an activity (a write)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import TODAY, World

ACCOUNTS = [
    # (company, industry, headquarters city)
    ("Acme Corp", "manufacturing", "Chicago"),
    ("Globex", "energy", "Toronto"),
    ("Initech", "software", "San Francisco"),
    ("Umbrella Health", "healthcare", "London"),
    ("Stark Logistics", "logistics", "Berlin"),
    ("Wayne Foods", "food", "New York"),
    ("Hooli", "software", "San Francisco"),
    ("Vandelay Imports", "retail", "Madrid"),
    ("Soylent Labs", "biotech", "Stockholm"),
    ("Cyberdyne Systems", "robotics", "Tokyo"),
    ("Oceanic Airlines", "travel", "Sydney"),
    ("Tyrell Retail", "retail", "Singapore"),
]
_FIRST = ["Alex", "Jordan", "Morgan", "Casey", "Riley", "Taylor", "Jamie", "Robin", "Avery", "Drew"]
_LAST = ["Reyes", "Novak", "Khan", "Okoro", "Larsen", "Duarte", "Ibrahim", "Weber", "Ito", "Moreau"]
_ROLES = ["CTO", "Head of Procurement", "VP Finance", "Operations Lead", "IT Manager"]
_PAST_ACTIVITY = [
    ("call", "Quarterly check-in"),
    ("email", "Sent the pricing proposal"),
    ("meeting", "Product demo"),
    ("note", "Asked about renewal terms"),
    ("call", "Followed up on a support escalation"),
]


class Company(Args):
    company: str = Field(description="Company name, e.g. Acme Corp")


class AccountId(Args):
    account_id: str = Field(description="An account id as returned by find_account")


class LogActivity(Args):
    account_id: str
    kind: Literal["call", "email", "meeting", "note"]
    summary: str


class Reassign(Args):
    account_id: str
    owner_email: str = Field(description="Email of the new account owner")


def _slug(company: str) -> str:
    return company.lower().split()[0]


@lru_cache(maxsize=16)
def _ids(seed: int) -> dict[str, int]:
    w = World(seed)
    return {w.ident("acc_", c[0]): i for i, c in enumerate(ACCOUNTS)}


def _account(ctx: ToolContext, i: int) -> dict:
    w = ctx.world
    company, industry, city = ACCOUNTS[i]
    aid = w.ident("acc_", company)
    owner = w.choice(sorted(w.people), "acc_owner", company)
    return {
        "account_id": aid,
        "company": company,
        "industry": industry,
        "city": city,
        "tier": w.choice(["standard", "premium", "enterprise"], "acc_tier", company),
        "stage": w.choice(["prospect", "negotiation", "customer", "renewal due"], "acc_stage", company),
        "annual_value_usd": w.randint(20, 900, "acc_value", company) * 1000,
        "owner_email": ctx.state.get("account_owner", aid, f"{owner}@example.com"),
        "last_activity": _last_activity(ctx, aid, company),
    }


def _last_activity(ctx: ToolContext, aid: str, company: str) -> dict:
    """The newest activity on the account: one logged in this episode, else its seeded history."""
    logged = ctx.state.get("crm_activity", aid, [])
    if logged:
        return dict(logged[-1])
    w = ctx.world
    kind, summary = w.choice(_PAST_ACTIVITY, "acc_act", company)
    day = w.randint(1, 27, "acc_act_day", company)
    return {
        "activity_id": w.ident("act_", aid, "history"),
        "kind": kind,
        "summary": summary,
        "date": f"{TODAY[:-2]}{day:02d}",
    }


def _by_id(ctx: ToolContext, account_id: str) -> int:
    i = _ids(ctx.world.seed).get(account_id.strip().lower())
    if i is None:
        raise ToolError("not_found", f"no account {account_id!r}")
    return i


@tool(
    "find_account",
    Company,
    "Look up a customer account by company name. Returns account_id, company, industry, city, tier, stage, "
    "annual_value_usd, owner_email (the account owner) and last_activity (kind, summary, date).",
    latency=lognormal(0.25, 0.3),
    domain="crm",
)
def find_account(a: dict, ctx: ToolContext) -> dict:
    q = a["company"].strip().lower()
    for i, (company, _, _) in enumerate(ACCOUNTS):
        if q in (company.lower(), _slug(company)):
            return _account(ctx, i)
    raise ToolError("not_found", f"no account for company {a['company']!r}")


@tool(
    "list_contacts",
    AccountId,
    "List the people we deal with at a customer account, primary contact first. Returns account_id, "
    "company and contacts, each with name, role, email and primary.",
    latency=lognormal(0.15, 0.25),
    domain="crm",
)
def list_contacts(a: dict, ctx: ToolContext) -> dict:
    i = _by_id(ctx, a["account_id"])
    w = ctx.world
    company = ACCOUNTS[i][0]
    n = w.randint(2, 4, "ncontacts", company)
    contacts, seen = [], set()
    for j in range(n):
        first = w.choice(_FIRST, "cf", company, j)
        last = w.choice(_LAST, "cl", company, j)
        if (first, last) in seen:
            continue
        seen.add((first, last))
        contacts.append(
            {
                "name": f"{first} {last}",
                "role": _ROLES[(j + i) % len(_ROLES)],
                "email": f"{first.lower()}.{last.lower()}@{_slug(company)}.example",
                "primary": j == 0,
            }
        )
    return {"account_id": a["account_id"].strip().lower(), "company": company, "contacts": contacts}


@tool(
    "log_activity",
    LogActivity,
    "Record a call, email, meeting or note on a customer account. Each call adds one entry. Returns "
    "activity_id, account_id, company and status.",
    write=True,
    latency=lognormal(0.3, 0.2),
    domain="crm",
)
def log_activity(a: dict, ctx: ToolContext) -> dict:
    i = _by_id(ctx, a["account_id"])
    aid = a["account_id"].strip().lower()
    n = len(ctx.state.get("crm_activity", aid, []))
    act_id = ctx.world.ident("act_", aid, a["kind"], a["summary"], n)
    entry = {"activity_id": act_id, "kind": a["kind"], "summary": a["summary"], "date": TODAY}
    ctx.mutate("crm_activity", aid, lambda old: [*(old or []), entry])
    return {"activity_id": act_id, "account_id": aid, "company": ACCOUNTS[i][0], "status": "logged"}


@tool(
    "reassign_account",
    Reassign,
    "Make someone else the owner of a customer account. Returns account_id, company, owner_email and "
    "previous_owner.",
    write=True,
    latency=lognormal(0.3, 0.2),
    domain="crm",
)
def reassign_account(a: dict, ctx: ToolContext) -> dict:
    i = _by_id(ctx, a["account_id"])
    aid = a["account_id"].strip().lower()
    email = a["owner_email"].strip().lower()
    if email not in ctx.world.emails:
        raise ToolError("not_found", f"no employee with email {a['owner_email']!r}")
    previous = _account(ctx, i)["owner_email"]
    ctx.mutate("account_owner", aid, lambda _old: email)
    return {"account_id": aid, "company": ACCOUNTS[i][0], "owner_email": email, "previous_owner": previous}
