"""The real clock's own overhead (issue 11, item 6): measured per episode, reported per run as
`runtime_overhead_share`, warned about once over 5% of the episodes' wall-clock and refused (the
run stops) over 25%."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from evals.cli import main as fanout
from evals.clocks import (
    OVERHEAD_MIN_EPISODES,
    OVERHEAD_REFUSE_SHARE,
    OVERHEAD_WARN_SHARE,
    OverheadCheck,
    OverheadError,
)
from evals.fixtures import load_suite
from evals.models import make_model
from evals.models.base import Model, ModelRequest, ModelResponse
from evals.runs import execute, load_run, start_run
from evals.settings import RuntimeSettings
from evals.timing import InferenceProfile
from evals.trace import Trace


def trace(wall: float, overhead: float | None) -> Trace:
    return Trace(task_id="t", suite="s", model="m", wall_s=wall, runtime_overhead_s=overhead)


def test_the_check_warns_once_over_the_warn_share_and_refuses_over_the_hard_limit():
    check = OverheadCheck(max_concurrency=5000)
    share = (OVERHEAD_WARN_SHARE + OVERHEAD_REFUSE_SHARE) / 2  # 15%
    warnings = [check.add(trace(2.0, 2.0 * share)) for _ in range(3 * OVERHEAD_MIN_EPISODES)]
    (first, *rest) = [w for w in warnings if w]
    assert warnings.index(first) == OVERHEAD_MIN_EPISODES - 1 and not rest  # judged on 20, then once
    assert first == (
        "--clock real: the runtime's own overhead is 15.0% of episode wall-clock (mean of 20 episodes), "
        "over 5%: wall-clock and speedup include it; lower --max-concurrency (now 5000) to measure the model"
    )
    check = OverheadCheck(max_concurrency=10000)
    for _ in range(OVERHEAD_MIN_EPISODES - 1):
        assert check.add(trace(1.0, 0.5)) is None
    with pytest.raises(
        OverheadError, match=r"50\.0% of episode wall-clock \(mean of 20 episodes\), over the 25% "
    ):
        check.add(trace(1.0, 0.5))


def test_the_virtual_clock_and_a_quiet_runtime_pass_and_a_short_run_is_judged_at_its_end():
    check = OverheadCheck(32)
    assert all(check.add(trace(3.0, None)) is None for _ in range(50))  # virtual: no overhead
    assert check.finish() is None and check.n == 0
    quiet = OverheadCheck(32)
    assert all(quiet.add(trace(3.0, 0.003)) is None for _ in range(50)) and quiet.finish() is None
    short = OverheadCheck(32)
    assert short.add(trace(1.0, 0.4)) is None  # too few episodes to judge (or refuse) while running
    assert "40.0% of episode wall-clock (mean of 1 episodes)" in (short.finish() or "")


class Busy(Model):
    """A reference policy whose every turn holds the event loop for `block_s` (CPU work done
    synchronously), as thousands of concurrent episodes do to one event loop."""

    def __init__(self, inner: Model, block_s: float):
        self.inner, self.block_s, self.name = inner, block_s, inner.name

    async def generate(self, request: ModelRequest) -> ModelResponse:
        time.sleep(self.block_s)
        return await self.inner.generate(request)


QUICK = InferenceProfile(name="quick", ttft_s=0.001, prefill_tps=1e9, decode_tps=1e9)


def test_a_runtime_too_loaded_to_measure_stops_the_run(tmp_path, capsys):
    core = load_suite("core")
    real = RuntimeSettings(clock="real", inference_profile=QUICK, latency_scale=0.01)
    d, cfg = start_run("policy/oracle", core, tmp_path, runtime=real, task_patterns=["orders*"], epochs=2)
    model = Busy(make_model("policy/oracle", [core]), block_s=0.02)
    with pytest.raises(OverheadError, match="over the 25% limit: its timings would measure this machine"):
        asyncio.run(execute(d, cfg, model, core, progress=False))
    cfg, rows = load_run(d)
    assert cfg.status == "stopped" and "over the 25% limit" in (cfg.stop_reason or "")
    assert OVERHEAD_MIN_EPISODES <= len(rows) < 28  # stopped once judged: the rest were cancelled


def test_runs_record_the_overhead_share(tmp_path):
    out = tmp_path / "runs"
    base = ["run", "--model", "policy/oracle", "--task", "orders_chain_0*", "--no-progress"]
    assert fanout([*base, "--out", str(out / "virtual")]) == 0
    assert fanout([*base, "--out", str(out / "real"), "--clock", "real", "--inference-profile", "fast"]) == 0
    (v,) = (out / "virtual").iterdir()
    (r,) = (out / "real").iterdir()
    assert json.loads((v / "summary.json").read_text())["runtime_overhead_share"] is None
    share = json.loads((r / "summary.json").read_text())["runtime_overhead_share"]
    rows = load_run(r)[1]
    expected = sum(max(0.0, x["trace"]["runtime_overhead_s"]) / x["trace"]["wall_s"] for x in rows) / len(
        rows
    )
    assert share == pytest.approx(expected) and 0 <= share < 1


def test_an_episode_that_ended_in_a_provider_error_is_not_counted_as_overhead():
    """Its wall-clock holds the retries' backoff waits: a server that went down mid-run must not
    stop the run as "100% runtime overhead" (it is an infrastructure failure of its own)."""
    check = OverheadCheck(32)
    failed = Trace(task_id="t", suite="s", model="m", wall_s=9.0, runtime_overhead_s=9.0, stop="error")
    for _ in range(2 * OVERHEAD_MIN_EPISODES):
        assert check.add(failed) is None
    assert check.n == 0 and check.finish() is None
    assert check.add(trace(1.0, 0.5)) is None and check.n == 1  # the others still count
