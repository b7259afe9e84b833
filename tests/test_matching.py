"""Argument matching in the default and exact modes (DESIGN.md section 3)."""

from __future__ import annotations

from evals.matching import NodeMatcher

PROPS = {"city", "units", "date", "limit", "tags", "filters"}


def m(args, mode="default", **kw):
    return NodeMatcher(args, props=PROPS, mode=mode, **kw)


def test_strings_are_trimmed_and_case_folded_in_default_mode_only():
    assert m({"city": "Lisbon"}).matches({"city": "  lisbon "})
    assert not m({"city": "Lisbon"}, mode="exact").matches({"city": "lisbon"})
    assert m({"city": "Lisbon"}, mode="exact").matches({"city": "Lisbon"})


def test_numbers_compare_numerically_but_booleans_stay_booleans():
    assert m({"limit": 3}).matches({"limit": 3.0})
    assert not m({"limit": 3}).matches({"limit": "3"})
    assert not m({"limit": 1}).matches({"limit": True})
    assert m({"limit": 2.5}).matches({"limit": 2.50})


def test_dict_key_order_ignored_list_order_kept():
    assert m({"filters": {"a": 1, "b": 2}}).matches({"filters": {"b": 2, "a": 1}})
    assert not m({"tags": ["x", "y"]}).matches({"tags": ["y", "x"]})


def test_alternatives_and_omissible_arguments():
    node = m({"city": "New York", "units": "celsius"}, accept={"city": ["NYC"]}, omissible=["units"])
    assert node.matches({"city": "nyc", "units": "celsius"})
    assert node.matches({"city": "New York"})
    assert not node.matches({"city": "Boston", "units": "celsius"})
    assert not node.matches({"units": "celsius"})


def test_missing_argument_is_fine_when_the_schema_default_equals_it():
    node = m({"city": "Paris", "limit": 5}, defaults={"limit": 5})
    assert node.matches({"city": "Paris"})
    assert not m({"city": "Paris", "limit": 3}, defaults={"limit": 5}).matches({"city": "Paris"})


def test_extra_arguments_must_be_in_schema_and_default_or_accepted():
    node = m({"city": "Paris"}, defaults={"units": "metric"}, accept={"date": [None, "today"]})
    assert node.matches({"city": "Paris", "units": "metric"})
    assert not node.matches({"city": "Paris", "units": "imperial"})
    assert node.matches({"city": "Paris", "date": "today"})
    assert not node.matches({"city": "Paris", "date": "2026-01-01"})
    assert not node.matches({"city": "Paris", "colour": "red"})  # not in the schema


def test_non_object_arguments_never_match():
    assert not m({"city": "Paris"}).matches(None)
    assert not m({"city": "Paris"}).matches(["Paris"])


def test_an_argument_named_title_survives_schema_cleaning():
    from mock_tools import default_registry

    params = default_registry()["create_event"].parameters
    assert "title" in params["properties"] and "title" in params["required"]
    assert "title" not in params and all("title" not in p for p in params["properties"].values())


def test_a_value_a_tool_declares_equal_to_its_default_matches_like_leaving_it_out():
    node = m({"city": "Paris"}, defaults={"date": None}, default_aliases={"date": ["today"]})
    assert node.matches({"city": "Paris"})
    assert node.matches({"city": "Paris", "date": None})
    assert node.matches({"city": "Paris", "date": "Today"})
    assert not node.matches({"city": "Paris", "date": "2026-11-24"})
    assert not m({"city": "Paris"}, defaults={"date": None}).matches({"city": "Paris", "date": "today"})


def test_get_weather_today_is_the_same_call_as_no_date():
    from mock_tools import EpisodeState, ToolContext, World, default_registry

    tool = default_registry()["get_weather"]
    ctx = ToolContext(World(0), EpisodeState())
    from mock_tools.world import TODAY

    assert tool.invoke({"city": "Oslo", "date": "today"}, ctx) == tool.invoke({"city": "Oslo"}, ctx)
    assert tool.invoke({"city": "Oslo", "date": TODAY}, ctx) == tool.invoke({"city": "Oslo"}, ctx)
    assert tool.default_aliases == {"date": ["today", TODAY]}


def test_matches_text_is_matches_memoised_per_text():
    m = NodeMatcher({"city": "Paris"})
    assert m.matches_text('{"city":"Paris"}', {"city": "Paris"})
    assert not m.matches_text('{"city":"Lyon"}', {"city": "Lyon"})
    assert m.matches_text('{"city":"Paris"}', {"city": "Paris"})  # from the memo
    assert m._by_text == {'{"city":"Paris"}': True, '{"city":"Lyon"}': False}
