"""Hotels: search by city, details by id, and booking (a non-idempotent write).

Hotel ids are derived from the seed and the city, so a model can only learn them from a search.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import CITIES, World
from .maps import city_name

_NAMES = ["Grand", "Harbour View", "Old Town Inn", "Park Suites", "Central Lodge", "Riverside", "Aurora"]
_AMENITIES = ["wifi", "breakfast", "gym", "pool", "parking", "spa", "airport shuttle", "pet friendly"]
HOTELS_PER_CITY = 5


class HotelSearch(Args):
    city: str = Field(description="City name, e.g. Lisbon")
    check_in: str = Field(description="Check-in date, ISO YYYY-MM-DD")
    nights: int = Field(1, ge=1, le=30)
    max_results: int = Field(5, ge=1, le=10)


class HotelId(Args):
    hotel_id: str = Field(description="A hotel id as returned by search_hotels")


class BookHotel(Args):
    hotel_id: str
    guest_email: str
    check_in: str = Field(description="Check-in date, ISO YYYY-MM-DD")
    nights: int = Field(1, ge=1, le=30)


def _hotel(w: World, city: str, i: int) -> dict:
    name = f"{_NAMES[(i + len(city)) % len(_NAMES)]} {city}"
    n_am = w.randint(2, 5, "nam", city, i)
    start = w.randint(0, len(_AMENITIES) - 1, "am", city, i)
    return {
        "hotel_id": w.ident("htl_", city, i),
        "name": name,
        "city": city,
        "stars": w.randint(3, 5, "stars", city, i),
        "rating": round(6.5 + w.rand("hrate", city, i) * 3.4, 1),
        "price_per_night_usd": round(70 + w.rand("nightly", city, i) * 380, 2),
        "amenities": [_AMENITIES[(start + j) % len(_AMENITIES)] for j in range(n_am)],
    }


@lru_cache(maxsize=16)
def _index(seed: int) -> dict[str, tuple[str, int]]:
    w = World(seed)
    return {w.ident("htl_", c, i): (c, i) for c in CITIES for i in range(HOTELS_PER_CITY)}


def _lookup(ctx: ToolContext, hotel_id: str) -> dict:
    hit = _index(ctx.world.seed).get(hotel_id.strip().lower())
    if hit is None:
        raise ToolError("not_found", f"no hotel {hotel_id!r}")
    return _hotel(ctx.world, *hit)


@tool(
    "search_hotels",
    HotelSearch,
    "Search hotels with rooms in a city for a stay, cheapest first. Returns city, check_in, nights and "
    "hotels, each with hotel_id, name, stars and price_per_night_usd.",
    latency=lognormal(0.6, 0.35, straggler_p=0.08, straggler_mult=5.0),
    domain="hotels",
)
def search_hotels(a: dict, ctx: ToolContext) -> dict:
    city = city_name(a["city"])
    w = ctx.world
    found = []
    for i in range(HOTELS_PER_CITY):
        if w.rand("avail", city, i, a["check_in"].strip(), a["nights"]) < 0.2 and i:
            continue  # sold out for these dates (the first hotel always has rooms)
        h = _hotel(w, city, i)
        found.append({k: h[k] for k in ("hotel_id", "name", "stars", "price_per_night_usd")})
    found.sort(key=lambda h: h["price_per_night_usd"])
    return {
        "city": city,
        "check_in": a["check_in"].strip(),
        "nights": a["nights"],
        "hotels": found[: a["max_results"]],
    }


@tool(
    "get_hotel",
    HotelId,
    "Details of a hotel. Returns hotel_id, name, city, stars, rating (guest rating out of 10), "
    "price_per_night_usd and amenities.",
    latency=lognormal(0.1, 0.25),
    domain="hotels",
)
def get_hotel(a: dict, ctx: ToolContext) -> dict:
    return _lookup(ctx, a["hotel_id"])


@tool(
    "book_hotel",
    BookHotel,
    "Book a room. Not idempotent: each call books another room. Returns confirmation (booking "
    "reference), hotel (its name), check_in, nights and total_usd.",
    write=True,
    latency=lognormal(0.7, 0.25),
    domain="hotels",
)
def book_hotel(a: dict, ctx: ToolContext) -> dict:
    h = _lookup(ctx, a["hotel_id"])
    email = a["guest_email"].strip().lower()
    if "@" not in email:
        raise ToolError("invalid_arguments", f"not an email address: {a['guest_email']!r}")
    n = len(ctx.state.get("hotel_booking", h["hotel_id"], []))
    ctx.mutate("hotel_booking", h["hotel_id"], lambda old: [*(old or []), email])
    return {
        "confirmation": ctx.world.ident("HB", h["hotel_id"], email, a["check_in"].strip(), n).upper(),
        "hotel": h["name"],
        "check_in": a["check_in"].strip(),
        "nights": a["nights"],
        "total_usd": round(h["price_per_night_usd"] * a["nights"], 2),
    }
