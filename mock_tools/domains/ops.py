"""Operations: services, deploys, alerts, on-call rotations and incidents.

The domain exists for tasks about running production systems, where the dependency traps are
natural: the team that owns a service decides whom to page, an incident id comes back from the
write that opened it, and a rollback changes what the next health check reports. Service,
alert and incident keys are fixed catalogue entries prompts can name; everything else (versions,
health, severities, who is on call) is drawn from the seed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..latency import lognormal
from ..registry import Args, ToolContext, ToolError, tool
from ..world import World

# service: (owning team, tier, services it calls)
SERVICES: dict[str, tuple[str, int, list[str]]] = {
    "checkout": ("payments", 1, ["payments-api", "inventory", "auth"]),
    "payments-api": ("payments", 1, ["billing"]),
    "billing": ("payments", 2, []),
    "search": ("discovery", 2, ["catalog"]),
    "catalog": ("discovery", 2, []),
    "recommendations": ("discovery", 3, ["search", "analytics"]),
    "auth": ("identity", 1, ["user-profile"]),
    "user-profile": ("identity", 2, []),
    "inventory": ("fulfillment", 1, []),
    "shipping": ("fulfillment", 2, ["inventory"]),
    "notifications": ("platform", 2, []),
    "api-gateway": ("platform", 1, ["auth"]),
    "analytics": ("data", 3, ["etl-pipeline"]),
    "etl-pipeline": ("data", 3, []),
    "frontend-web": ("web", 1, ["api-gateway"]),
}

# team: people (world keys) in its on-call rotation
TEAMS: dict[str, list[str]] = {
    "payments": ["ben", "dev", "priya", "omar"],
    "discovery": ["grace", "hiro", "nora", "wen"],
    "identity": ["uma", "jonas", "maya", "leo"],
    "fulfillment": ["farid", "sam", "quinn", "isla"],
    "platform": ["jonas", "priya", "ben", "kara"],
    "data": ["wen", "elena", "hiro", "dev"],
    "web": ["kara", "yusuf", "chloe", "rosa"],
}

# alert id: (service, title); severity and whether it is firing come from the seed
ALERTS: dict[str, tuple[str, str]] = {
    "ALR-301": ("checkout", "Checkout error rate above 5%"),
    "ALR-302": ("checkout", "Checkout p99 latency above 2s"),
    "ALR-303": ("payments-api", "Card processor timeouts"),
    "ALR-304": ("search", "Search index lag above 10 minutes"),
    "ALR-305": ("auth", "Login failures spiking"),
    "ALR-306": ("inventory", "Stock sync job failing"),
    "ALR-307": ("shipping", "Label printer queue backed up"),
    "ALR-308": ("api-gateway", "5xx rate above 1%"),
    "ALR-309": ("etl-pipeline", "Nightly load missed its deadline"),
    "ALR-310": ("frontend-web", "Core web vitals degraded"),
    "ALR-311": ("notifications", "Push delivery delayed"),
    "ALR-312": ("billing", "Invoice run retries exhausted"),
}

# incident id: (service, title); status, severity and commander come from the seed
INCIDENTS: dict[str, tuple[str, str]] = {
    "INC-7001": ("checkout", "Checkout failing for EU cards"),
    "INC-7002": ("search", "Stale search results"),
    "INC-7003": ("auth", "Intermittent login errors"),
    "INC-7004": ("shipping", "Delayed shipping labels"),
    "INC-7005": ("api-gateway", "Elevated gateway latency"),
    "INC-7006": ("analytics", "Dashboards missing yesterday's data"),
    "INC-7007": ("notifications", "Duplicate push notifications"),
    "INC-7008": ("billing", "Invoices sent twice"),
}

HEALTH = ["healthy", "healthy", "degraded", "down"]
INCIDENT_STATUSES = ("investigating", "identified", "monitoring", "resolved")
METRICS = ("error_rate_pct", "p99_latency_ms", "cpu_pct", "requests_per_s")


class ServiceName(Args):
    service: str = Field(description="Service name, e.g. checkout")


class ListDeploys(Args):
    service: str = Field(description="Service name, e.g. checkout")
    limit: int = Field(5, ge=1, le=10, description="How many of the most recent deploys to return")


class DeployId(Args):
    deploy_id: str = Field(description="A deploy id as returned by list_deploys")


class AlertId(Args):
    alert_id: str = Field(description="Alert id such as ALR-301")


class Team(Args):
    team: str = Field(description="Team name, e.g. payments")


class Page(Args):
    team: str = Field(description="Team whose primary on-call engineer is paged")
    message: str


class CreateIncident(Args):
    service: str
    summary: str = Field(description="One-line summary; becomes the incident title")
    severity: Literal["sev1", "sev2", "sev3"]


class IncidentId(Args):
    incident_id: str = Field(description="Incident id such as INC-7001")


class UpdateIncident(Args):
    incident_id: str
    status: Literal["investigating", "identified", "monitoring", "resolved"]


class Metric(Args):
    service: str
    metric: Literal["error_rate_pct", "p99_latency_ms", "cpu_pct", "requests_per_s"]
    window_minutes: int = Field(60, ge=1, le=1440)


class QueryLogs(Args):
    service: str
    query: str = Field(description="Text to search for in log lines")
    minutes: int = Field(60, ge=1, le=1440, description="How far back to search")


class Scale(Args):
    service: str
    replicas: int = Field(ge=1, le=50)


# -- world draws --------------------------------------------------------------------------------
def _service(name: str) -> str:
    s = name.strip().lower()
    if s not in SERVICES:
        raise ToolError("not_found", f"no service {name!r}")
    return s


def _team(name: str) -> str:
    t = name.strip().lower()
    if t not in TEAMS:
        raise ToolError("not_found", f"no team {name!r}")
    return t


def _deploys(w: World, s: str) -> list[dict]:
    n = w.randint(3, 6, "ndeploys", s)
    major, minor = w.randint(1, 4, "major", s), w.randint(10, 40, "minor", s)
    team = SERVICES[s][0]
    out = []
    for i in range(n):  # index 0 is the newest
        author = w.choice(TEAMS[team], "author", s, i)
        out.append(
            {
                "deploy_id": w.ident("dep_", s, i),
                "service": s,
                "version": f"{major}.{minor - i}.{w.randint(0, 9, 'patch', s, i)}",
                "author_email": f"{author}@example.com",
                "deployed_at": f"2026-10-{28 - 2 * i:02d}T{w.randint(8, 20, 'dh', s, i):02d}:00Z",
            }
        )
    return out


def _current(ctx: ToolContext, s: str) -> int:
    return ctx.state.get("deploy_index", s, 0)


def _health(ctx: ToolContext, s: str) -> dict:
    w = ctx.world
    status = ctx.state.get("health", s) or w.choice(HEALTH, "health", s)
    lo, hi = {"healthy": (1, 9), "degraded": (20, 80), "down": (400, 1000)}[status]
    return {
        "service": s,
        "status": status,
        "error_rate_pct": round(w.randint(lo, hi, "err", s, status) / 10, 1),
        "p99_latency_ms": w.randint(80, 400, "p99", s) * (1 if status == "healthy" else 6),
    }


def _oncall(w: World, team: str) -> tuple[str, str]:
    roster = TEAMS[team]
    i = int(w.rand("oncall", team) * len(roster))
    return roster[i], roster[(i + 1) % len(roster)]


def _person(w: World, key: str) -> dict:
    first, last, _city, tz, _dept = w.people[key]
    return {"name": f"{first} {last}", "email": f"{key}@example.com", "timezone": tz}


def _alert(ctx: ToolContext, aid: str) -> dict:
    s, title = ALERTS[aid]
    w = ctx.world
    return {
        "alert_id": aid,
        "service": s,
        "title": title,
        "severity": w.choice(["warning", "critical"], "asev", aid),
        "firing": w.rand("firing", aid) < 0.7,
        "acknowledged": bool(ctx.state.get("alert_ack", aid, False)),
    }


def _incident(ctx: ToolContext, iid: str) -> dict:
    created = ctx.state.get("incident", iid)
    if created is not None:
        base = dict(created)
    elif iid in INCIDENTS:
        w = ctx.world
        s, title = INCIDENTS[iid]
        commander = w.choice(TEAMS[SERVICES[s][0]], "commander", iid)
        base = {
            "incident_id": iid,
            "service": s,
            "title": title,
            "severity": w.choice(["sev1", "sev2", "sev3"], "isev", iid),
            "status": w.choice(INCIDENT_STATUSES[:3], "istatus", iid),
            "commander_email": f"{commander}@example.com",
        }
    else:
        raise ToolError("not_found", f"no incident {iid!r}")
    base["status"] = ctx.state.get("incident_status", iid, base["status"])
    return base


# -- tools --------------------------------------------------------------------------------------
@tool(
    "get_service",
    ServiceName,
    "Get a service. Returns service, team (the owning team), tier, depends_on (services it calls), version "
    "(running now) and replicas.",
    latency=lognormal(0.08, 0.2),
    domain="ops",
)
def get_service(a: dict, ctx: ToolContext) -> dict:
    s = _service(a["service"])
    team, tier, deps = SERVICES[s]
    deploys = _deploys(ctx.world, s)
    return {
        "service": s,
        "team": team,
        "tier": tier,
        "depends_on": list(deps),
        "version": deploys[_current(ctx, s)]["version"],
        "replicas": ctx.state.get("replicas", s, ctx.world.randint(2, 8, "replicas", s)),
    }


@tool(
    "get_service_health",
    ServiceName,
    "Current health of a service. Returns service, status (healthy, degraded or down), error_rate_pct and "
    "p99_latency_ms.",
    latency=lognormal(0.15, 0.3),
    domain="ops",
)
def get_service_health(a: dict, ctx: ToolContext) -> dict:
    return _health(ctx, _service(a["service"]))


@tool(
    "list_deploys",
    ListDeploys,
    "List a service's most recent deploys, newest first. Returns service and deploys, each with deploy_id, "
    "service, version, author_email and deployed_at.",
    latency=lognormal(0.2, 0.25),
    domain="ops",
)
def list_deploys(a: dict, ctx: ToolContext) -> dict:
    s = _service(a["service"])
    return {"service": s, "deploys": _deploys(ctx.world, s)[: a["limit"]]}


@tool(
    "get_deploy",
    DeployId,
    "Get one deploy. Returns deploy_id, service, version, author_email, deployed_at, commit and change (a "
    "summary of what it changed).",
    latency=lognormal(0.1, 0.25),
    domain="ops",
)
def get_deploy(a: dict, ctx: ToolContext) -> dict:
    did = a["deploy_id"].strip().lower()
    for s in SERVICES:
        for d in _deploys(ctx.world, s):
            if d["deploy_id"] == did:
                w = ctx.world
                area = w.choice(
                    ["config", "database migration", "dependency bump", "feature flag"], "ch", did
                )
                return {**d, "commit": w.ident("", "commit", did) + "a1", "change": f"{area} for {s}"}
    raise ToolError("not_found", f"no deploy {a['deploy_id']!r}")


@tool(
    "rollback_service",
    ServiceName,
    "Roll a service back to the version of its previous deploy. Each call goes back one more deploy. "
    "Returns service, from_version, to_version and status.",
    write=True,
    latency=lognormal(0.9, 0.3),
    domain="ops",
)
def rollback_service(a: dict, ctx: ToolContext) -> dict:
    s = _service(a["service"])
    deploys = _deploys(ctx.world, s)
    i = _current(ctx, s)
    if i + 1 >= len(deploys):
        raise ToolError("conflict", f"{s} has no earlier deploy to roll back to")
    ctx.mutate("deploy_index", s, lambda old: (old or 0) + 1)
    ctx.mutate("health", s, lambda _old: "healthy")
    return {
        "service": s,
        "from_version": deploys[i]["version"],
        "to_version": deploys[i + 1]["version"],
        "status": "rolled_back",
    }


@tool(
    "list_alerts",
    ServiceName,
    "List the alerts currently firing for a service. Returns service and alerts, each with alert_id, "
    "service, title, severity (warning or critical), firing and acknowledged.",
    latency=lognormal(0.12, 0.25),
    domain="ops",
)
def list_alerts(a: dict, ctx: ToolContext) -> dict:
    s = _service(a["service"])
    alerts = [_alert(ctx, aid) for aid, (svc, _t) in ALERTS.items() if svc == s]
    return {"service": s, "alerts": [x for x in alerts if x["firing"]]}


@tool(
    "get_alert",
    AlertId,
    "Get one alert by id. Returns alert_id, service, title, severity (warning or critical), firing and "
    "acknowledged.",
    latency=lognormal(0.08, 0.2),
    domain="ops",
)
def get_alert(a: dict, ctx: ToolContext) -> dict:
    aid = a["alert_id"].strip().upper()
    if aid not in ALERTS:
        raise ToolError("not_found", f"no alert {a['alert_id']!r}")
    return _alert(ctx, aid)


@tool(
    "acknowledge_alert",
    AlertId,
    "Acknowledge an alert so it stops re-notifying. Returns alert_id and result.",
    write=True,
    latency=lognormal(0.2, 0.2),
    domain="ops",
)
def acknowledge_alert(a: dict, ctx: ToolContext) -> dict:
    aid = a["alert_id"].strip().upper()
    if aid not in ALERTS:
        raise ToolError("not_found", f"no alert {a['alert_id']!r}")
    ctx.mutate("alert_ack", aid, lambda _old: True)
    return {"alert_id": aid, "result": "acknowledged"}


@tool(
    "get_oncall",
    Team,
    "Who is on call for a team right now. Returns team, primary and secondary, each with name, email and "
    "timezone.",
    latency=lognormal(0.1, 0.2),
    domain="ops",
)
def get_oncall(a: dict, ctx: ToolContext) -> dict:
    t = _team(a["team"])
    primary, secondary = _oncall(ctx.world, t)
    return {"team": t, "primary": _person(ctx.world, primary), "secondary": _person(ctx.world, secondary)}


@tool(
    "page_oncall",
    Page,
    "Page a team's primary on-call engineer with a message. Each call sends a page. Returns page_id, team, "
    "paged (the engineer's email) and status.",
    write=True,
    latency=lognormal(0.3, 0.2),
    domain="ops",
)
def page_oncall(a: dict, ctx: ToolContext) -> dict:
    t = _team(a["team"])
    primary, _ = _oncall(ctx.world, t)
    n = len(ctx.state.get("pages", t, []))
    page_id = ctx.world.ident("PG-", t, a["message"], n).upper()
    ctx.mutate("pages", t, lambda old: [*(old or []), page_id])
    return {"page_id": page_id, "team": t, "paged": f"{primary}@example.com", "status": "sent"}


@tool(
    "create_incident",
    CreateIncident,
    "Open an incident for a service. Returns the new incident: incident_id, service, title, severity, "
    "status and commander_email.",
    write=True,
    latency=lognormal(0.35, 0.2),
    domain="ops",
)
def create_incident(a: dict, ctx: ToolContext) -> dict:
    s = _service(a["service"])
    iid = "INC-" + str(
        8000 + int(ctx.world.rand("inc", s, a["summary"].strip().lower(), a["severity"]) * 1999)
    )
    primary, _ = _oncall(ctx.world, SERVICES[s][0])
    rec = {
        "incident_id": iid,
        "service": s,
        "title": a["summary"],
        "severity": a["severity"],
        "status": "investigating",
        "commander_email": f"{primary}@example.com",
    }
    ctx.mutate("incident", iid, lambda _old: rec)
    return dict(rec)


@tool(
    "get_incident",
    IncidentId,
    "Get an incident. Returns incident_id, service, title, severity, status (investigating, identified, "
    "monitoring or resolved) and commander_email.",
    latency=lognormal(0.1, 0.2),
    domain="ops",
)
def get_incident(a: dict, ctx: ToolContext) -> dict:
    return _incident(ctx, a["incident_id"].strip().upper())


@tool(
    "list_incidents",
    ServiceName,
    "List a service's incidents that are not resolved. Returns service and incidents, each with "
    "incident_id, title, severity and status.",
    latency=lognormal(0.15, 0.25),
    domain="ops",
)
def list_incidents(a: dict, ctx: ToolContext) -> dict:
    s = _service(a["service"])
    ids = [i for i, (svc, _t) in INCIDENTS.items() if svc == s]
    ids += sorted(k for (kind, k) in ctx.state.data if kind == "incident" and k not in ids)
    recs = [_incident(ctx, i) for i in ids]
    keep = ("incident_id", "title", "severity", "status")
    return {
        "service": s,
        "incidents": [
            {k: r[k] for k in keep} for r in recs if r["service"] == s and r["status"] != "resolved"
        ],
    }


@tool(
    "update_incident",
    UpdateIncident,
    "Set an incident's status. Returns incident_id, status and result.",
    write=True,
    latency=lognormal(0.25, 0.2),
    domain="ops",
)
def update_incident(a: dict, ctx: ToolContext) -> dict:
    iid = a["incident_id"].strip().upper()
    _incident(ctx, iid)
    ctx.mutate("incident_status", iid, lambda _old: a["status"])
    return {"incident_id": iid, "status": a["status"], "result": "updated"}


@tool(
    "get_service_metric",
    Metric,
    "A service metric averaged over the last window_minutes (error_rate_pct, p99_latency_ms, cpu_pct, "
    "requests_per_s). Returns service, metric, window_minutes and value.",
    latency=lognormal(0.4, 0.3),
    domain="ops",
)
def get_service_metric(a: dict, ctx: ToolContext) -> dict:
    s = _service(a["service"])
    w, m, win = ctx.world, a["metric"], a["window_minutes"]
    health = _health(ctx, s)
    if m == "error_rate_pct":
        value = health["error_rate_pct"]
    elif m == "p99_latency_ms":
        value = health["p99_latency_ms"]
    elif m == "cpu_pct":
        value = w.randint(15, 95, "cpu", s, win)
    else:
        value = w.randint(50, 5000, "rps", s, win)
    return {"service": s, "metric": m, "window_minutes": win, "value": value}


@tool(
    "query_logs",
    QueryLogs,
    "Search a service's logs for a text over the last N minutes (slow: scans raw logs). Returns service, "
    "query, minutes, matches (how many lines matched) and sample (one matching line, or null).",
    latency=lognormal(1.2, 0.5, straggler_p=0.1, straggler_mult=6.0),
    domain="ops",
)
def query_logs(a: dict, ctx: ToolContext) -> dict:
    s = _service(a["service"])
    q = a["query"].strip()
    if not q:
        raise ToolError("invalid_arguments", "query must not be empty")
    n = ctx.world.randint(0, 400, "logs", s, q.lower(), a["minutes"])
    sample = f"{s} ERROR {q}: request failed" if n else None
    return {"service": s, "query": q, "minutes": a["minutes"], "matches": n, "sample": sample}


@tool(
    "scale_service",
    Scale,
    "Set the number of replicas a service runs. Returns service, replicas and status.",
    write=True,
    latency=lognormal(0.5, 0.25),
    domain="ops",
)
def scale_service(a: dict, ctx: ToolContext) -> dict:
    s = _service(a["service"])
    ctx.mutate("replicas", s, lambda _old: a["replicas"])
    return {"service": s, "replicas": a["replicas"], "status": "scaling"}


@tool(
    "get_runbook",
    ServiceName,
    "The runbook for a service. Returns service, runbook_id, steps (first-response steps) and "
    "escalation_team.",
    latency=lognormal(0.25, 0.25),
    domain="ops",
)
def get_runbook(a: dict, ctx: ToolContext) -> dict:
    s = _service(a["service"])
    team = SERVICES[s][0]
    return {
        "service": s,
        "runbook_id": f"RB-{s}",
        "steps": [
            f"Check {s} health and recent deploys",
            "Roll back the latest deploy if it started the errors",
            f"Page {team} on-call if errors persist for 10 minutes",
        ],
        "escalation_team": team,
    }
