"""Flights: search, status and booking (a write whose id derives from its inputs)."""

from __future__ import annotations

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import AIRLINES, AIRPORTS


class Search(Args):
    origin: str = Field(description="IATA airport code, e.g. LIS")
    destination: str = Field(description="IATA airport code, e.g. JFK")
    date: str = Field(description="ISO date YYYY-MM-DD")


class FlightId(Args):
    flight_id: str


class Book(Args):
    flight_id: str
    passenger_email: str


def _apt(code: str) -> str:
    c = code.strip().upper()
    if c not in AIRPORTS:
        raise ToolError("not_found", f"unknown airport {code!r}")
    return c


def _flights(ctx: ToolContext, o: str, d: str, date: str) -> list[dict]:
    n = ctx.world.randint(2, 4, "nflights", o, d, date)
    out = []
    for i in range(n):
        al = ctx.world.choice(AIRLINES, "al", o, d, date, i)
        num = ctx.world.randint(100, 999, "fn", o, d, date, i)
        out.append(
            {
                "flight_id": f"{al}{num}-{date}",
                "origin": o,
                "destination": d,
                "date": date,
                "departure": f"{6 + 3 * i:02d}:{ctx.world.randint(0, 5, 'dm', o, d, date, i) * 10:02d}",
                "price_usd": round(120 + ctx.world.rand("fare", o, d, date, i) * 880, 2),
            }
        )
    return sorted(out, key=lambda f: f["price_usd"])


@tool(
    "search_flights",
    Search,
    "Search flights between two airports on a date, cheapest first. Returns flights, each with flight_id "
    "(airline code, flight number and date, e.g. TP123-2026-11-14), origin, destination, date, departure "
    "(local HH:MM) and price_usd.",
    latency=lognormal(0.8, 0.35, straggler_p=0.1, straggler_mult=5.0),
    domain="travel",
)
def search_flights(a: dict, ctx: ToolContext) -> dict:
    o, d = _apt(a["origin"]), _apt(a["destination"])
    if o == d:
        raise ToolError("invalid_arguments", "origin and destination are the same")
    return {"flights": _flights(ctx, o, d, a["date"].strip())}


@tool(
    "get_flight_status",
    FlightId,
    "Current status of a flight. Returns flight_id, status (on_time, delayed or cancelled), gate and "
    "seats_available (seats still for sale; a cancelled flight has no gate and none for sale).",
    latency=lognormal(0.15, 0.25),
    domain="travel",
)
def get_flight_status(a: dict, ctx: ToolContext) -> dict:
    fid = a["flight_id"].strip().upper()
    if "-" not in fid or len(fid) < 6:
        raise ToolError("not_found", f"unknown flight {a['flight_id']!r}")
    booked = ctx.state.get("booking", fid)
    status = ctx.world.choice(["on_time", "on_time", "delayed", "cancelled"], "fs", fid)
    if status == "cancelled":  # no gate and nothing for sale on a cancelled flight
        return {"flight_id": fid, "status": status, "gate": None, "seats_available": 0}
    return {
        "flight_id": fid,
        "status": status,
        "gate": f"{ctx.world.choice('ABCDE', 'gate', fid)}{ctx.world.randint(1, 40, 'gn', fid)}",
        "seats_available": max(0, _seats_open(ctx, fid) - len(booked or [])),
    }


def _seats_open(ctx: ToolContext, fid: str) -> int:
    """Seats for sale before this episode's bookings (a seeded fact of the flight)."""
    return ctx.world.randint(6, 48, "seats", fid)


@tool(
    "book_flight",
    Book,
    "Book a seat on a flight for a passenger. Not idempotent: each call books another seat. Returns "
    "confirmation (booking reference), flight_id and passenger_email.",
    write=True,
    latency=lognormal(0.6, 0.25),
    domain="travel",
)
def book_flight(a: dict, ctx: ToolContext) -> dict:
    fid = a["flight_id"].strip().upper()
    if "-" not in fid:
        raise ToolError("not_found", f"unknown flight {a['flight_id']!r}")
    if "@" not in a["passenger_email"]:
        raise ToolError("invalid_arguments", f"not an email address: {a['passenger_email']!r}")
    n = len(ctx.state.get("booking", fid) or [])
    ctx.mutate("booking", fid, lambda old: [*(old or []), a["passenger_email"]])
    return {
        "confirmation": ctx.world.ident("BK", fid, a["passenger_email"], n).upper(),
        "flight_id": fid,
        "passenger_email": a["passenger_email"],
    }
