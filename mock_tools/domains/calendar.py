"""Calendars and email: reads of a day's events, event creation and sending mail (writes)."""

from __future__ import annotations

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import TODAY


class ListEvents(Args):
    user_id: str
    date: str = Field(description="ISO date YYYY-MM-DD")


class CreateEvent(Args):
    user_id: str
    title: str
    date: str
    time: str = Field(description="Local start time HH:MM")


class SendEmail(Args):
    to: str = Field(description="Recipient email address")
    subject: str
    body: str


class Mailbox(Args):
    email: str


_TITLES = ["Standup", "1:1", "Design review", "Customer call", "Planning", "Lunch", "Interview", "Retro"]
_SUBJECTS = [
    "Weekly update",
    "Invoice October",
    "Re: offsite dates",
    "Team lunch on Friday",
    "Security training",
]


@tool(
    "list_events",
    ListEvents,
    "List a user's calendar events on a date, earliest first. Returns user_id, date and events, each with "
    "event_id, title and time (local HH:MM).",
    latency=lognormal(0.15, 0.25),
    domain="calendar",
)
def list_events(a: dict, ctx: ToolContext) -> dict:
    key = ctx.user_key(a["user_id"])
    n = ctx.world.randint(1, 4, "nev", key, a["date"])
    events = [
        {
            "title": ctx.world.choice(_TITLES, "evt", key, a["date"], i),
            "time": f"{9 + 2 * i:02d}:00",
            "event_id": ctx.world.ident("ev_", key, a["date"], i),
        }
        for i in range(n)
    ]
    for (kind, k), ev in sorted(ctx.state.data.items()):
        if kind == "event" and ev["user_id"] == a["user_id"] and ev["date"] == a["date"]:
            events.append({"title": ev["title"], "time": ev["time"], "event_id": k})
    return {"user_id": a["user_id"], "date": a["date"], "events": sorted(events, key=lambda e: e["time"])}


@tool(
    "create_event",
    CreateEvent,
    "Create a calendar event for a user. Returns event_id, status, and the event's user_id, title, date and "
    "time.",
    write=True,
    latency=lognormal(0.3, 0.2),
    domain="calendar",
)
def create_event(a: dict, ctx: ToolContext) -> dict:
    ctx.user_key(a["user_id"])
    eid = ctx.world.ident("ev_", a["user_id"], a["title"], a["date"], a["time"])
    ctx.mutate("event", eid, lambda _old: dict(a))
    return {"event_id": eid, "status": "created", **a}


@tool(
    "send_email",
    SendEmail,
    "Send an email. Each call sends one message. Returns message_id, status and to.",
    write=True,
    latency=lognormal(0.4, 0.2),
    domain="calendar",
)
def send_email(a: dict, ctx: ToolContext) -> dict:
    to = a["to"].strip().lower()
    if "@" not in to:
        raise ToolError("invalid_arguments", f"not an email address: {a['to']!r}")
    mid = ctx.world.ident("m_", to, a["subject"], a["body"])
    message = {"id": mid, "subject": a["subject"], "received": TODAY}
    ctx.mutate("mailbox", to, lambda old: [*(old or []), message])
    return {"message_id": mid, "status": "sent", "to": to}


@tool(
    "list_inbox",
    Mailbox,
    "List the messages in an address's inbox, oldest first. Returns email and messages, each with id, "
    "subject and received (date).",
    latency=lognormal(0.12, 0.2),
    domain="calendar",
)
def list_inbox(a: dict, ctx: ToolContext) -> dict:
    to = a["email"].strip().lower()
    w = ctx.world
    earlier = [
        {
            "id": w.ident("m_", to, "inbox", i),
            "subject": w.choice(_SUBJECTS, "inbox", to, i),
            "received": f"{TODAY[:-2]}{20 + 2 * i:02d}",
        }
        for i in range(w.randint(1, 3, "ninbox", to))
    ]
    return {"email": to, "messages": earlier + list(ctx.state.get("mailbox", to, []))}
