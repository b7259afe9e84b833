"""Meetings between two people: a calendar write that also names an attendee.

The meeting lands on the organiser's calendar as an event, so `list_events` sees it after the
batch that scheduled it ends.
"""

from __future__ import annotations

import re

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool

_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Meeting(Args):
    organizer_id: str = Field(description="User id of the organiser, as returned by find_user")
    attendee_email: str = Field(description="Email address of the person to invite")
    subject: str = Field(description="Meeting subject, shown in the invitation")
    date: str = Field(description="ISO date YYYY-MM-DD")
    time: str = Field(description="Local start time HH:MM (24-hour)")


@tool(
    "schedule_meeting",
    Meeting,
    "Schedule a meeting on the organiser's calendar and send the invitation to one attendee. Returns "
    "meeting_id, status, attendee_email, and the event's user_id, title, date and time.",
    write=True,
    latency=lognormal(0.45, 0.25),
    domain="calendar",
)
def schedule_meeting(a: dict, ctx: ToolContext) -> dict:
    ctx.user_key(a["organizer_id"])
    org = a["organizer_id"].strip()
    attendee = a["attendee_email"].strip().lower()
    if "@" not in attendee:
        raise ToolError("invalid_arguments", f"not an email address: {a['attendee_email']!r}")
    if not _TIME.match(a["time"].strip()):
        raise ToolError("invalid_arguments", f"time must be HH:MM, got {a['time']!r}")
    mid = ctx.world.ident("mtg_", org, attendee, a["subject"], a["date"], a["time"])
    event = {"user_id": org, "title": a["subject"], "date": a["date"].strip(), "time": a["time"].strip()}
    ctx.mutate("event", mid, lambda _old: event)
    return {"meeting_id": mid, "status": "invited", "attendee_email": attendee, **event}
