"""Weather and local time by city."""

from __future__ import annotations

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import CITIES, TODAY


class CityDate(Args):
    city: str = Field(description="City name, e.g. Lisbon")
    date: str | None = Field(None, description=f"ISO date (YYYY-MM-DD); omit for today ({TODAY})")


class City(Args):
    city: str


def _city(name: str) -> str:
    for c in CITIES:
        if c.lower() == name.strip().lower():
            return c
    raise ToolError("not_found", f"unknown city {name!r}")


@tool(
    "get_weather",
    CityDate,
    "Current weather (or the forecast for a date) in a city. Returns city, date, condition (sunny, cloudy, "
    "rain, windy, snow or fog), temp_c and humidity (%).",
    latency=lognormal(0.3, 0.3),
    domain="weather",
    default_aliases={"date": ["today", TODAY]},
)
def get_weather(a: dict, ctx: ToolContext) -> dict:
    date = (a["date"] or "").strip()
    return ctx.world.weather(_city(a["city"]), None if date.lower() in ("", "today") else date)


@tool(
    "get_air_quality",
    City,
    "Air quality in a city right now. Returns city, aqi (US AQI, 0-500; higher is worse) and category.",
    latency=lognormal(0.35, 0.35),
    domain="weather",
)
def get_air_quality(a: dict, ctx: ToolContext) -> dict:
    city = _city(a["city"])
    aqi = ctx.world.randint(10, 180, "aqi", city)
    return {"city": city, "aqi": aqi, "category": _aqi_category(aqi)}


def _aqi_category(aqi: int) -> str:
    for top, name in ((50, "good"), (100, "moderate"), (150, "unhealthy for sensitive groups")):
        if aqi <= top:
            return name
    return "unhealthy"


@tool(
    "get_local_time",
    City,
    "The current local time in a city. Returns city, local_time (24-hour HH:MM), date, timezone (IANA "
    "name), utc_offset and country.",
    latency=lognormal(0.05, 0.2),
    domain="weather",
)
def get_local_time(a: dict, ctx: ToolContext) -> dict:
    return ctx.world.local_time(_city(a["city"]))
