"""The two clocks behind one interface: same batch, same answers; times computed or measured."""

from __future__ import annotations

import asyncio

import pytest

from evals.clocks import RealClock, VirtualClock, start_clock
from evals.settings import RuntimeSettings
from evals.trace import CallRecord


class Tools:
    """A ToolServer that records what was requested and applied."""

    def __init__(self) -> None:
        self.requested: list[str] = []
        self.applied: list = []

    def request(self, c: CallRecord):
        self.requested.append(c.name)
        return {"ok": c.name}, [c.name]

    def apply(self, writes) -> None:
        self.applied += [w for _, w in sorted(writes)]


def calls(*durations: float, timed_out: int | None = None) -> list[CallRecord]:
    out = []
    for i, d in enumerate(durations):
        c = CallRecord(index=i, turn=1, position=i, name=f"t{i}", raw_arguments="{}", arguments={})
        c.sample_s = c.duration_s = d
        c.timed_out = i == timed_out
        out.append(c)
    return out


def test_settings_pick_the_clock():
    assert isinstance(start_clock(RuntimeSettings()), VirtualClock)
    assert isinstance(start_clock(RuntimeSettings(clock="real")), RealClock)


def test_virtual_clock_computes_the_timeline_and_skips_a_timed_out_call():
    clock = VirtualClock(RuntimeSettings(fan_out_cap=2, tool_timeout=0.5))
    tools = Tools()

    async def go():
        start = clock.turn_start()
        end, lat = await clock.turn_end(start, 1.0, answered_at_once=True)  # nothing sleeps
        batch = calls(0.25, 0.5, 0.25, timed_out=1)
        return (start, end, lat), batch, await clock.run_batch(batch, end, tools)

    turn, batch, batch_s = asyncio.run(go())
    assert turn == (0.0, 1.0, 1.0)
    assert [(c.start_s, c.end_s) for c in batch] == [(1.0, 1.25), (1.0, 1.5), (1.25, 1.5)]
    assert batch_s == 0.5 and clock.finish() == (1.5, None)
    assert tools.requested == ["t0", "t2"] and tools.applied == [["t0"], ["t2"]]  # the timeout never ran
    assert batch[1].error == "timeout" and batch[1].timed_out


def test_real_clock_waits_and_measures_its_own_overhead():
    clock = RealClock(RuntimeSettings(clock="real"))
    tools = Tools()

    async def go():
        start = clock.turn_start()
        end, lat = await clock.turn_end(start, 0.03, answered_at_once=True)  # a policy: waited out
        batch = calls(0.02, 0.04)
        return end, lat, batch, await clock.run_batch(batch, end, tools)

    end, lat, batch, batch_s = asyncio.run(go())
    assert 0.03 <= lat < 0.2 and 0.04 <= batch_s < 0.2  # it waited (loose upper bounds: a loaded machine)
    assert tools.requested == ["t0", "t1"] and tools.applied == [["t0"], ["t1"]]
    wall, overhead = clock.finish()
    assert overhead is not None and wall - overhead == pytest.approx(0.03 + 0.04)  # the virtual timeline
    assert 0 <= overhead < 0.2
