"""Currency conversion and stock quotes."""

from __future__ import annotations

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import STOCKS, USD_RATES


class Convert(Args):
    amount: float
    from_currency: str = Field(description="ISO code, e.g. USD")
    to_currency: str = Field(description="ISO code, e.g. EUR")


class Rate(Args):
    base: str
    quote: str


class Symbol(Args):
    symbol: str = Field(description="Ticker symbol, e.g. AAPL")


def _cur(code: str) -> str:
    c = code.strip().upper()
    if c not in USD_RATES:
        raise ToolError("not_found", f"unknown currency {code!r}")
    return c


@tool(
    "convert_currency",
    Convert,
    "Convert an amount between currencies at today's rate. Returns amount (converted, rounded to cents), "
    "currency and rate (units of the target currency per unit of the source).",
    latency=lognormal(0.15, 0.25),
    domain="finance",
)
def convert_currency(a: dict, ctx: ToolContext) -> dict:
    f, t = _cur(a["from_currency"]), _cur(a["to_currency"])
    rate = ctx.world.rate(f, t)
    return {"amount": round(a["amount"] * rate, 2), "currency": t, "rate": rate}


@tool(
    "get_exchange_rate",
    Rate,
    "Today's exchange rate. Returns base, quote and rate (units of `quote` per one unit of `base`).",
    latency=lognormal(0.1, 0.25),
    domain="finance",
)
def get_exchange_rate(a: dict, ctx: ToolContext) -> dict:
    b, q = _cur(a["base"]), _cur(a["quote"])
    return {"base": b, "quote": q, "rate": ctx.world.rate(b, q)}


@tool(
    "get_stock_price",
    Symbol,
    "Latest stock price for a ticker symbol. Returns symbol, company, price (USD) and change_pct (today's "
    "change, in percent).",
    latency=lognormal(0.2, 0.3, straggler_p=0.08, straggler_mult=6.0),
    domain="finance",
)
def get_stock_price(a: dict, ctx: ToolContext) -> dict:
    s = a["symbol"].strip().upper()
    if s not in STOCKS:
        raise ToolError("not_found", f"unknown symbol {a['symbol']!r}")
    return {
        "symbol": s,
        "company": STOCKS[s],
        "price": round(20 + ctx.world.rand("stock", s) * 480, 2),
        "change_pct": round(-3 + ctx.world.rand("chg", s) * 6, 2),
    }
