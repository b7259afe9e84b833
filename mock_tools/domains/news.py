"""News headlines by topic; which stories lead depends on the seed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, tool

HEADLINES = {
    "technology": [
        "Chipmakers race to ship faster AI accelerators",
        "Open-source database hits version 10",
        "Regulators probe app store fees",
        "Battery startup claims ten-minute charging",
        "Satellite internet expands to rural schools",
        "Browser makers agree on new privacy standard",
    ],
    "business": [
        "Central bank holds interest rates steady",
        "Retail sales beat expectations in October",
        "Shipping costs fall to two-year low",
        "Airline merger wins approval",
        "Coffee prices climb after poor harvest",
        "Tech giant announces record buyback",
    ],
    "science": [
        "Telescope spots water vapour on distant planet",
        "New antibiotic class found in soil bacteria",
        "Researchers map the fruit fly brain",
        "Ocean survey finds deep-sea coral forest",
        "Fusion experiment sustains plasma for a record time",
    ],
    "sports": [
        "Underdogs win the cup final on penalties",
        "Marathon record falls in Berlin",
        "Tennis star announces retirement",
        "League expands to two new cities",
        "Cycling team unveils lighter bike",
    ],
    "health": [
        "Study links short walks to better sleep",
        "Flu season starts early this year",
        "New guidelines on screen time for children",
        "Hospital waiting times fall for third month",
        "Trial shows promise for migraine treatment",
    ],
    "climate": [
        "Record solar output across Europe this summer",
        "Glacier retreat accelerates in the Alps",
        "City bans petrol cars from centre",
        "Offshore wind farm opens ahead of schedule",
        "Heat pumps outsell gas boilers for the first time",
    ],
}
_SOURCES = ["Daily Ledger", "Morning Post", "Wire Service", "Global Times", "City Herald"]


class Topic(Args):
    topic: Literal["technology", "business", "science", "sports", "health", "climate"]
    max_results: int = Field(3, ge=1, le=6)


@tool(
    "get_headlines",
    Topic,
    "Today's top news headlines on a topic, most important first. Returns topic and articles, each with "
    "headline and source.",
    latency=lognormal(0.45, 0.3),
    domain="news",
)
def get_headlines(a: dict, ctx: ToolContext) -> dict:
    pool = HEADLINES[a["topic"]]
    order = sorted(range(len(pool)), key=lambda i: ctx.world.rand("news", a["topic"], i))
    items = [
        {"headline": pool[i], "source": ctx.world.choice(_SOURCES, "src", a["topic"], i)}
        for i in order[: a["max_results"]]
    ]
    return {"topic": a["topic"], "articles": items}
