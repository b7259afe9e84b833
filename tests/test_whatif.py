"""What-if recomputation: exact against the runtime, on stored runs, sweeps and the CLI."""

from __future__ import annotations

import asyncio
import csv
import json
import math
import shutil
from pathlib import Path

import pytest
from helpers import graph_suite

from evals.cli import main
from evals.models.policies import PolicyModel
from evals.runtime import run_episode
from evals.settings import RuntimeSettings
from evals.timing import INFERENCE_PROFILES, InferenceProfile
from evals.whatif import (
    KEEP,
    Effective,
    Setting,
    WhatIfError,
    custom_profile,
    grid,
    load_runs,
    parse_sweep,
    retime,
    retime_run,
    whatif_rows,
)

POLICIES = ("oracle", "sequential", "greedy", "redundant", "lazy")
TIME_KEYS = (
    "wall_s",
    "serial_wall_s",
    "parallel_speedup",
    "ideal_wall_s",
    "rejoin_s",
    "model_time_s",
    "tool_time_s",
)
TEXTBOOK = InferenceProfile(name="textbook", ttft_s=0.8, prefill_tps=math.inf, decode_tps=math.inf)
THREE = graph_suite({"three": {"a": [], "b": [], "c": []}}, latency_s=0.3)


def episode(policy: str, suite, task_id: str, profile: InferenceProfile | None = None, **kw):
    cfg = RuntimeSettings(**kw, **({"inference_profile": profile} if profile is not None else {}))
    trace = asyncio.run(run_episode(PolicyModel(policy, [suite]), suite.by_id[task_id], cfg))
    return trace, cfg


def as_run(cfg: RuntimeSettings, profile: InferenceProfile | None = None) -> Effective:
    settings = cfg.replace(inference_profile=profile) if profile is not None else cfg
    return Effective(settings, settings.profile_label or "as-run", resample=False)


# -- the textbook example ---------------------------------------------------------------------


def test_textbook_example_comes_out_of_the_engine_exactly():
    """Three independent 300 ms lookups, 800 ms model turns: 4 turns + 3 waits vs 2 turns + 1 wait."""
    seq, _ = episode("sequential", THREE, "three", TEXTBOOK)
    fan, _ = episode("oracle", THREE, "three", TEXTBOOK)
    assert (len(seq.turns), len(fan.turns)) == (4, 2)
    assert seq.wall_s == pytest.approx(4.1, abs=1e-9)
    assert fan.wall_s == pytest.approx(1.9, abs=1e-9)


def test_textbook_example_from_traces_recorded_under_another_profile():
    seq, cfg = episode("sequential", THREE, "three")  # recorded with the default (typical) profile
    fan, _ = episode("oracle", THREE, "three")
    assert abs(seq.wall_s - 4.1) > 0.5  # typical: ttft 0.5 s plus prefill and decode
    eff = as_run(cfg, custom_profile(0.8, math.inf, math.inf))
    s, f = retime(seq, eff), retime(fan, eff)
    assert s["wall_s"] == pytest.approx(4.1, abs=1e-9) and f["wall_s"] == pytest.approx(1.9, abs=1e-9)
    assert s["model_time_s"] == pytest.approx(3.2, abs=1e-9) and s["tool_time_s"] == pytest.approx(
        0.9, abs=1e-9
    )
    assert f["serial_wall_s"] == pytest.approx(2.5, abs=1e-9)  # the fanned-out trace, calls one by one
    assert f["rejoin_s"] == pytest.approx(0.8, abs=1e-9) and s["rejoin_s"] is None


# -- a suite on disk, run through the CLI -------------------------------------------------------

KEY = {"type": "object", "properties": {"key": {"type": "string"}}, "required": ["key"]}


def _tool(name: str, latency: dict, write: bool = False) -> dict:
    return {"name": name, "parameters": KEY, "write": write, "latency": latency, "default": {"ok": name}}


SUITE_YAML = {
    "name": "wi",
    "tools": [
        _tool(
            f"lookup_{n}",
            {"kind": "lognormal", "median_s": 0.3, "sigma": 0.6, "straggler_p": 0.2, "straggler_mult": 5},
        )
        for n in "abc"
    ]
    + [
        _tool("detail", {"kind": "lognormal", "median_s": 0.2, "sigma": 0.5}),
        _tool("save_note", {"kind": "lognormal", "median_s": 0.25, "sigma": 0.4}, write=True),
    ],
}


def _call(i: str, tool: str, key: str, after: str = "") -> dict:
    return {"id": i, "tool": tool, "args": {"key": key}, "after": list(after)}


def _task(tid: str, pattern: str, prompt: str, calls: str) -> dict:
    """`calls`: space-separated `id:tool:key[:after]` (after: node ids, one letter each)."""
    nodes = [_call(*spec.split(":")) for spec in calls.split()]
    tools = list(dict.fromkeys(n["tool"] for n in nodes))
    return {"id": tid, "pattern": pattern, "prompt": prompt, "tools": tools, "calls": nodes}


TASKS = [
    _task("fan", "independent", "Look up a, b and c.", "a:lookup_a:x1 b:lookup_b:x2 c:lookup_c:x3"),
    _task(
        "join",
        "fan_out_join",
        "Look up a and b, then the detail.",
        "a:lookup_a:j1 b:lookup_b:j2 d:detail:j3:ab",
    ),
    _task(
        "wtr", "write_then_read", "Save the note, then read the detail back.", "w:save_note:n1 r:detail:n1:w"
    ),
    _task(
        "chain", "chain", "Look up a, then its detail, then c.", "a:lookup_a:c1 d:detail:c2:a c:lookup_c:c3:d"
    ),
]

RUNS = {
    "base": [],
    "tuned": [
        "--fan-out-cap",
        "2",
        "--tool-timeout",
        "0.6",
        "--hedge-after",
        "0.35",
        "--latency-scale",
        "1.3",
    ]
    + ["--inference-profile", "slow"],
    "mirror": ["--fan-out-cap", "2", "--hedge-after", "0.35", "--inference-profile", "slow"],
    "uniform": ["--latency-profile", "uniform"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("whatif")
    suite = root / "wi"
    suite.mkdir()
    (suite / "suite.yaml").write_text(json.dumps(SUITE_YAML))
    (suite / "tasks.yaml").write_text(json.dumps(TASKS))
    out = {}
    for name, flags in RUNS.items():
        models = [a for p in POLICIES for a in ("--model", f"policy/{p}")]
        argv = ["run", *models, "--suite", str(suite), "--out", str(root / name), "--no-progress", *flags]
        assert main(argv) == 0
        out[name] = root / name
    return out


def _by_key(rows: list[dict]) -> dict[tuple, dict]:
    return {(r["task_id"], r["epoch"]): r for r in rows}


@pytest.mark.parametrize("name", ["base", "tuned"])
def test_as_run_reproduces_stored_time_metrics_bit_for_bit(runs, name):
    loaded = load_runs([runs[name]])
    assert len(loaded) == len(POLICIES) and not any(r.warnings for r in loaded)
    for run in loaded:
        stored = _by_key([r.scores_row() for r in run.records])
        for row in retime_run(run, Setting()):
            s = stored[(row["task_id"], row["epoch"])]
            for k in TIME_KEYS + ("timed_out_calls",):
                assert row[k] == s[k], (run.cfg.model, row["task_id"], k)  # exact float equality
        (agg,) = [r for r in whatif_rows([run], [Setting()]) if r.pattern is None]
        summary = json.loads((run.path / "summary.json").read_text())
        for k in (
            "wall_s_p50",
            "wall_s_p95",
            "wall_s_mean",
            "parallel_speedup",
            "ideal_wall_s_mean",
            "rejoin_s_mean",
        ):
            assert getattr(agg, k) == summary[k], (run.cfg.model, k)
        assert agg.timed_out_calls == summary["timed_out_calls"] and agg.episodes == summary["episodes"]
        assert agg.model_share + agg.tool_share == pytest.approx(1.0)


def test_tuned_run_exercises_every_policy(runs):
    calls = [c for run in load_runs([runs["tuned"]]) for t in run.traces for c in t.calls]
    assert any(c.timed_out for c in calls) and any(c.hedged for c in calls)
    assert any(c.start_s > min(x.start_s for x in calls if x.turn == c.turn) for c in calls)


def test_whatif_predicts_a_run_made_with_other_settings_exactly(runs):
    """Settings that leave every call's result unchanged (profile, cap, hedging) must re-time the
    base traces into exactly what the runtime recorded when it ran with them."""
    setting = Setting(inference_profile=INFERENCE_PROFILES["slow"], fan_out_cap=2, hedge_after=0.35)
    mirror = {r.cfg.model: r for r in load_runs([runs["mirror"]])}
    for run in load_runs([runs["base"]]):
        predicted = _by_key(retime_run(run, setting))
        actual = _by_key([r.scores_row() for r in mirror[run.cfg.model].records])
        assert predicted.keys() == actual.keys()
        for key, p in predicted.items():
            for k in TIME_KEYS:
                assert p[k] == actual[key][k], (run.cfg.model, key, k)
    uniform = {r.cfg.model: r for r in load_runs([runs["uniform"]])}
    for run in load_runs([runs["base"]]):
        predicted = _by_key(retime_run(run, Setting(latency_profile="uniform")))
        actual = _by_key([r.scores_row() for r in uniform[run.cfg.model].records])
        for key, p in predicted.items():
            assert p["wall_s"] == actual[key]["wall_s"] and p["ideal_wall_s"] == actual[key]["ideal_wall_s"]


def test_timeout_whatif_counts_the_calls_it_would_cut(runs):
    (run,) = [r for r in load_runs([runs["base"]]) if r.cfg.model == "policy/redundant"]
    bound = 0.4
    expected = sum(1 for t in run.traces for c in t.calls if c.sample_s > bound)
    assert 0 < expected < sum(len(t.calls) for t in run.traces)
    rows = retime_run(run, Setting(tool_timeout=bound))
    assert sum(r["timed_out_calls"] for r in rows) == expected
    base = _by_key(retime_run(run, Setting()))
    assert all(r["wall_s"] <= base[(r["task_id"], r["epoch"])]["wall_s"] for r in rows)
    assert any(r["wall_s"] < base[(r["task_id"], r["epoch"])]["wall_s"] for r in rows)


def test_fan_out_cap_of_one_serialises_every_batch(runs):
    for run in load_runs([runs["base"]]):
        for r in retime_run(run, Setting(fan_out_cap=1)):
            assert r["wall_s"] == pytest.approx(r["serial_wall_s"], abs=1e-12)


def test_real_clock_trace_agrees_with_the_virtual_timeline():
    suite = graph_suite({"w": {"a": [], "b": [], "c": ["a", "b"]}}, latency_s=0.02)
    tiny = InferenceProfile(name="tiny", ttft_s=0.01, prefill_tps=1e6, decode_tps=1e5)
    virt, cfg = episode("oracle", suite, "w", tiny, fan_out_cap=1)
    real, _ = episode("oracle", suite, "w", tiny, fan_out_cap=1, clock="real")
    replay = retime(real, as_run(cfg))
    assert replay["wall_s"] == virt.wall_s  # same responses, same samples: the same virtual timeline
    assert real.runtime_overhead_s is not None and 0 <= real.runtime_overhead_s < 0.1
    assert real.wall_s - replay["wall_s"] == pytest.approx(real.runtime_overhead_s, abs=1e-9)
    assert abs(real.wall_s - virt.wall_s) <= real.runtime_overhead_s + 1e-9


# -- settings and the command line --------------------------------------------------------------


def test_sweep_parsing_builds_the_grid():
    dims = parse_sweep(
        ["inference-profile=fast,typical,slow", "fan-out-cap=2,4,8,none", "tool-timeout=as-run,1.5"]
    )
    assert [p.name for p in dims["inference-profile"]] == ["fast", "typical", "slow"]
    assert dims["fan-out-cap"] == [2, 4, 8, None]
    assert dims["tool-timeout"] == [KEEP, 1.5]
    settings = grid(dims)
    assert len(settings) == 24
    assert (settings[0].inference_profile.name, settings[0].fan_out_cap, settings[0].tool_timeout) == (
        "fast",
        2,
        KEEP,
    )
    assert settings[0].hedge_after is KEEP and grid({}) == [Setting()]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (["fan-out-cap=0"], "fan-out-cap: '0'"),
        (["fan-out-cap=two"], "fan-out-cap: 'two'"),
        (["inference-profile=warp"], "known: fast, typical, slow"),
        (["latency-scale=none"], "latency-scale"),
        (["tool-timeout=-1"], "tool-timeout"),
        (["speed=fast"], "unknown what-if setting 'speed'"),
        (["fan-out-cap"], "expected SETTING=V1,V2"),
        (["fan-out-cap=2", "fan-out-cap=4"], "twice"),
    ],
)
def test_bad_settings_are_named(spec, message):
    with pytest.raises(WhatIfError, match=message):
        parse_sweep(spec)


def test_cli_sweep_prints_and_writes_the_grid(runs, tmp_path, capsys):
    out = tmp_path / "out"
    argv = [
        "whatif",
        str(runs["base"]),
        "--sweep",
        "inference-profile=fast,typical,slow",
        "fan-out-cap=2,4,8,none",
    ]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert printed[0].split()[:3] == ["model", "inference_profile", "fan_out_cap"]
    assert len(printed) == 1 + len(POLICIES) * 12  # one line per model x setting
    rows = json.loads((out / "whatif.json").read_text())
    patterns = {t["pattern"] for t in TASKS}
    assert len(rows) == len(POLICIES) * 12 * (1 + len(patterns))
    agreed = {
        "model",
        "suite",
        "inference_profile",
        "latency_scale",
        "fan_out_cap",
        "tool_timeout",
        "hedge_after",
    }
    agreed |= {"wall_s_p50", "wall_s_p95", "wall_s_mean", "serial_wall_s_mean", "parallel_speedup"}
    agreed |= {
        "ideal_wall_s_mean",
        "rejoin_s_mean",
        "model_share",
        "tool_share",
        "timed_out_calls",
        "pattern",
    }
    assert agreed <= rows[0].keys()
    assert {r["pattern"] for r in rows} == patterns | {None}
    with open(out / "whatif.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == len(rows)
    alls = {(r["model"], r["inference_profile"], r["fan_out_cap"]): r for r in rows if r["pattern"] is None}
    for (model, prof, cap), r in alls.items():
        # A cap can only slow a batch down; the slower the inference, the larger the model's share.
        assert r["wall_s_mean"] >= alls[(model, prof, None)]["wall_s_mean"] - 1e-12
        assert r["fan_out_cap"] == cap and r["suite"] == "wi"
    for model in (f"policy/{p}" for p in POLICIES):
        shares = [alls[(model, p, None)]["model_share"] for p in ("fast", "typical", "slow")]
        assert shares == sorted(shares)
    seq, fan = alls[("policy/sequential", "typical", None)], alls[("policy/oracle", "typical", None)]
    assert seq["parallel_speedup"] == pytest.approx(1.0) and fan["parallel_speedup"] > 1.0


def test_cli_single_settings_and_custom_profile(runs, capsys):
    run_dir = next(p for p in sorted(runs["base"].iterdir()) if p.name.endswith("policy-oracle"))
    assert main(["whatif", str(run_dir), "--ttft", "0.8", "--prefill-tps", "inf", "--decode-tps", "inf"]) == 0
    out = capsys.readouterr().out
    assert "custom(ttft=0.8,prefill=inf,decode=inf)" in out and "policy/oracle" in out
    assert main(["whatif", str(run_dir), "--hedge-after", "0.2", "--by-pattern"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 + 1 + len(TASKS)  # header, all patterns, one per pattern


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fan-out-cap", "0"], "fan-out-cap: '0'"),
        (["--ttft", "0.8"], "needs all of --ttft, --prefill-tps and --decode-tps"),
        (["--inference-profile", "fast", "--sweep", "inference-profile=slow"], "both as --inference-profile"),
    ],
)
def test_cli_misuse_exits_2_with_a_message(runs, capsys, extra, message):
    assert main(["whatif", str(runs["base"]), *extra]) == 2
    assert message in capsys.readouterr().err


def test_cli_rejects_a_folder_without_runs(tmp_path, capsys):
    assert main(["whatif", str(tmp_path)]) == 2
    assert "is not a run folder" in capsys.readouterr().err


def test_a_run_whose_suite_is_gone_still_retimes_what_it_can(runs, tmp_path):
    src = next(p for p in sorted(runs["base"].iterdir()) if p.name.endswith("policy-greedy"))
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    cfg = json.loads((dst / "run.json").read_text())
    cfg["suite"], cfg["suite_path"] = "no-such-suite", str(tmp_path / "gone")
    (dst / "run.json").write_text(json.dumps(cfg))
    (run,) = load_runs([dst])
    assert run.suite is None and "cannot be loaded" in run.warnings[0]
    (row, *_) = whatif_rows([run], [Setting(inference_profile=INFERENCE_PROFILES["fast"])])
    assert row.ideal_wall_s_mean is None and row.wall_s_mean is not None
    with pytest.raises(WhatIfError, match="not in the suite any more"):
        retime_run(run, Setting(hedge_after=0.1))


def test_a_damaged_episode_line_is_a_clear_error(runs, tmp_path, capsys):
    src = next(p for p in sorted(runs["base"].iterdir()) if p.name.endswith("policy-lazy"))
    dst = tmp_path / src.name
    shutil.copytree(src, dst)
    lines = (dst / "episodes.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    del first["scores"]
    (dst / "episodes.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    assert main(["whatif", str(dst)]) == 2
    assert "episodes.jsonl: an episode has no valid trace and scores" in capsys.readouterr().err


def test_changed_episodes_count_the_conversations_a_timeout_would_change(runs):
    """An episode whose calls would time out differently than in the run is another conversation:
    the model would have read an error result. `changed_episodes` counts them; as run, none."""
    (run,) = [r for r in load_runs([runs["base"]]) if r.cfg.model == "policy/redundant"]
    bound = 0.4
    expected = sum(1 for t in run.traces if any(c.sample_s > bound for c in t.calls))
    [row] = [r for r in whatif_rows([run], [Setting(tool_timeout=bound)], by_pattern=False)]
    assert 0 < row.metric("changed_episodes") == expected < len(run.traces)
    [as_run] = whatif_rows([run], [Setting()], by_pattern=False)
    assert as_run.metric("changed_episodes") == 0
