"""Maps: distances between cities and places of interest in a city."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import CITIES

# Approximate city-centre coordinates (latitude, longitude) for every catalogue city.
COORDS = {
    "Lisbon": (38.72, -9.14),
    "Lagos": (6.52, 3.38),
    "Paris": (48.86, 2.35),
    "Mumbai": (19.08, 72.88),
    "Rome": (41.90, 12.50),
    "Dubai": (25.20, 55.27),
    "Seoul": (37.57, 126.98),
    "Tokyo": (35.68, 139.69),
    "Edinburgh": (55.95, -3.19),
    "Oslo": (59.91, 10.75),
    "Hanoi": (21.03, 105.85),
    "Berlin": (52.52, 13.40),
    "Tel Aviv": (32.09, 34.78),
    "Stockholm": (59.33, 18.07),
    "Cairo": (30.04, 31.24),
    "Bangalore": (12.97, 77.59),
    "Dublin": (53.35, -6.26),
    "Madrid": (40.42, -3.70),
    "Toronto": (43.65, -79.38),
    "New York": (40.71, -74.01),
    "Chicago": (41.88, -87.63),
    "Mexico City": (19.43, -99.13),
    "Shanghai": (31.23, 121.47),
    "Istanbul": (41.01, 28.98),
    "London": (51.51, -0.13),
    "Sydney": (-33.87, 151.21),
    "San Francisco": (37.77, -122.42),
    "Singapore": (1.35, 103.82),
}

PLACE_WORDS = {
    "restaurant": ["Bistro", "Kitchen", "Table", "Grill", "Trattoria", "Canteen"],
    "cafe": ["Coffee House", "Espresso Bar", "Roasters", "Tea Room", "Bakery Cafe"],
    "museum": ["Museum of Art", "History Museum", "Science Centre", "Design Museum", "Gallery"],
    "park": ["Botanical Garden", "Riverside Park", "City Park", "Hill Gardens"],
    "pharmacy": ["Pharmacy", "Chemist", "Health Store"],
    "coworking": ["Workspace", "Hub", "Co-Lab", "Desk Club"],
}
_PREFIX = ["North", "Old Town", "Central", "Harbour", "Garden", "Station", "Market", "Riverside"]


def city_name(name: str) -> str:
    """The catalogue spelling of a city, case-insensitively; a structured error otherwise."""
    for c in CITIES:
        if c.lower() == name.strip().lower():
            return c
    raise ToolError("not_found", f"unknown city {name!r}")


class CityPair(Args):
    origin: str = Field(description="City name, e.g. Lisbon")
    destination: str = Field(description="City name, e.g. Madrid")


class Places(Args):
    city: str = Field(description="City name, e.g. Lisbon")
    category: Literal["restaurant", "cafe", "museum", "park", "pharmacy", "coworking"]
    max_results: int = Field(3, ge=1, le=10)


def distance_km(a: str, b: str) -> int:
    (la1, lo1), (la2, lo2) = COORDS[a], COORDS[b]
    p1, p2 = math.radians(la1), math.radians(la2)
    dp, dl = p2 - p1, math.radians(lo2 - lo1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * 6371 * math.asin(math.sqrt(h)))


@tool(
    "get_distance",
    CityPair,
    "Great-circle distance between two cities. Returns origin, destination, distance_km and flight_hours (a "
    "typical flight time).",
    latency=lognormal(0.06, 0.2),
    domain="maps",
)
def get_distance(a: dict, ctx: ToolContext) -> dict:
    o, d = city_name(a["origin"]), city_name(a["destination"])
    km = distance_km(o, d)
    return {"origin": o, "destination": d, "distance_km": km, "flight_hours": round(0.5 + km / 800, 1)}


@tool(
    "find_places",
    Places,
    "Find places of a category in a city, best rated first. Returns city, category and places, each with "
    "name, rating (out of 5) and address.",
    latency=lognormal(0.5, 0.3),
    domain="maps",
)
def find_places(a: dict, ctx: ToolContext) -> dict:
    city = city_name(a["city"])
    cat = a["category"]
    words = PLACE_WORDS[cat]
    out: list[dict[str, Any]] = []
    for i in range(6):
        name = (
            f"{ctx.world.choice(_PREFIX, 'pl', city, cat, i)} {ctx.world.choice(words, 'pw', city, cat, i)}"
        )
        if any(p["name"] == name for p in out):
            continue
        out.append(
            {
                "name": name,
                "rating": round(3.5 + ctx.world.rand("prate", city, cat, i) * 1.5, 1),
                "address": f"{ctx.world.randint(1, 200, 'pa', city, cat, i)} {name.split()[0]} Road, {city}",
            }
        )
    out.sort(key=lambda p: (-p["rating"], p["name"]))
    return {"city": city, "category": cat, "places": out[: a["max_results"]]}
