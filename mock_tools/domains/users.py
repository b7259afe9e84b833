"""People directory: lookups by email, id and manager, plus a profile write."""

from __future__ import annotations

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool


class FindUser(Args):
    email: str = Field(description="The user's email address")


class UserId(Args):
    user_id: str = Field(description="A user id as returned by find_user")


class UpdateAddress(Args):
    user_id: str
    address: str = Field(description="The new postal address")


def user_view(ctx: ToolContext, key: str) -> dict:
    rec = ctx.world.user_record(key)
    rec["address"] = ctx.state.get("address", rec["id"], f"{10 + len(key)} Main Street, {rec['city']}")
    return rec


@tool(
    "find_user",
    FindUser,
    "Look up a user by email address. Returns the user's profile: id, name, email, city, timezone, department, "
    "manager_id, phone and address.",
    latency=lognormal(0.08, 0.2),
    domain="users",
)
def find_user(a: dict, ctx: ToolContext) -> dict:
    key = ctx.world.emails.get(a["email"].strip().lower())
    if key is None:
        raise ToolError("not_found", f"no user with email {a['email']!r}")
    return user_view(ctx, key)


@tool(
    "get_user",
    UserId,
    "Get a user's profile by user id. Returns id, name, email, city, timezone, department, manager_id, phone "
    "and address.",
    latency=lognormal(0.06, 0.2),
    domain="users",
)
def get_user(a: dict, ctx: ToolContext) -> dict:
    return user_view(ctx, ctx.user_key(a["user_id"]))


@tool(
    "get_manager",
    UserId,
    "Get the profile of a user's manager, given the user's id. Returns the manager's id, name, email, city, "
    "timezone, department, manager_id, phone and address.",
    latency=lognormal(0.1, 0.2),
    domain="users",
)
def get_manager(a: dict, ctx: ToolContext) -> dict:
    rec = ctx.world.user_record(ctx.user_key(a["user_id"]))
    if rec["manager_id"] is None:
        raise ToolError("not_found", f"user {a['user_id']} has no manager")
    return user_view(ctx, ctx.world.user_ids[rec["manager_id"]])


@tool(
    "update_address",
    UpdateAddress,
    "Change a user's postal address. Returns user_id, address and status.",
    write=True,
    latency=lognormal(0.25, 0.2),
    domain="users",
)
def update_address(a: dict, ctx: ToolContext) -> dict:
    ctx.user_key(a["user_id"])
    ctx.mutate("address", a["user_id"], lambda _old: a["address"])
    return {"user_id": a["user_id"], "address": a["address"], "status": "updated"}
