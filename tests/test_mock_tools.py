"""The built-in mock tools: deterministic, seeded, structured errors, batch-end writes, pure
latency samples, and provider-friendly JSON schemas."""

from __future__ import annotations

import json

import pytest

from mock_tools import EpisodeState, ToolContext, World, default_registry, is_error
from mock_tools.canonical import canonical_json
from mock_tools.domains.crm import ACCOUNTS
from mock_tools.world import CITIES, PEOPLE, TIMEZONES, TODAY

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


def test_hotel_booking_is_not_idempotent():
    state = EpisodeState()
    hid = call("search_hotels", READS["search_hotels"])[0]["hotels"][0]["hotel_id"]
    args = {"hotel_id": hid, "guest_email": "ana@example.com", "check_in": "2026-11-05", "nights": 2}
    b1, w1 = call("book_hotel", args, state=state)
    same_batch, _ = call("book_hotel", args, state=state)
    assert same_batch["confirmation"] == b1["confirmation"]  # the first booking is not committed yet
    _apply(state, w1)
    b2, w2 = call("book_hotel", args, state=state)
    assert b1["confirmation"] != b2["confirmation"]  # a second room, a second booking
    assert b1["total_usd"] == round(call("get_hotel", {"hotel_id": hid})[0]["price_per_night_usd"] * 2, 2)


def test_bookings_reject_a_passenger_or_guest_that_is_not_an_email():
    fid = call("search_flights", READS["search_flights"])[0]["flights"][0]["flight_id"]
    out, writes = call("book_flight", {"flight_id": fid, "passenger_email": "<pending>"})
    assert out["error"]["code"] == "invalid_arguments" and writes == []


def test_flight_booking_lowers_the_seats_for_sale_after_the_batch():
    state = EpisodeState()
    fid = call("search_flights", READS["search_flights"])[0]["flights"][0]["flight_id"]
    before = call("get_flight_status", {"flight_id": fid}, state=state)[0]["seats_available"]
    _, writes = call("book_flight", {"flight_id": fid, "passenger_email": "ana@example.com"}, state=state)
    assert call("get_flight_status", {"flight_id": fid}, state=state)[0]["seats_available"] == before
    _apply(state, writes)
    assert call("get_flight_status", {"flight_id": fid}, state=state)[0]["seats_available"] == before - 1


def test_time_off_request_shows_in_the_balance_as_an_upcoming_request():
    state = EpisodeState()
    req, writes = call(
        "request_time_off", {"user_id": ANA, "start_date": "2026-12-21", "days": 2}, state=state
    )
    _apply(state, writes)
    bal = call("get_pto_balance", {"user_id": ANA}, state=state)[0]
    assert bal["upcoming_requests"] == [
        {"request_id": req["request_id"], "start_date": "2026-12-21", "days": 2, "status": "submitted"}
    ]
    again, _ = call("request_time_off", {"user_id": ANA, "start_date": "2026-12-21", "days": 2}, state=state)
    assert again["request_id"] != req["request_id"]  # each call submits a new request


def test_logged_activity_is_the_accounts_last_activity():
    state = EpisodeState()
    acc = call("find_account", {"company": "Globex"}, state=state)[0]
    assert acc["last_activity"]["date"] < TODAY  # the account's history, from before the episode
    args = {"account_id": acc["account_id"], "kind": "call", "summary": "Discussed Q1 renewal"}
    out, writes = call("log_activity", args, state=state)
    _apply(state, writes)
    last = call("find_account", {"company": "Globex"}, state=state)[0]["last_activity"]
    assert (last["activity_id"], last["kind"], last["summary"]) == (
        out["activity_id"],
        "call",
        args["summary"],
    )


def test_sent_email_is_the_newest_message_in_the_inbox():
    state = EpisodeState()
    before = call("list_inbox", {"email": "maya@example.com"}, state=state)[0]["messages"]
    assert before  # an inbox has mail from before the episode
    args = {"to": "maya@example.com", "subject": "Contract draft", "body": "Draft attached."}
    _, writes = call("send_email", args, state=state)
    _apply(state, writes)
    after = call("list_inbox", {"email": "maya@example.com"}, state=state)[0]["messages"]
    assert after[:-1] == before and after[-1]["subject"] == "Contract draft"


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


def test_weather_is_physically_plausible():
    """Snow only at 2 degrees or colder, and then never rain; humidity goes with the condition."""
    from mock_tools.world import HUMIDITY

    seen = set()
    for seed in range(40):
        w = World(seed)
        for city in CITIES:
            for date in (None, "2026-11-28"):
                x = w.weather(city, date)
                seen.add(x["condition"])
                assert x["condition"] != "snow" or x["temp_c"] <= 2, x
                assert x["condition"] != "rain" or x["temp_c"] > 2, x
                lo, hi = HUMIDITY[x["condition"]]
                assert lo <= x["humidity"] <= hi, x
    assert seen == {"sunny", "cloudy", "rain", "windy", "snow", "fog"}
    lisbon = [World(s).weather("Lisbon", None) for s in range(200)]
    assert all(x["condition"] != "snow" for x in lisbon)
    assert call("get_weather", {"city": "Lisbon"})[0]["date"] == TODAY


def test_local_times_share_one_clock():
    """Every city's local time is the same UTC instant plus the city's offset."""
    for seed in (0, 1, 7):
        outs = {c: call("get_local_time", {"city": c}, seed=seed)[0] for c in CITIES}
        utc = set()
        for c, out in outs.items():
            h, m = map(int, out["local_time"].split(":"))
            sign = -1 if out["utc_offset"].startswith("-") else 1
            oh, om = map(int, out["utc_offset"][1:].split(":"))
            minutes = h * 60 + m - sign * (oh * 60 + om) + (int(out["date"][-2:]) - int(TODAY[-2:])) * 1440
            utc.add(minutes)
            assert out["timezone"] == TIMEZONES[c][0]
        assert len(utc) == 1
    assert outs["Mumbai"]["utc_offset"] == "+05:30" and outs["New York"]["utc_offset"] == "-04:00"


def test_people_live_in_their_citys_timezone():
    for first, _last, city, tz, _dept in PEOPLE:
        assert TIMEZONES[city][0] == tz, first


def _one_call_per_tool() -> dict[str, dict]:
    """Valid arguments for every built-in tool under seed 0, reads and writes alike."""
    w = World(0)
    pr = call("get_pull_request", READS["get_pull_request"])[0]
    hid = call("search_hotels", READS["search_hotels"])[0]["hotels"][0]["hotel_id"]
    fid = call("search_flights", READS["search_flights"])[0]["flights"][0]["flight_id"]
    acc = call("find_account", READS["find_account"])[0]["account_id"]
    oid = call("list_orders", {"user_id": ANA})[0]["orders"][0]["id"]
    dep = call("list_deploys", {"service": "search"})[0]["deploys"][0]["deploy_id"]
    return {
        **READS,
        "get_user": {"user_id": ANA},
        "get_manager": {"user_id": ANA},
        "update_address": {"user_id": ANA, "address": "1 Rua Augusta, Lisbon"},
        "list_direct_reports": {"user_id": w.user_id("grace")},
        "get_pto_balance": {"user_id": ANA},
        "request_time_off": {"user_id": ANA, "start_date": "2026-12-21", "days": 2},
        "get_hotel": {"hotel_id": hid},
        "book_hotel": {"hotel_id": hid, "guest_email": "ana@example.com", "check_in": "2026-11-05"},
        "get_flight_status": {"flight_id": fid},
        "book_flight": {"flight_id": fid, "passenger_email": "ana@example.com"},
        "get_build": {"build_id": pr["build_id"]},
        "rerun_build": {"build_id": pr["build_id"]},
        "list_contacts": {"account_id": acc},
        "log_activity": {"account_id": acc, "kind": "note", "summary": "x"},
        "reassign_account": {"account_id": acc, "owner_email": "ben@example.com"},
        "list_orders": {"user_id": ANA},
        "get_order": {"order_id": oid},
        "search_products": {"query": "desk"},
        "add_to_cart": {"user_id": ANA, "product_id": "SKU-1010"},
        "get_cart": {"user_id": ANA},
        "list_events": {"user_id": ANA, "date": "2026-11-13"},
        "create_event": {"user_id": ANA, "title": "x", "date": "2026-11-13", "time": "10:00"},
        "schedule_meeting": {
            "organizer_id": ANA,
            "attendee_email": "ben@example.com",
            "subject": "x",
            "date": "2026-11-13",
            "time": "10:00",
        },
        "send_email": {"to": "ben@example.com", "subject": "x", "body": "y"},
        "list_inbox": {"email": "ben@example.com"},
        "search_documents": {"query": "security policy"},
        "generate_report": {"department": "Sales", "quarter": "2026-Q3"},
        "update_ticket": {"ticket_id": "T-5001", "status": "resolved"},
        "add_ticket_comment": {"ticket_id": "T-5001", "comment": "x"},
        "convert_currency": {"amount": 10, "from_currency": "USD", "to_currency": "EUR"},
        "get_service": {"service": "search"},
        "get_service_health": {"service": "search"},
        "list_deploys": {"service": "search"},
        "get_deploy": {"deploy_id": dep},
        "rollback_service": {"service": "search"},
        "list_alerts": {"service": "checkout"},
        "get_alert": {"alert_id": "ALR-301"},
        "acknowledge_alert": {"alert_id": "ALR-301"},
        "get_oncall": {"team": "payments"},
        "page_oncall": {"team": "payments", "message": "x"},
        "create_incident": {"service": "search", "summary": "x", "severity": "sev2"},
        "get_incident": {"incident_id": "INC-7002"},
        "list_incidents": {"service": "search"},
        "update_incident": {"incident_id": "INC-7002", "status": "monitoring"},
        "get_service_metric": {"service": "search", "metric": "cpu_pct"},
        "query_logs": {"service": "search", "query": "timeout"},
        "scale_service": {"service": "search", "replicas": 3},
        "get_runbook": {"service": "search"},
        "calculator": {"expression": "(330 - 96) * 2"},
    }


ALL_CALLS = _one_call_per_tool()


def test_every_builtin_tool_has_a_sample_call():
    assert set(ALL_CALLS) == set(REG.names())


@pytest.mark.parametrize("name", sorted(ALL_CALLS))
def test_descriptions_name_every_field_a_tool_returns(name):
    """A model learns a result's shape from the description: every top-level field is named there, and
    nothing is harness bookkeeping (`*_this_session`, counters of calls)."""
    out, _ = call(name, ALL_CALLS[name])
    assert not is_error(out), out
    desc = REG[name].description
    assert "Returns" in desc, name
    for key in out:
        assert key in desc, (name, key)
        assert "session" not in key and key not in ("activities_logged", "booked_seats", "loyalty_tier")


def test_every_tool_says_what_it_returns():
    for name in REG.names():
        assert "Returns" in REG[name].description, name
