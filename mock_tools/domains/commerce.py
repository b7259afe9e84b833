"""Shop: orders, products, inventory and a cart (a non-idempotent write)."""

from __future__ import annotations

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool


class ListOrders(Args):
    user_id: str
    limit: int = Field(5, ge=1, le=20, description="How many of the most recent orders to return")


class OrderId(Args):
    order_id: str


class ProductId(Args):
    product_id: str = Field(description="A product SKU such as SKU-1004")


class SearchProducts(Args):
    query: str
    max_results: int = Field(5, ge=1, le=20)


class Inventory(Args):
    product_id: str
    warehouse: str = Field("main", description="Warehouse code: main, east or west")


class UserOnly(Args):
    user_id: str


class AddToCart(Args):
    user_id: str
    product_id: str
    quantity: int = Field(1, ge=1, le=10)


def _sku(ctx: ToolContext, sku: str) -> str:
    s = sku.strip().upper()
    if s not in ctx.world.products:
        raise ToolError("not_found", f"no product {sku!r}")
    return s


@tool(
    "list_orders",
    ListOrders,
    "List a user's most recent orders, newest first. Returns orders, each with id, date, status "
    "(processing, shipped or delivered) and total (USD).",
    latency=lognormal(0.15, 0.25),
    domain="commerce",
)
def list_orders(a: dict, ctx: ToolContext) -> dict:
    key = ctx.user_key(a["user_id"])
    recs = [ctx.world.order_record(key, i) for i in range(len(ctx.world.order_ids(key)))][: a["limit"]]
    return {"orders": [{k: r[k] for k in ("id", "date", "status", "total")} for r in recs]}


@tool(
    "get_order",
    OrderId,
    "Get one order. Returns id, user_id, date, status (processing, shipped or delivered), items (each with "
    "product_id and quantity) and total (USD).",
    latency=lognormal(0.1, 0.25),
    domain="commerce",
)
def get_order(a: dict, ctx: ToolContext) -> dict:
    rec = ctx.world.find_order(a["order_id"].strip())
    if rec is None:
        raise ToolError("not_found", f"no order {a['order_id']!r}")
    rec["status"] = ctx.state.get("order_status", rec["id"], rec["status"])
    return rec


@tool(
    "get_product",
    ProductId,
    "Get a product by SKU. Returns id, name, category, price, currency and rating (out of 5).",
    latency=lognormal(0.07, 0.2),
    domain="commerce",
)
def get_product(a: dict, ctx: ToolContext) -> dict:
    return ctx.world.product_record(_sku(ctx, a["product_id"]))


@tool(
    "search_products",
    SearchProducts,
    "Full-text search over the product catalogue. Returns results, each with id, name and price (USD).",
    latency=lognormal(0.45, 0.3),
    domain="commerce",
)
def search_products(a: dict, ctx: ToolContext) -> dict:
    words = a["query"].lower().split()
    hits = [
        {"id": sku, "name": name, "price": ctx.world.price(sku)}
        for sku, (name, cat) in sorted(ctx.world.products.items())
        if any(w in name.lower() or w in cat for w in words)
    ]
    return {"results": hits[: a["max_results"]]}


@tool(
    "check_inventory",
    Inventory,
    "How many units of a product are in stock in a warehouse. Returns product_id, warehouse and in_stock.",
    latency=lognormal(0.12, 0.3, straggler_p=0.05, straggler_mult=8.0),
    domain="commerce",
)
def check_inventory(a: dict, ctx: ToolContext) -> dict:
    sku = _sku(ctx, a["product_id"])
    wh = a["warehouse"].strip().lower()
    if wh not in ("main", "east", "west"):
        raise ToolError("not_found", f"no warehouse {a['warehouse']!r}")
    return {"product_id": sku, "warehouse": wh, "in_stock": ctx.world.stock_level(sku, wh)}


@tool(
    "add_to_cart",
    AddToCart,
    "Add units of a product to a user's cart. Calling it twice adds twice. Returns user_id, product_id and "
    "quantity_in_cart.",
    write=True,
    latency=lognormal(0.2, 0.2),
    domain="commerce",
)
def add_to_cart(a: dict, ctx: ToolContext) -> dict:
    ctx.user_key(a["user_id"])
    sku = _sku(ctx, a["product_id"])
    before = dict(ctx.state.get("cart", a["user_id"], {}))
    ctx.mutate(
        "cart", a["user_id"], lambda old: {**(old or {}), sku: (old or {}).get(sku, 0) + a["quantity"]}
    )
    return {
        "user_id": a["user_id"],
        "product_id": sku,
        "quantity_in_cart": before.get(sku, 0) + a["quantity"],
    }


@tool(
    "get_cart",
    UserOnly,
    "Show a user's cart. Returns user_id, items (each with product_id and quantity) and total (USD).",
    latency=lognormal(0.08, 0.2),
    domain="commerce",
)
def get_cart(a: dict, ctx: ToolContext) -> dict:
    ctx.user_key(a["user_id"])
    cart = ctx.state.get("cart", a["user_id"], {})
    items = [{"product_id": k, "quantity": v} for k, v in sorted(cart.items())]
    return {
        "user_id": a["user_id"],
        "items": items,
        "total": round(sum(ctx.world.price(k) * v for k, v in cart.items()), 2),
    }
