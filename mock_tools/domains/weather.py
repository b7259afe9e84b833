"""Weather and local time by city."""

from __future__ import annotations

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import CITIES


class CityDate(Args):
    city: str = Field(description="City name, e.g. Lisbon")
    date: str | None = Field(None, description="ISO date (YYYY-MM-DD); omit for today")


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
    "Current weather (or the forecast for a date) in a city: condition, temp_c, humidity.",
    latency=lognormal(0.3, 0.3),
    domain="weather",
    default_aliases={"date": ["today"]},
)
def get_weather(a: dict, ctx: ToolContext) -> dict:
    date = a["date"]
    return ctx.world.weather(_city(a["city"]), None if date and date.strip().lower() == "today" else date)


@tool(
    "get_air_quality",
    City,
    "Air quality index (AQI) for a city.",
    latency=lognormal(0.35, 0.35),
    domain="weather",
)
def get_air_quality(a: dict, ctx: ToolContext) -> dict:
    city = _city(a["city"])
    return {"city": city, "aqi": ctx.world.randint(10, 180, "aqi", city)}


@tool(
    "get_local_time",
    City,
    "The local time and UTC offset in a city.",
    latency=lognormal(0.05, 0.2),
    domain="weather",
)
def get_local_time(a: dict, ctx: ToolContext) -> dict:
    city = _city(a["city"])
    hour = ctx.world.randint(0, 23, "hour", city)
    minute = ctx.world.randint(0, 59, "minute", city)
    return {"city": city, "local_time": f"{hour:02d}:{minute:02d}", "country": CITIES[city][0]}
