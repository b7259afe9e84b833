"""Support tickets: read, search and a status update (write-then-read through state)."""

from __future__ import annotations

from typing import Literal

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import TICKET_SUBJECTS, TICKETS


class TicketId(Args):
    ticket_id: str


class UpdateTicket(Args):
    ticket_id: str
    status: Literal["open", "pending", "resolved", "closed"]


class AddComment(Args):
    ticket_id: str
    comment: str


def _tid(t: str) -> str:
    tid = t.strip().upper()
    if tid not in TICKETS:
        raise ToolError("not_found", f"no ticket {t!r}")
    return tid


@tool(
    "get_ticket",
    TicketId,
    "Get a support ticket. Returns ticket_id, subject, status (open, pending, resolved or closed), priority "
    "(low, normal, high or urgent), assignee_email and comments (how many comments it has).",
    latency=lognormal(0.1, 0.25),
    domain="support",
)
def get_ticket(a: dict, ctx: ToolContext) -> dict:
    tid = _tid(a["ticket_id"])
    w = ctx.world
    return {
        "ticket_id": tid,
        "subject": w.choice(TICKET_SUBJECTS, "subj", tid),
        "status": ctx.state.get("ticket_status", tid, w.choice(["open", "pending"], "tst", tid)),
        "priority": w.choice(["low", "normal", "high", "urgent"], "prio", tid),
        "assignee_email": f"{w.choice(sorted(w.people), 'asg', tid)}@example.com",
        "comments": w.randint(0, 3, "ncomments", tid) + len(ctx.state.get("ticket_comments", tid, [])),
    }


@tool(
    "update_ticket",
    UpdateTicket,
    "Set a ticket's status. Returns ticket_id, status and result.",
    write=True,
    latency=lognormal(0.25, 0.2),
    domain="support",
)
def update_ticket(a: dict, ctx: ToolContext) -> dict:
    tid = _tid(a["ticket_id"])
    ctx.mutate("ticket_status", tid, lambda _old: a["status"])
    return {"ticket_id": tid, "status": a["status"], "result": "updated"}


@tool(
    "add_ticket_comment",
    AddComment,
    "Add a comment to a ticket. Each call adds one comment. Returns ticket_id and result.",
    write=True,
    latency=lognormal(0.2, 0.2),
    domain="support",
)
def add_ticket_comment(a: dict, ctx: ToolContext) -> dict:
    tid = _tid(a["ticket_id"])
    ctx.mutate("ticket_comments", tid, lambda old: [*(old or []), a["comment"]])
    return {"ticket_id": tid, "result": "comment added"}
