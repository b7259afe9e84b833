"""Document search and retrieval, and a slow report generator."""

from __future__ import annotations

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool


class Query(Args):
    query: str
    max_results: int = Field(3, ge=1, le=10)


class DocId(Args):
    doc_id: str = Field(description="Document id such as DOC-203")


class Report(Args):
    department: str
    quarter: str = Field(description="Quarter such as 2026-Q3")


@tool(
    "search_documents",
    Query,
    "Search internal documents, best match first. Returns results, each with doc_id and title.",
    latency=lognormal(0.5, 0.3),
    domain="docs",
)
def search_documents(a: dict, ctx: ToolContext) -> dict:
    words = [w for w in a["query"].lower().split() if len(w) > 2]
    scored = []
    for doc_id, title, topics in ctx.world.documents.values():
        score = sum(w in topics or w in title.lower() for w in words)
        if score:
            scored.append((-score, doc_id, title))
    scored.sort()
    return {"results": [{"doc_id": d, "title": t} for _, d, t in scored[: a["max_results"]]]}


@tool(
    "get_document",
    DocId,
    "Fetch a document. Returns doc_id, title, owner_email, updated (date last updated) and summary.",
    latency=lognormal(0.2, 0.25),
    domain="docs",
)
def get_document(a: dict, ctx: ToolContext) -> dict:
    d = ctx.world.documents.get(a["doc_id"].strip().upper())
    if d is None:
        raise ToolError("not_found", f"no document {a['doc_id']!r}")
    owner = ctx.world.choice(sorted(ctx.world.people), "owner", d[0])
    return {
        "doc_id": d[0],
        "title": d[1],
        "owner_email": f"{owner}@example.com",
        "updated": f"2026-{ctx.world.randint(1, 10, 'm', d[0]):02d}-{ctx.world.randint(1, 28, 'd', d[0]):02d}",
        "summary": f"{d[1]}: covers {d[2].split()[0]} and {d[2].split()[-1]}.",
    }


@tool(
    "generate_report",
    Report,
    "Generate a department's quarterly KPI report (slow). Returns department, quarter, revenue_usd, "
    "headcount and report_id.",
    latency=lognormal(2.0, 0.3),
    domain="docs",
)
def generate_report(a: dict, ctx: ToolContext) -> dict:
    dept = a["department"].strip().title()
    return {
        "department": dept,
        "quarter": a["quarter"].strip().upper(),
        "revenue_usd": ctx.world.randint(100, 900, "rev", dept, a["quarter"]) * 1000,
        "headcount": ctx.world.randint(5, 60, "hc", dept),
        "report_id": ctx.world.ident("R-", dept, a["quarter"]).upper(),
    }
