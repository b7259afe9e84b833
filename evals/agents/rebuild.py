"""An agent episode's trace, rebuilt from what the proxy and the MCP server recorded.

Turn t of the trace is the t-th model response the proxy served. Batch t lists the tool calls of
that response in their positions, each with the MCP call that executed it (its result and measured
start and end), then the MCP calls of batch t's window that executed none of them. Those are the
agent's own calls: they are recorded with their raw arguments but no parsed ones, so the scorer
classes them `extraneous` whatever they look like (a retry, a made-up call, a call before any
model response, which gets turn 0). A tool call of the model that the agent never executed gets
the error `not_executed` and takes no time: its node is not satisfied. Times are seconds from the
agent's first model request or tool call (startup is kept apart, on `AgentRun`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import BaseModel

from mock_tools import error_result

from ..timeline import NOT_EXECUTED
from ..trace import CallRecord, Stop, Trace, TurnRecord
from .session import EpisodeSession, McpCall, dumps

EXTRANEOUS_NOTE = "executes no tool call of the model's response (the agent's own call)"


class AgentRun(BaseModel):
    """What the agent process did, beside the trace."""

    agent: str
    exit_code: int | None = None
    timed_out: bool = False
    startup_s: float | None = None  # spawn -> first model request or tool call
    process_s: float = 0.0  # spawn -> exit
    output: str = "stdout"
    output_chars: int = 0
    stderr_tail: str = ""
    model_requests: int = 0
    mcp_calls: int = 0
    extraneous_calls: int = 0  # MCP calls that executed no tool call of the model
    not_executed: int = 0  # the model's tool calls the agent never executed
    unknown_tool_calls: int = 0


class AgentTrace(Trace):
    """A trace with the agent process's record (loaders that read a plain `Trace` ignore it)."""

    agent: AgentRun | None = None


@dataclass
class AgentOutcome:
    spawn: float  # perf_counter at spawn
    exit: float  # perf_counter at exit (or kill)
    exit_code: int | None
    timed_out: bool
    answer: str | None  # stdout or the output file, stripped; None when unreadable
    stderr_tail: str = ""
    failure: str | None = None  # could not start, output file missing ...


def _parse(raw: str) -> dict | None:
    try:
        v = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return None
    return v if isinstance(v, dict) else None


def _record(c: McpCall, index: int, turn: int, position: int, t0: float) -> CallRecord:
    assert c.end is not None
    return CallRecord(
        index=index,
        turn=turn,
        position=position,
        name=c.name,
        raw_arguments=dumps(c.arguments),
        arguments=None,
        parse_error=EXTRANEOUS_NOTE,
        result=c.result,
        error=c.error,
        sample_s=c.sample_s,
        duration_s=c.duration_s,
        start_s=c.start - t0,
        end_s=c.end - t0,
        timed_out=c.timed_out,
        straggler=c.straggler,
        attempt=c.attempt,
    )


def rebuild(session: EpisodeSession, model: str, out: AgentOutcome, agent: AgentRun) -> AgentTrace:
    cfg = session.cfg
    calls = [c for c in session.calls if c.end is not None]  # a call cut off by the kill never answered
    turns = [t for t in session.turns if t.response is not None and t.end is not None]
    starts = [t.start for t in session.turns] + [c.start for c in session.calls]
    t0 = min(starts) if starts else out.spawn
    trace = AgentTrace(
        task_id=session.task.id,
        suite=session.task.suite,
        model=model,
        epoch=session.epoch,
        runtime=cfg.replace(clock="real", fan_out_cap=None, hedge_after=None),
    )
    by_window: dict[int, list[McpCall]] = {}
    for c in calls:
        by_window.setdefault(c.window, []).append(c)
    records: list[CallRecord] = []
    for pos, c in enumerate(by_window.get(0, [])):
        records.append(_record(c, len(records), 0, pos, t0))
    for t, pt in enumerate(turns, start=1):
        resp = pt.response
        assert resp is not None and pt.end is not None
        mine = by_window.get(pt.index, [])
        executed = {c.position: c for c in mine if c.position is not None}
        batch: list[CallRecord] = []
        for pos, tc in enumerate(resp.tool_calls):
            raw = tc.arguments if isinstance(tc.arguments, str) else dumps(tc.arguments)
            rec = CallRecord(
                index=len(records) + len(batch),
                turn=t,
                position=pos,
                call_id=tc.id,
                name=str(tc.name),
                raw_arguments=raw,
                arguments=_parse(raw),
            )
            if rec.arguments is None:
                rec.parse_error = "arguments are not a JSON object"
            done = executed.get(pos)
            if done is None:
                rec.result = error_result(NOT_EXECUTED, "the agent never executed this tool call")
                rec.error = NOT_EXECUTED
                rec.start_s = rec.end_s = pt.end - t0
                agent.not_executed += 1
            else:
                assert done.end is not None
                rec.result, rec.error = done.result, done.error
                rec.sample_s, rec.duration_s = done.sample_s, done.duration_s
                rec.start_s, rec.end_s = done.start - t0, done.end - t0
                rec.timed_out, rec.straggler, rec.attempt = done.timed_out, done.straggler, done.attempt
            batch.append(rec)
        for c in mine:
            if c.position is None:
                batch.append(_record(c, len(records) + len(batch), t, len(batch), t0))
        ends = [r.end_s for r in batch if r.error != NOT_EXECUTED]
        latency = pt.end - pt.start
        trace.turns.append(
            TurnRecord(
                index=t,
                prompt_tokens=pt.prompt_tokens,
                completion_tokens=pt.completion_tokens,
                cached_tokens=pt.cached_tokens,
                reasoning_tokens=pt.reasoning_tokens,
                cache_write_tokens=pt.cache_write_tokens,
                usage_estimated=pt.usage_estimated,
                model_latency_s=latency,
                measured_latency_s=pt.measured_latency_s,
                start_s=pt.start - t0,
                end_s=pt.end - t0,
                batch_s=max(0.0, max(ends) - (pt.end - t0)) if ends else 0.0,
                text=resp.text,
                n_calls=len(batch),
                finish_reason=resp.finish_reason,
            )
        )
        records.extend(batch)
    trace.calls = records
    ends_all = [t.end_s for t in trace.turns] + [c.end_s for c in records]
    trace.wall_s = max(ends_all) if ends_all else 0.0
    trace.runtime_overhead_s = trace.wall_s - sum(t.model_latency_s + t.batch_s for t in trace.turns)
    agent.model_requests = len(session.turns)
    agent.mcp_calls = len(session.calls)
    agent.extraneous_calls = sum(1 for c in session.calls if c.position is None)
    agent.unknown_tool_calls = sum(1 for c in session.calls if c.error == "unknown_tool")
    agent.startup_s = (t0 - out.spawn) if starts else None
    agent.process_s = out.exit - out.spawn
    agent.exit_code, agent.timed_out = out.exit_code, out.timed_out
    agent.stderr_tail = out.stderr_tail
    agent.output_chars = len(out.answer or "")
    trace.agent = agent
    trace.final_text = out.answer
    trace.stop, trace.error = _ending(session, out, agent)
    return trace


def _ending(session: EpisodeSession, out: AgentOutcome, agent: AgentRun) -> tuple[Stop, str | None]:
    """Why the episode ended, most fundamental cause first."""
    if session.stop == "error":
        return "error", session.error
    if out.failure:
        return "error", out.failure
    if out.timed_out:
        return "error", f"agent {agent.agent} did not finish within its timeout (killed)"
    if session.stop == "max_turns":
        return "max_turns", None
    if out.exit_code != 0:
        last = out.stderr_tail.strip().splitlines()[-1:] or [""]
        return "error", f"agent {agent.agent} exited with code {out.exit_code}: {last[0][:300]}".rstrip(": ")
    if not out.answer:
        return "error", f"agent {agent.agent} printed no answer"
    return "answer", None
