"""The ops domain tools: catalogue facts, seeded values, batch-end writes and structured errors."""

from __future__ import annotations

from mock_tools import EpisodeState, ToolContext, World, default_registry, is_error
from mock_tools.domains.ops import ALERTS, INCIDENTS, SERVICES, TEAMS

REG = default_registry()
OPS = sorted(t for t in REG.names() if REG[t].domain == "ops")


class Episode:
    """Calls in batches, as the runtime does: reads see the state as of the batch start."""

    def __init__(self, seed: int = 0):
        self.world, self.state = World(seed), EpisodeState()

    def batch(self, *calls: tuple[str, dict]) -> list[dict]:
        ctxs = [ToolContext(self.world, self.state) for _ in calls]
        out = [REG[name].invoke(args, ctx) for (name, args), ctx in zip(calls, ctxs, strict=True)]
        for ctx in ctxs:
            self.state.apply(ctx.writes)
        return out

    def call(self, name: str, **args) -> dict:
        return self.batch((name, args))[0]


def test_ops_tools_are_registered_with_schemas_and_write_flags() -> None:
    assert OPS == sorted(
        [
            "acknowledge_alert",
            "create_incident",
            "get_alert",
            "get_deploy",
            "get_incident",
            "get_oncall",
            "get_runbook",
            "get_service",
            "get_service_health",
            "get_service_metric",
            "list_alerts",
            "list_deploys",
            "list_incidents",
            "page_oncall",
            "query_logs",
            "rollback_service",
            "scale_service",
            "update_incident",
        ]
    )
    writes = {t for t in OPS if REG[t].write}
    assert writes == {
        "acknowledge_alert",
        "create_incident",
        "page_oncall",
        "rollback_service",
        "scale_service",
        "update_incident",
    }
    assert REG["create_incident"].property_names() == {"service", "summary", "severity"}
    assert REG["query_logs"].defaults() == {"minutes": 60}
    # Latency reflects the kind of call: key lookups fast, log scans slow and heavy-tailed.
    assert REG["get_service"].latency.median_s < 0.1
    assert REG["query_logs"].latency.median_s >= 1.0 and REG["query_logs"].latency.straggler_p > 0


def test_catalogue_facts_do_not_depend_on_the_seed() -> None:
    for seed in (0, 1, 7):
        ep = Episode(seed)
        s = ep.call("get_service", service="Checkout ")
        assert (s["service"], s["team"], s["tier"]) == ("checkout", "payments", 1)
        assert s["depends_on"] == ["payments-api", "inventory", "auth"]
        oc = ep.call("get_oncall", team="payments")
        assert oc["primary"]["email"].split("@")[0] in TEAMS["payments"]
        assert oc["secondary"]["email"] != oc["primary"]["email"]
    assert all(team in TEAMS for team, _tier, _deps in SERVICES.values())
    assert all(d in SERVICES for _t, _tier, deps in SERVICES.values() for d in deps)
    assert all(s in SERVICES for s, _ in [*ALERTS.values(), *INCIDENTS.values()])


def test_same_seed_same_outputs_and_seeds_differ() -> None:
    def snapshot(seed: int) -> list[dict]:
        ep = Episode(seed)
        return [
            ep.call("list_deploys", service="search"),
            ep.call("get_service_health", service="auth"),
            ep.call("list_alerts", service="checkout"),
            ep.call("get_incident", incident_id="INC-7001"),
            ep.call("query_logs", service="checkout", query="timeout"),
        ]

    assert snapshot(0) == snapshot(0)
    assert snapshot(0) != snapshot(1)


def test_pinned_values_for_seed_0() -> None:
    ep = Episode(0)
    deploys = ep.call("list_deploys", service="checkout", limit=2)["deploys"]
    assert [d["version"] for d in deploys] == ["1.33.7", "1.32.2"]
    assert deploys[0]["author_email"] == "ben@example.com"
    assert ep.call("get_oncall", team="payments")["primary"]["name"] == "Ben Okafor"
    assert ep.call("get_service_health", service="notifications")["status"] == "down"


def test_rollback_applies_at_batch_end() -> None:
    ep = Episode(0)
    before = ep.call("get_service", service="checkout")["version"]
    deploys = ep.call("list_deploys", service="checkout")["deploys"]
    rb, stale = ep.batch(
        ("rollback_service", {"service": "checkout"}), ("get_service", {"service": "checkout"})
    )
    assert (rb["from_version"], rb["to_version"]) == (before, deploys[1]["version"])
    assert stale["version"] == before  # read fanned out beside the write sees the old state
    assert ep.call("get_service", service="checkout")["version"] == deploys[1]["version"]
    assert ep.call("get_service_health", service="checkout")["status"] == "healthy"


def test_rollback_past_the_oldest_deploy_is_a_structured_conflict() -> None:
    ep = Episode(0)
    n = len(ep.call("list_deploys", service="billing", limit=10)["deploys"])
    for _ in range(n - 1):
        assert not is_error(ep.call("rollback_service", service="billing"))
    err = ep.call("rollback_service", service="billing")
    assert err["error"]["code"] == "conflict" and "billing" in err["error"]["message"]


def test_incident_lifecycle_through_state() -> None:
    ep = Episode(0)
    inc = ep.call("create_incident", service="shipping", summary="Carrier API errors", severity="sev2")
    assert 8000 <= int(inc["incident_id"].removeprefix("INC-")) < 10000  # never a catalogue id
    assert inc["status"] == "investigating" and inc["title"] == "Carrier API errors"
    again = Episode(0).call(
        "create_incident", service="shipping", summary="carrier api errors ", severity="sev2"
    )
    assert again["incident_id"] == inc["incident_id"]  # ids derive from inputs, not call order
    open_ids = [i["incident_id"] for i in ep.call("list_incidents", service="shipping")["incidents"]]
    assert open_ids == ["INC-7004", inc["incident_id"]]
    ep.call("update_incident", incident_id=inc["incident_id"], status="resolved")
    assert ep.call("get_incident", incident_id=inc["incident_id"])["status"] == "resolved"
    open_ids = [i["incident_id"] for i in ep.call("list_incidents", service="shipping")["incidents"]]
    assert open_ids == ["INC-7004"]


def test_acknowledge_scale_and_page() -> None:
    ep = Episode(0)
    assert ep.call("get_alert", alert_id="alr-306")["acknowledged"] is False
    ep.call("acknowledge_alert", alert_id="ALR-306")
    assert ep.call("get_alert", alert_id="ALR-306")["acknowledged"] is True
    ep.call("scale_service", service="recommendations", replicas=6)
    assert ep.call("get_service", service="recommendations")["replicas"] == 6
    p1 = ep.call("page_oncall", team="payments", message="checkout down")
    p2 = ep.call("page_oncall", team="payments", message="checkout down")
    assert p1["paged"] == ep.call("get_oncall", team="payments")["primary"]["email"]
    assert p1["page_id"] != p2["page_id"]  # each call sends another page


def test_metrics_agree_with_health() -> None:
    ep = Episode(0)
    h = ep.call("get_service_health", service="inventory")
    m = ep.call("get_service_metric", service="inventory", metric="error_rate_pct")
    assert m == {
        "service": "inventory",
        "metric": "error_rate_pct",
        "window_minutes": 60,
        "value": h["error_rate_pct"],
    }


def test_unknown_entities_and_bad_arguments_are_structured_errors() -> None:
    ep = Episode(0)
    cases = [
        ("get_service", {"service": "nope"}, "not_found", "nope"),
        ("get_oncall", {"team": "marketing"}, "not_found", "marketing"),
        ("get_alert", {"alert_id": "ALR-999"}, "not_found", "ALR-999"),
        ("get_incident", {"incident_id": "INC-1"}, "not_found", "INC-1"),
        ("get_deploy", {"deploy_id": "dep_00000000"}, "not_found", "dep_00000000"),
        ("scale_service", {"service": "search", "replicas": 0}, "invalid_arguments", "replicas"),
        ("update_incident", {"incident_id": "INC-7001", "status": "done"}, "invalid_arguments", "status"),
        ("query_logs", {"service": "search", "query": "  "}, "invalid_arguments", "query"),
        ("get_service", {"service": "search", "region": "eu"}, "invalid_arguments", "region"),
    ]
    for name, args, code, mention in cases:
        out = ep.call(name, **args)
        assert is_error(out), name
        assert out["error"]["code"] == code and mention in out["error"]["message"], (name, out)
