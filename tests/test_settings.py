"""RuntimeSettings: constraints, the CLI that builds it, and reading what main wrote before it."""

from __future__ import annotations

import math

import pydantic
import pytest

from evals.cli import main
from evals.errors import EXIT_USAGE, UsageError
from evals.runs import RunConfig
from evals.settings import RuntimeSettings, from_text
from evals.timing import INFERENCE_PROFILES
from evals.trace import Trace


@pytest.mark.parametrize(
    "bad",
    [
        {"clock": "wall"},
        {"fan_out_cap": 0},
        {"tool_timeout": 0},
        {"tool_timeout": math.inf},
        {"hedge_after": -0.1},
        {"latency_scale": 0},
        {"latency_scale": math.nan},
        {"inference_profile": "warp"},
        {"latency_profile": "sluggish"},
        {"max_turns": 0},
        {"speed": 2},
    ],
)
def test_constraints_are_declared_on_the_fields(bad):
    with pytest.raises(pydantic.ValidationError):
        RuntimeSettings(**bad)


def test_settings_are_frozen_and_replace_validates():
    s = RuntimeSettings(fan_out_cap=2)
    with pytest.raises(pydantic.ValidationError):
        s.fan_out_cap = 3  # type: ignore[misc]
    assert s.replace(hedge_after=0.5) == RuntimeSettings(fan_out_cap=2, hedge_after=0.5)
    with pytest.raises(pydantic.ValidationError):
        s.replace(fan_out_cap=0)


def test_text_values_and_their_errors():
    s = from_text({"fan_out_cap": "4", "tool_timeout": "none", "clock": "real", "seed": None})
    assert (s.fan_out_cap, s.tool_timeout, s.clock, s.seed) == (4, None, "real", 0)
    with pytest.raises(UsageError, match=r"^--fan-out-cap '0': .*greater than or equal to 1 \(or none\)$"):
        from_text({"fan_out_cap": "0"})
    with pytest.raises(UsageError, match="FANOUT_SEED 'x'"):
        from_text({"seed": "x"}, labels={"seed": "FANOUT_SEED"})


def test_profiles_by_name_or_custom():
    assert RuntimeSettings(inference_profile="fast").profile == INFERENCE_PROFILES["fast"]
    assert RuntimeSettings(inference_profile="measured").profile is None
    custom = INFERENCE_PROFILES["slow"].model_copy(update={"name": "mine"})
    s = RuntimeSettings(inference_profile=custom)
    assert s.profile is custom and s.profile_label == "mine"
    assert RuntimeSettings.model_validate_json(s.model_dump_json()) == s


def test_whatif_fields_are_the_retimeable_ones():
    assert RuntimeSettings.whatif_fields() == (
        "inference_profile",
        "latency_scale",
        "latency_profile",
        "fan_out_cap",
        "tool_timeout",
        "hedge_after",
    )


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["--fan-out-cap", "0"], {}, "fanout run: --fan-out-cap '0': "),
        (["--clock", "wall"], {}, "fanout run: --clock 'wall': "),
        ([], {"FANOUT_TOOL_TIMEOUT": "-1"}, "fanout run: FANOUT_TOOL_TIMEOUT '-1': "),
        ([], {"FANOUT_SEED": "three"}, "fanout run: FANOUT_SEED 'three': "),
    ],
)
def test_a_bad_setting_is_one_line_exit_2_and_no_run_folder(
    tmp_path, monkeypatch, capsys, argv, env, message
):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    out = tmp_path / "runs"
    assert main(["run", "--model", "policy/oracle", "--out", str(out), *argv]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert not out.exists()


def test_run_json_and_traces_written_before_runtime_settings_still_load():
    flat = {
        "run_id": "r",
        "model": "policy/oracle",
        "suite": "core",
        "suite_path": "tasks/core",
        "suite_hash": "h",
        "task_ids": ["t"],
        "prompt_hash": "p",
        "created": "2026-01-01T00:00:00+00:00",
        "seed": 3,
        "clock": "virtual",
        "inference_profile": "typical",
        "latency_scale": 1.5,
        "latency_profile": None,
        "fan_out_cap": 2,
        "tool_timeout": None,
        "hedge_after": 0.4,
        "max_turns": 12,
    }
    cfg = RunConfig.model_validate(flat)
    assert cfg.runtime == RuntimeSettings(
        seed=3, inference_profile="typical", latency_scale=1.5, fan_out_cap=2, hedge_after=0.4, max_turns=12
    )
    old = {"task_id": "t", "suite": "core", "model": "m", "seed": 3, "clock": "real", "fan_out_cap": 2}
    assert Trace.model_validate(old).runtime == RuntimeSettings(seed=3, clock="real", fan_out_cap=2)
