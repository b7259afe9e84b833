"""The built-in mock tools: deterministic, seeded, structured errors, batch-end writes, pure
latency samples, and provider-friendly JSON schemas."""

from __future__ import annotations

import json

import pytest

from mock_tools import EpisodeState, ToolContext, World, default_registry, is_error
from mock_tools.canonical import canonical_json
from mock_tools.domains.crm import ACCOUNTS

REG = default_registry()
ANA = World(0).user_id("ana")

# One valid call per read tool whose arguments do not depend on the seed.
READS = {
    "get_weather": {"city": "Lisbon"},
    "get_local_time": {"city": "Tokyo"},
    "get_air_quality": {"city": "Cairo"},
    "get_product": {"product_id": "SKU-1004"},
    "check_inventory": {"product_id": "SKU-1007", "warehouse": "east"},
    "get_stock_price": {"symbol": "NVDA"},
    "get_exchange_rate": {"base": "USD", "quote": "JPY"},
    "get_ticket": {"ticket_id": "T-5012"},
    "get_document": {"doc_id": "DOC-206"},
    "find_user": {"email": "ana@example.com"},
    "search_flights": {"origin": "LIS", "destination": "CDG", "date": "2026-11-14"},
    "search_hotels": {"city": "Paris", "check_in": "2026-11-05", "nights": 2},
    "get_pull_request": {"repo": "payments-api", "number": 117},
    "find_account": {"company": "Initech"},
    "get_metric": {"metric": "signups", "month": "2026-09"},
    "get_headlines": {"topic": "science"},
    "find_places": {"city": "Rome", "category": "museum"},
    "get_distance": {"origin": "Madrid", "destination": "Berlin"},
}

# Unknown entities for every tool of the issue-3 domains (and a few older ones).
UNKNOWN = {
    "get_weather": {"city": "Atlantis"},
    "get_product": {"product_id": "SKU-9999"},
    "get_ticket": {"ticket_id": "T-1"},
    "find_user": {"email": "nobody@example.com"},
    "list_direct_reports": {"user_id": "u_missing"},
    "get_pto_balance": {"user_id": "u_missing"},
    "request_time_off": {"user_id": "u_missing", "start_date": "2026-12-21", "days": 2},
    "search_hotels": {"city": "Atlantis", "check_in": "2026-11-05"},
    "get_hotel": {"hotel_id": "htl_00000000"},
    "book_hotel": {"hotel_id": "htl_00000000", "guest_email": "ana@example.com", "check_in": "2026-11-05"},
    "get_pull_request": {"repo": "no-such-repo", "number": 117},
    "get_build": {"build_id": "bld_00000000"},
    "rerun_build": {"build_id": "bld_00000000"},
    "find_account": {"company": "Nonexistent Inc"},
    "list_contacts": {"account_id": "acc_00000000"},
    "log_activity": {"account_id": "acc_00000000", "kind": "note", "summary": "x"},
    "reassign_account": {"account_id": "acc_00000000", "owner_email": "ana@example.com"},
    "get_metric": {"metric": "signups", "month": "2031-01"},
    "get_distance": {"origin": "Lisbon", "destination": "Atlantis"},
    "find_places": {"city": "Atlantis", "category": "cafe"},
    "schedule_meeting": {
        "organizer_id": "u_missing",
        "attendee_email": "ben@example.com",
        "subject": "x",
        "date": "2026-11-13",
        "time": "10:00",
    },
}


def call(name: str, args: dict, seed: int = 0, state: EpisodeState | None = None) -> tuple[dict, list]:
    ctx = ToolContext(World(seed), state or EpisodeState())
    return REG[name].invoke(args, ctx), ctx.writes


def test_registry_has_forty_plus_tools_over_many_domains():
    assert len(REG) >= 40
    domains = {REG[n].domain for n in REG.names()}
    assert {"hr", "hotels", "code", "crm", "analytics", "maps", "news"} <= domains
    assert sum(REG[n].write for n in REG.names()) >= 10


@pytest.mark.parametrize("name", sorted(READS))
def test_same_seed_same_output(name):
    a, _ = call(name, READS[name], seed=3)
    b, _ = call(name, READS[name], seed=3)
    assert not is_error(a), a
    assert canonical_json(a) == canonical_json(b)


def test_different_seeds_differ():
    differing = [n for n, args in READS.items() if call(n, args, 0)[0] != call(n, args, 1)[0]]
    # distance is geography, not a draw: the same in every world
    assert sorted(set(READS) - set(differing)) == ["get_distance"]


@pytest.mark.parametrize("name", sorted(UNKNOWN))
def test_unknown_entities_give_structured_errors(name):
    out, writes = call(name, UNKNOWN[name])
    assert is_error(out), out
    assert out["error"]["code"] in ("not_found", "invalid_arguments")
    assert out["error"]["message"]
    assert writes == []


def test_bad_arguments_are_results_not_exceptions():
    out, _ = call("get_headlines", {"topic": "gossip"})
    assert out["error"]["code"] == "invalid_arguments"
    assert "topic" in out["error"]["message"]
    out, _ = call("get_distance", {"origin": "Lisbon", "destination": "Rome", "mode": "car"})
    assert out["error"]["code"] == "invalid_arguments"
    out, _ = call("find_places", "not a dict")  # type: ignore[arg-type]
    assert out["error"]["code"] == "invalid_arguments"


def _apply(state: EpisodeState, writes: list) -> None:
    state.apply(writes)


def test_time_off_write_applies_at_batch_end_only():
    state = EpisodeState()
    before, _ = call("get_pto_balance", {"user_id": ANA}, state=state)
    req, writes = call(
        "request_time_off", {"user_id": ANA, "start_date": "2026-12-21", "days": 2}, state=state
    )
    assert req["status"] == "submitted"
    same_batch, _ = call("get_pto_balance", {"user_id": ANA}, state=state)
    assert same_batch["days_remaining"] == before["days_remaining"]  # stale within the batch
    _apply(state, writes)
    after, _ = call("get_pto_balance", {"user_id": ANA}, state=state)
    assert after["days_remaining"] == before["days_remaining"] - 2


def test_time_off_beyond_balance_is_an_error():
    bal, _ = call("get_pto_balance", {"user_id": ANA})
    out, writes = call(
        "request_time_off", {"user_id": ANA, "start_date": "2026-12-01", "days": bal["days_remaining"] + 1}
    )
    assert out["error"]["code"] == "insufficient_balance"
    assert writes == []


def test_hotel_booking_is_not_idempotent_and_visible_after_the_batch():
    state = EpisodeState()
    hid = call("search_hotels", READS["search_hotels"])[0]["hotels"][0]["hotel_id"]
    args = {"hotel_id": hid, "guest_email": "ana@example.com", "check_in": "2026-11-05", "nights": 2}
    b1, w1 = call("book_hotel", args, state=state)
    assert call("get_hotel", {"hotel_id": hid}, state=state)[0]["rooms_booked_this_session"] == 0
    _apply(state, w1)
    b2, w2 = call("book_hotel", args, state=state)
    _apply(state, w2)
    assert b1["confirmation"] != b2["confirmation"]
    assert call("get_hotel", {"hotel_id": hid}, state=state)[0]["rooms_booked_this_session"] == 2
    assert b1["total_usd"] == round(call("get_hotel", {"hotel_id": hid})[0]["price_per_night_usd"] * 2, 2)


def test_rerun_build_queues_a_new_attempt():
    state = EpisodeState()
    bid = call("get_pull_request", READS["get_pull_request"])[0]["build_id"]
    first, _ = call("get_build", {"build_id": bid}, state=state)
    assert first["attempt"] == 1
    _, writes = call("rerun_build", {"build_id": bid}, state=state)
    _apply(state, writes)
    again, _ = call("get_build", {"build_id": bid}, state=state)
    assert (again["status"], again["attempt"], again["failing_tests"]) == ("queued", 2, [])


def test_reassign_account_changes_owner_after_batch():
    state = EpisodeState()
    acc = call("find_account", {"company": "Acme Corp"}, state=state)[0]
    out, writes = call(
        "reassign_account", {"account_id": acc["account_id"], "owner_email": "Ben@Example.com"}, state=state
    )
    assert out["previous_owner"] == acc["owner_email"]
    assert call("find_account", {"company": "acme"}, state=state)[0]["owner_email"] == acc["owner_email"]
    _apply(state, writes)
    assert call("find_account", {"company": "acme"}, state=state)[0]["owner_email"] == "ben@example.com"


def test_meeting_lands_on_the_organisers_calendar():
    state = EpisodeState()
    args = {
        "organizer_id": ANA,
        "attendee_email": "ben@example.com",
        "subject": "Sync",
        "date": "2026-11-13",
        "time": "10:00",
    }
    _, writes = call("schedule_meeting", args, state=state)
    _apply(state, writes)
    events = call("list_events", {"user_id": ANA, "date": "2026-11-13"}, state=state)[0]["events"]
    assert {"title": "Sync", "time": "10:00"} in [{k: e[k] for k in ("title", "time")} for e in events]


def test_fixed_catalogue_facts():
    grace = World(0).user_id("grace")
    reports = call("list_direct_reports", {"user_id": grace})[0]
    assert [r["name"] for r in reports["reports"]] == ["Ben Okafor", "Dev Patel", "Priya Sharma"]
    assert call("get_distance", {"origin": "Lisbon", "destination": "Madrid"})[0]["distance_km"] == 503
    assert len({call("find_account", {"company": c})[0]["account_id"] for c, _, _ in ACCOUNTS}) == len(
        ACCOUNTS
    )


def test_pull_request_authors_always_have_a_manager():
    for seed in range(4):
        for n in range(100, 160, 7):
            pr = call("get_pull_request", {"repo": "web-app", "number": n}, seed=seed)[0]
            assert pr["author_email"] != "tara@example.com"


@pytest.mark.parametrize("name", REG.names())
def test_latency_samples_are_pure_functions(name):
    lat = REG[name].latency
    key = canonical_json({"x": 1})
    a = [lat.sample(7, "task", name, key, attempt) for attempt in range(3)]
    b = [lat.sample(7, "task", name, key, attempt) for attempt in range(3)]
    assert a == b and all(x > 0 for x in a)
    assert lat.sample(8, "task", name, key) != a[0] or lat.kind == "fixed"


def test_latency_models_are_realistic():
    med = {n: REG[n].latency.median_s for n in REG.names()}
    assert med["get_distance"] <= 0.1 and med["get_pto_balance"] <= 0.1  # key-value lookups
    assert 0.3 <= med["search_hotels"] <= 0.8 and 0.3 <= med["find_places"] <= 0.8  # searches
    assert med["get_metric"] >= 1.0  # warehouse query
    assert REG["search_hotels"].latency.straggler_p > 0 and REG["get_metric"].latency.straggler_p > 0


def _walk_schema(node, path="$"):
    """Yield (path, key) for every `title` used as a JSON-schema keyword (not a property name)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "title":
                yield path, k
            if k == "properties" and isinstance(v, dict):
                for prop, sub in v.items():
                    yield from _walk_schema(sub, f"{path}.properties.{prop}")
            else:
                yield from _walk_schema(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_schema(v, f"{path}[{i}]")


@pytest.mark.parametrize("name", REG.names())
def test_json_schema_is_valid_and_has_no_titles(name):
    params = REG[name].parameters
    assert params["type"] == "object"
    assert list(_walk_schema(params)) == []
    props = params.get("properties", {})
    assert set(params.get("required", [])) <= set(props), "required names undeclared properties"
    for prop, sub in props.items():
        assert "type" in sub or "anyOf" in sub or "enum" in sub, f"{prop} has no type"
    spec = REG[name].spec()
    assert spec["description"] and json.loads(json.dumps(spec)) == spec
