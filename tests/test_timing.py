"""timing.time_call: the one definition of a call's samples and timing (runtime, scorer, what-if)."""

from __future__ import annotations

import pytest

from evals.settings import RuntimeSettings
from evals.timing import Samples, call_time, time_call
from mock_tools import fixed, lognormal, table_tool
from mock_tools.table import TableToolSpec

LM = lognormal(0.3, 1.0, straggler_p=0.5, straggler_mult=10)


def tool(name: str, write: bool = False):
    schema = {"type": "object", "properties": {"key": {"type": "string"}}}
    return table_tool(TableToolSpec(name=name, parameters=schema, write=write, latency=LM, default={}))


READ, WRITE = tool("r"), tool("w", write=True)


def test_attempt_n_draws_sample_n_and_its_hedge_draws_n_plus_1():
    s = RuntimeSettings(seed=4, hedge_after=0.1, latency_scale=2.0, tool_timeout=5.0)
    t = time_call(s, READ, "task", '{"key":"k"}', 3)
    assert t.sample_s == LM.sample(4, "task", "r", '{"key":"k"}', 3)
    assert t.hedge_sample_s == LM.sample(4, "task", "r", '{"key":"k"}', 4)
    assert t.straggler == LM.is_straggler(4, "task", "r", '{"key":"k"}', 3)
    ct = call_time(t.sample_s * 2.0, 5.0, 0.1, t.hedge_sample_s * 2.0)
    assert (t.duration_s, t.timed_out, t.hedged) == tuple(ct)


def test_writes_are_never_hedged_and_hedging_off_draws_no_hedge():
    on = RuntimeSettings(hedge_after=0.0)
    assert time_call(on, WRITE, "t", "{}", 0).hedge_sample_s is None
    assert not time_call(on, WRITE, "t", "{}", 0).hedged
    assert time_call(RuntimeSettings(), READ, "t", "{}", 0).hedge_sample_s is None


def test_recorded_samples_are_used_and_a_missing_hedge_is_drawn():
    s = RuntimeSettings(hedge_after=0.05)
    t = time_call(s, READ, "t", "{}", 2, recorded=Samples(9.0, None))
    assert t.sample_s == 9.0 and t.hedge_sample_s == LM.sample(0, "t", "r", "{}", 3) and t.straggler is None
    assert time_call(s, READ, "t", "{}", 2, recorded=Samples(9.0, 0.01)).duration_s == 0.05 + 0.01
    assert time_call(RuntimeSettings(), None, "t", "", 0, recorded=Samples(0.5, None)).duration_s == 0.5
    with pytest.raises(ValueError, match="needs the tool"):
        time_call(s, None, "t", "", 0, recorded=Samples(0.5, None))  # hedging needs to know reads


def test_latency_profile_and_task_overrides_pick_the_model():
    assert time_call(RuntimeSettings(), READ, "t", "{}", 0, {"r": fixed(0.7)}).sample_s == 0.7
    uniform = RuntimeSettings(latency_profile="uniform")
    assert time_call(uniform, READ, "t", "{}", 0, {"r": fixed(0.7)}).sample_s == 0.3  # the profile wins
    default = RuntimeSettings(latency_profile="default")
    assert time_call(default, READ, "t", "{}", 0, {"r": fixed(0.7)}).sample_s == 0.7


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("{kind: lognormal, median_s: 0.2, sigma: 1.0e+308}", "sigma"),  # math.exp overflowed: a traceback
        ("{kind: fixed, median_s: .inf}", "median_s"),  # --clock real slept forever
        ("{kind: fixed, median_s: .nan}", "median_s"),
        ("{kind: fixed, median_s: 1.0e+9}", "median_s"),
        ("{kind: fixed, median_s: 1, straggler_p: 1, straggler_mult: 1.0e+308}", "straggler_mult"),
    ],
)
def test_a_task_latency_override_past_any_clock_is_a_fixture_error(tmp_path, capsys, override, field):
    from evals.cli import main

    f = tmp_path / "t.yaml"
    f.write_text(
        "id: lat\npattern: single\nprompt: What is the weather in Paris?\ntools: [get_weather]\n"
        f"latency:\n  get_weather: {override}\ncalls:\n  - {{id: w, tool: get_weather, args: {{city: Paris}}}}\n"
    )
    assert main(["tasks", "validate", str(f)]) == 1
    out = capsys.readouterr()
    assert f"task 'lat': latency.get_weather.{field}: " in out.out + out.err and "Traceback" not in out.err


def test_the_widest_latency_a_task_may_set_samples_to_at_most_an_hour():
    from mock_tools.latency import MAX_SAMPLE_S, LatencyModel

    m = LatencyModel(kind="lognormal", median_s=600, sigma=5, straggler_p=1, straggler_mult=1000)
    samples = [m.sample(0, "t", "x", str(i)) for i in range(200)]
    assert max(samples) == MAX_SAMPLE_S and min(samples) > 0
