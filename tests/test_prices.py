"""Price table: shipped data, lookups, user overrides, cost arithmetic."""

from __future__ import annotations

import json

import pytest

from evals.prices import Price, cost_usd, load_prices


def test_shipped_table_is_dated_and_every_price_names_a_known_source():
    t = load_prices()
    assert t.read_on == "2026-11-24" and t.version == "2026-11-24"
    assert t.models and all(p.source in t.source for p in t.models.values())
    providers = {k.split("/")[0] for k in t.models}
    assert providers == {"openai", "anthropic", "google"}


@pytest.mark.parametrize(
    "model,expected",
    [
        ("openai/gpt-4.1", (2.0, 0.5, 8.0)),
        ("openai/gpt-4.1-2025-04-14", (2.0, 0.5, 8.0)),  # dated snapshot
        ("openai-responses/gpt-4.1", (2.0, 0.5, 8.0)),  # same model, other API
        ("anthropic/claude-sonnet-4-5-20250929", (3.0, 0.3, 15.0)),
        ("anthropic/claude-opus-4-1", (15.0, 1.5, 75.0)),
        ("anthropic/claude-opus-4-5", (5.0, 0.5, 25.0)),
        ("google/gemini-2.5-flash", (0.3, None, 2.5)),
    ],
)
def test_lookup(model, expected):
    p = load_prices().lookup(model)
    assert (p.input, p.cached_input, p.output) == expected


@pytest.mark.parametrize(
    "model", ["openai/gpt-4.1-nano", "openai/gpt-4.1x", "policy/oracle", "openai/oracle"]
)
def test_unlisted_models_have_unknown_price(model):
    assert load_prices().lookup(model) is None


def test_cost_arithmetic_prompt_includes_cached():
    p = Price(input=2.0, cached_input=0.5, output=8.0)
    # 1000 prompt of which 400 cached, 100 completion
    assert cost_usd(p, 1000, 400, 100) == pytest.approx((600 * 2.0 + 400 * 0.5 + 100 * 8.0) / 1e6)
    no_cache_rate = Price(input=2.0, output=8.0)
    assert cost_usd(no_cache_rate, 1000, 400, 100) == pytest.approx((1000 * 2.0 + 100 * 8.0) / 1e6)
    assert cost_usd(None, 1000, 0, 10) is None


def test_user_file_overrides_and_adds(tmp_path):
    f = tmp_path / "p.json"
    f.write_text(
        json.dumps(
            {"openai/gpt-4.1": {"input": 1.0, "output": 2.0}, "openai/oracle": {"input": 0, "output": 0}}
        )
    )
    t = load_prices(f)
    assert t.version == "2026-11-24+user"
    assert (t.lookup("openai/gpt-4.1").input, t.lookup("openai/gpt-4.1").cached_input) == (1.0, None)
    assert t.lookup("openai/oracle").output == 0
    assert t.lookup("anthropic/claude-haiku-4-5").input == 1.0  # shipped entries kept
    full = tmp_path / "full.json"
    full.write_text(
        json.dumps(
            {
                "source": {"mine": "my contract"},
                "models": {"google/x": {"input": 1, "output": 1, "source": "mine"}},
            }
        )
    )
    assert load_prices(full).source["mine"] == "my contract"


@pytest.mark.parametrize(
    "content,match",
    [
        ("{not json", "is not JSON"),
        ("[1]", "must hold a JSON object"),
        ('{"openai/x": {"input": -1, "output": 1}}', r"models.openai/x.input"),
        ('{"openai/x": {"input": 1, "output": 1, "typo": 3}}', "typo"),
    ],
)
def test_bad_user_file_is_a_clear_error(tmp_path, content, match):
    f = tmp_path / "p.json"
    f.write_text(content)
    with pytest.raises(ValueError, match=match):
        load_prices(f)


def test_missing_user_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read the price file"):
        load_prices(tmp_path / "nope.json")
