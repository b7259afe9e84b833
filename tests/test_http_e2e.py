"""End to end through real HTTP: the emulator on a free loopback port, every wire format, 20% faults.

A subset of the core suite (every sixth task by id, all patterns) runs in-process as `policy/...`
and through each adapter against the emulator serving the same policy, with the inference profile
fixed; every episode must complete with the same scores. The only field allowed to differ is
`usage_estimated`: over HTTP the usage is reported by the server instead of estimated. Then a
cached re-run makes zero requests, replay reproduces the run, and API keys reach no file.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from evals.cli import main as fanout
from evals.emulator import EmulatorServer, FaultConfig
from evals.fixtures import load_suite
from evals.runs import build_model, execute, load_run, start_run

SECRETS = {
    "OPENAI_API_KEY": "sk-e2e-SECRET-openai-7c1f",
    "ANTHROPIC_API_KEY": "sk-ant-e2e-SECRET-5d2a",
    "GEMINI_API_KEY": "gm-e2e-SECRET-9b3e",
}
FAST_RETRY = {"retry_base_s": 0.01, "retry_max_s": 0.5, "request_timeout": 10.0}


@pytest.fixture(scope="module")
def suite():
    return load_suite("core")


@pytest.fixture(scope="module")
def task_ids(suite):
    return sorted(t.id for t in suite.tasks)[::6]


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


def run(suite, spec, out: Path, task_ids, **settings):
    run_dir, cfg = start_run(
        spec, suite, out, task_patterns=task_ids, inference_profile="typical", **settings
    )
    model = build_model(cfg, [suite])

    async def go():
        try:
            return await execute(run_dir, cfg, model, suite, progress=False)
        finally:
            await model.aclose()

    asyncio.run(go())
    _, rows = load_run(run_dir)
    return run_dir, rows


def scores(rows, drop=("usage_estimated",)):
    return {(r["task_id"], r["epoch"]): {k: v for k, v in r["scores"].items() if k not in drop} for r in rows}


@pytest.fixture(scope="module")
def baseline(suite, task_ids, tmp_path_factory):
    out = tmp_path_factory.mktemp("base")
    return {p: scores(run(suite, f"policy/{p}", out, task_ids)[1]) for p in ("oracle", "greedy")}


@pytest.mark.parametrize(
    "provider,stream",
    [
        ("openai", False),
        ("openai", True),
        ("anthropic", False),
        ("anthropic", True),
        ("openai-responses", False),
        ("openai-responses", True),
        ("google", False),
        ("google", True),
    ],
)
def test_every_wire_format_matches_in_process_scores_under_faults(
    suite, task_ids, baseline, tmp_path, provider, stream
):
    faults = FaultConfig(rate=0.2, seed=1)
    with EmulatorServer([suite], policy="oracle", seed=0, faults=faults) as srv:
        opts = {
            "base_url": srv.base_url + "/v1",
            "cache_path": str(tmp_path / "c.sqlite"),
            "stream": stream,
            **FAST_RETRY,
        }
        run_dir, rows = run(suite, f"{provider}/oracle", tmp_path, task_ids, model_options=opts)
        injected = srv.faults.counts()
    assert sum(injected.values()) > 0, "the emulator injected no fault"
    assert [r for r in rows if r["scores"]["error"]] == []
    assert len(rows) == len(task_ids)
    assert scores(rows) == baseline["oracle"]
    assert all(not r["scores"]["usage_estimated"] for r in rows)
    if stream:  # streamed turns with calls record time to first token and to first complete call
        turns = [t for r in rows for t in r["trace"]["turns"] if t["n_calls"]]
        assert turns and all(t["ttft_s"] is not None and t["first_call_s"] is not None for t in turns)


def test_greedy_placeholders_survive_the_wire(suite, task_ids, baseline, tmp_path):
    with EmulatorServer([suite], policy="oracle", faults=FaultConfig(rate=0.2, seed=2)) as srv:
        opts = {"base_url": srv.base_url + "/v1", "cache": False, **FAST_RETRY}
        _, rows = run(suite, "anthropic/greedy", tmp_path, task_ids, model_options=opts)
    assert scores(rows) == baseline["greedy"]


def test_cached_rerun_makes_no_request_and_replay_reproduces(suite, task_ids, baseline, tmp_path):
    cache = tmp_path / "cache.sqlite"
    with EmulatorServer([suite], policy="oracle", faults=FaultConfig(rate=0.2, seed=3)) as srv:
        opts = {"base_url": srv.base_url + "/v1", "cache_path": str(cache), **FAST_RETRY}
        live_dir, live = run(suite, "openai/oracle", tmp_path, task_ids, model_options=opts)
        served = srv.requests_served
        cached_dir, cached = run(suite, "openai/oracle", tmp_path, task_ids, model_options=opts)
        assert srv.requests_served == served  # zero HTTP requests
    assert scores(cached, drop=()) == scores(live, drop=())
    assert all(t["cached"] for r in cached for t in r["trace"]["turns"])
    assert not any(t["cached"] for r in live for t in r["trace"]["turns"])
    # the recorded live latency is kept on a hit
    lat = {(r["task_id"], t["index"]): t["measured_latency_s"] for r in live for t in r["trace"]["turns"]}
    assert {
        (r["task_id"], t["index"]): t["measured_latency_s"] for r in cached for t in r["trace"]["turns"]
    } == lat

    _, replayed = run(suite, f"replay/{live_dir}", tmp_path, task_ids)
    assert scores(replayed, drop=()) == scores(live, drop=())
    assert all(t["cached"] for r in replayed for t in r["trace"]["turns"])

    # keys travel in headers only: no run file, cache byte or report holds one
    assert fanout(["report", str(live_dir), str(cached_dir), "--out", str(tmp_path / "report")]) == 0
    reports = list((tmp_path / "report").iterdir())
    assert reports
    for path in [*live_dir.iterdir(), *cached_dir.iterdir(), *tmp_path.glob("*.sqlite*"), *reports]:
        data = path.read_bytes()
        for secret in SECRETS.values():
            assert secret.encode() not in data, f"{secret} leaked into {path}"


def test_epochs_get_distinct_cache_keys(suite, task_ids, tmp_path):
    with EmulatorServer([suite], policy="oracle") as srv:
        opts = {"base_url": srv.base_url + "/v1", "cache_path": str(tmp_path / "c.sqlite"), **FAST_RETRY}
        _, rows = run(suite, "openai/oracle", tmp_path, task_ids[:4], model_options=opts, epochs=2)
        turns = sum(len(r["trace"]["turns"]) for r in rows)
        assert srv.requests_served == turns  # epoch 1 was not served from epoch 0's entries
    assert sorted({r["epoch"] for r in rows}) == [0, 1]


def test_cli_flags_reach_the_adapter_and_run_json_holds_no_key(suite, task_ids, tmp_path, capsys):
    with EmulatorServer([suite], policy="oracle") as srv:
        argv = ["run", "--suite", "core", "--model", "openai/sequential", "--base-url", srv.base_url + "/v1"]
        argv += ["--inference-profile", "typical", "--no-cache", "--stream", "--max-connections", "4"]
        argv += ["--no-parallel-tool-calls", "--temperature", "0", "--out", str(tmp_path), "--no-progress"]
        for t in task_ids[:3]:
            argv += ["--task", t]
        assert fanout(argv) == 0
    run_dir = next(p for p in tmp_path.iterdir() if p.is_dir())
    cfg = json.loads((run_dir / "run.json").read_text())
    assert cfg["model_options"] == {
        "base_url": srv.base_url + "/v1",
        "max_connections": 4,
        "stream": True,
        "cache": False,
        "settings": {"temperature": 0.0, "parallel_tool_calls": False},
    }
    out = capsys.readouterr()
    for secret in SECRETS.values():
        assert secret not in out.out + out.err
        assert secret not in (run_dir / "run.json").read_text()
    _, rows = load_run(run_dir)
    assert len(rows) == 3 and all(r["scores"]["error"] is None for r in rows)
