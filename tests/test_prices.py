"""Price table: shipped data, lookups, user overrides, cost arithmetic."""

from __future__ import annotations

import json

import pytest

from evals.errors import UsageError
from evals.prices import Price, cost_usd, load_prices


def test_shipped_table_is_dated_and_every_price_names_a_known_source():
    t = load_prices()
    assert t.read_on == "2026-11-25" and t.version == "2026-11-25"
    assert t.models and all(p.source in t.source for p in t.models.values())
    providers = {k.split("/")[0] for k in t.models}
    assert providers == {"openai", "anthropic", "google"}


def test_every_entry_has_cached_input_and_cache_write_rates_with_a_dated_source():
    t = load_prices()
    for name, p in t.models.items():
        assert p.cached_input is not None and p.cache_write is not None, name
        assert p.cached_input <= p.input <= p.cache_write, name
        assert p.read_on and p.read_on <= t.read_on, name
        if name.startswith("anthropic/"):
            assert p.cache_write == pytest.approx(1.25 * p.input), name  # 5-minute writes
        else:
            assert p.cache_write == p.input, name  # implicit caching: no write premium


@pytest.mark.parametrize(
    "model",
    [
        "openai/gpt-4.1-nano",
        "openai/gpt-4o",
        "openai/gpt-4o-mini",
        "openai/o3",
        "openai/o3-mini",
        "openai/o4-mini",
        "openai/gpt-5",
        "openai/gpt-5.1",
        "openai/gpt-5-nano",
        "openai/gpt-5.5",
        "anthropic/claude-opus-5",
        "google/gemini-3-pro-preview",
        "google/gemini-3-flash-preview",
    ],
)
def test_current_models_are_priced(model):
    assert load_prices().lookup(model) is not None


@pytest.mark.parametrize(
    "model,cached",
    [
        ("openai/gpt-4.1-mini", 0.10),
        ("google/gemini-2.5-pro", 0.125),
        ("google/gemini-2.5-flash", 0.03),
        ("google/gemini-2.5-flash-lite", 0.01),
    ],
)
def test_cached_input_rates_the_issue_found_missing(model, cached):
    assert load_prices().lookup(model).cached_input == cached


@pytest.mark.parametrize(
    "model,expected",
    [
        ("openai/gpt-4.1", (2.0, 0.5, 8.0)),
        ("openai/gpt-4.1-2025-04-14", (2.0, 0.5, 8.0)),  # dated snapshot
        ("openai-responses/gpt-4.1", (2.0, 0.5, 8.0)),  # same model, other API
        ("anthropic/claude-sonnet-4-5-20250929", (3.0, 0.3, 15.0)),
        ("anthropic/claude-opus-4-1", (15.0, 1.5, 75.0)),
        ("anthropic/claude-opus-4-5", (5.0, 0.5, 25.0)),
        ("google/gemini-2.5-flash", (0.3, 0.03, 2.5)),
    ],
)
def test_lookup(model, expected):
    p = load_prices().lookup(model)
    assert (p.input, p.cached_input, p.output) == expected


@pytest.mark.parametrize(
    "model", ["openai/gpt-4.1-nanox", "openai/gpt-4.1x", "policy/oracle", "openai/oracle"]
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


def test_anthropic_cache_writes_bill_at_one_and_a_quarter_the_input_rate():
    p = load_prices().lookup("anthropic/claude-sonnet-4-5")
    # 1000 prompt: 300 cache reads, 200 cache writes, 500 plain; 100 output
    expected = (500 * 3.0 + 300 * 0.3 + 200 * 3.75 + 100 * 15.0) / 1e6
    assert cost_usd(p, 1000, 300, 100, cache_write=200) == pytest.approx(expected)
    # without the write count the same tokens bill as plain input (the old behaviour)
    assert cost_usd(p, 1000, 300, 100) == pytest.approx((700 * 3.0 + 300 * 0.3 + 100 * 15.0) / 1e6)


def test_fanout_prices_lists_the_entry_a_run_is_billed_as(capsys):
    from evals.cli import main as fanout

    assert (
        fanout(["prices", "openai-responses/gpt-5-2025-08-07", "openai/oracle", "--max-age-days", "100000"])
        == 0
    )
    out, err = capsys.readouterr()
    row = next(line for line in out.splitlines() if line.startswith("openai-responses/gpt-5"))
    assert row.split()[:6] == [
        "openai-responses/gpt-5-2025-08-07",
        "openai/gpt-5",
        "1.25",
        "0.125",
        "1.25",
        "10",
    ]
    assert "unknown: cost n/a" in out and "STALE" not in out
    assert "1 model(s) not in the table" in err


def test_fanout_prices_flags_entries_older_than_the_set_age(capsys):
    from evals.cli import main as fanout

    assert fanout(["prices", "--max-age-days", "0"]) == 0
    out, err = capsys.readouterr()
    t = load_prices()
    import datetime

    today = datetime.date.today().isoformat()
    expected = sum(1 for p in t.models.values() if p.read_on < today)
    assert out.count("STALE") == expected > 0
    assert f"{expected} entries read more than 0 days ago" in err


def test_user_file_overrides_and_adds(tmp_path):
    f = tmp_path / "p.json"
    f.write_text(
        json.dumps(
            {"openai/gpt-4.1": {"input": 1.0, "output": 2.0}, "openai/oracle": {"input": 0, "output": 0}}
        )
    )
    t = load_prices(f)
    assert t.version.startswith("2026-11-25+user:") and len(t.version) == len("2026-11-25+user:") + 8
    f.write_text(f.read_text().replace("2.0", "2.5"))
    assert load_prices(f).version != t.version  # another file, another version
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
    with pytest.raises(UsageError, match=match):
        load_prices(f)


def test_missing_user_file_is_a_clear_error(tmp_path):
    with pytest.raises(UsageError, match="cannot read the price file"):
        load_prices(tmp_path / "nope.json")
