"""The agent loop: model turn, concurrent batch of tool calls, results back, repeat.

Two clocks share this code. Virtual (default): nothing sleeps; a call's duration is its latency
sample, a batch's duration is the makespan of its calls on `fan_out_cap` slots in issue order,
and a model turn takes its measured latency or the inference profile's. Real: tool calls really
`await` their latency concurrently under a semaphore, policies sleep their profile latency, and
timestamps are perf_counter readings.

Writes made during a batch are applied when the batch ends, in issue order, so a read fanned out
beside the write it depends on sees the stale state.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from mock_tools import EpisodeState, ToolContext, World, error_result, is_error
from mock_tools.canonical import normalized_key

from .errors import InfrastructureError
from .fixtures import Task
from .models.base import Message, Model, ModelError, ModelRequest, ModelResponse
from .prompts import PromptTemplates
from .timing import (
    DEFAULT_PROFILE,  # noqa: F401  (re-exported: callers read the runtime's default here)
    InferenceProfile,
    LatencySettings,
    batch_times,
    call_time,
    get_profile,
    turn_latency,
)
from .tokens import MESSAGE_OVERHEAD, estimate_json, estimate_text, estimate_tools
from .trace import CallRecord, Trace, TurnRecord


@dataclass
class RuntimeConfig:
    seed: int = 0
    clock: str = "virtual"  # virtual | real
    inference_profile: str | None = None  # None: measured latency, or "typical" when the model reports none
    latency_scale: float = 1.0
    latency_profile: str | None = None
    fan_out_cap: int | None = None
    tool_timeout: float | None = None
    hedge_after: float | None = None
    max_turns: int = 30
    settings: dict[str, Any] = field(default_factory=dict)
    prompts: PromptTemplates | None = None

    def __post_init__(self) -> None:
        if self.clock not in ("virtual", "real"):
            raise ValueError(f"clock must be 'virtual' or 'real', not {self.clock!r}")
        if self.fan_out_cap is not None and self.fan_out_cap < 1:
            raise ValueError("fan_out_cap must be >= 1")
        if self.tool_timeout is not None and self.tool_timeout <= 0:
            raise ValueError("tool_timeout must be > 0")
        if self.hedge_after is not None and self.hedge_after < 0:
            raise ValueError("hedge_after must be >= 0")
        if self.max_turns < 1:
            raise ValueError("max_turns must be >= 1")
        self.profile: InferenceProfile | None = get_profile(self.inference_profile)
        self.latency = LatencySettings(self.seed, self.latency_scale, self.latency_profile)
        if self.prompts is None:
            self.prompts = PromptTemplates.load()


_WORLDS: dict[int, World] = {}


def world_for(seed: int) -> World:
    w = _WORLDS.get(seed)
    if w is None:
        w = _WORLDS[seed] = World(seed)
    return w


async def sleep_until(deadline: float) -> None:
    """Sleep until a perf_counter deadline with sub-millisecond lateness.

    The event loop's timers wake up to a millisecond late (epoll rounds timeouts up); over a
    turn of two sleeps that is the whole overhead budget of the real clock. So sleep coarsely
    until 1.5 ms before the deadline, then yield to the loop until it passes.
    """
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        await asyncio.sleep(remaining - 0.0015 if remaining > 0.002 else 0)


def _dump(result: Any) -> str:
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False, default=str)


def _parse(raw: Any) -> tuple[str, dict | None, str | None]:
    """(raw text, parsed object or None, parse error). Tolerates servers that send an object."""
    if isinstance(raw, dict):
        return _dump(raw), raw, None
    if raw is None or raw == "":
        return "", {}, None  # no arguments at all: an empty object, as providers treat it
    if not isinstance(raw, str):
        return _dump(raw), None, f"arguments are a {type(raw).__name__}, not an object"
    try:
        val = json.loads(raw)
    except ValueError as exc:
        return raw, None, f"invalid JSON: {exc}"
    if not isinstance(val, dict):
        return raw, None, f"arguments are a JSON {type(val).__name__}, not an object"
    return raw, val, None


class Episode:
    """One model working on one task. `run()` returns its trace."""

    def __init__(self, model: Model, task: Task, cfg: RuntimeConfig, epoch: int = 0):
        self.model, self.task, self.cfg, self.epoch = model, task, cfg, epoch
        self.world = world_for(cfg.seed)
        self.state = EpisodeState()
        self.attempts: dict[tuple[str, str], int] = {}
        self.trace = Trace(
            task_id=task.id,
            suite=task.suite,
            model=model.name,
            epoch=epoch,
            seed=cfg.seed,
            clock=cfg.clock,
            fan_out_cap=cfg.fan_out_cap,
            tool_timeout=cfg.tool_timeout,
            hedge_after=cfg.hedge_after,
            latency_scale=cfg.latency_scale,
        )

    async def run(self) -> Trace:
        cfg, task, trace = self.cfg, self.task, self.trace
        system, user = cfg.prompts.render(task)
        messages = [Message("system", system), Message("user", user)]
        msg_tokens = [estimate_text(system) + MESSAGE_OVERHEAD, estimate_text(user) + MESSAGE_OVERHEAD]
        tools_tokens = estimate_tools(task.tool_specs)
        real = cfg.clock == "real"
        t0 = time.perf_counter()
        now = 0.0
        planned = 0.0  # real clock: the virtual timeline of the same turns, to measure overhead
        prev_context = 0
        for turn in range(1, cfg.max_turns + 1):
            start = time.perf_counter() - t0 if real else now
            req = ModelRequest(list(messages), task.tool_specs, cfg.settings, self.epoch)
            try:
                resp = await self.model.generate(req)
            except InfrastructureError:  # credentials, quota, disk: stop the run, score nothing
                raise
            except ModelError as exc:
                trace.stop, trace.error = "error", str(exc)
                break
            except Exception as exc:  # a model adapter bug must not lose the episode either
                trace.stop, trace.error = "error", f"{type(exc).__name__}: {exc}"
                break
            rec = self._usage(resp, tools_tokens + sum(msg_tokens), prev_context, turn)
            lat = turn_latency(
                cfg.profile, resp.latency_s, rec.prompt_tokens, rec.cached_tokens, rec.completion_tokens
            )
            if real:
                if resp.latency_s is None or resp.cached:
                    # A policy's profile latency, or a cached/replayed response's recorded one.
                    await sleep_until(t0 + start + lat)
                planned += lat
                rec.start_s, rec.end_s = start, time.perf_counter() - t0
                rec.model_latency_s = rec.end_s - rec.start_s
            else:
                rec.start_s, rec.end_s, rec.model_latency_s = now, now + lat, lat
                now = rec.end_s
            trace.turns.append(rec)
            prev_context = rec.prompt_tokens + rec.completion_tokens
            if not resp.tool_calls:
                trace.final_text = resp.text
                trace.stop = "answer"
                break
            messages.append(
                Message("assistant", resp.text, list(resp.tool_calls), provider_parts=resp.provider_parts)
            )
            msg_tokens.append(rec.completion_tokens + MESSAGE_OVERHEAD)
            calls = self._prepare(resp, turn)
            if real:
                await self._execute_real(calls, t0)
                rec.batch_s = max(c.end_s for c in calls) - rec.end_s
                planned += batch_times(planned, [c.duration_s for c in calls], cfg.fan_out_cap)[2]
            else:
                rec.batch_s = self._execute_virtual(calls, now)
                now += rec.batch_s
            for c, tc in zip(calls, resp.tool_calls, strict=True):
                content = _dump(c.result)
                messages.append(Message("tool", content, tool_call_id=tc.id, name=tc.name))
                msg_tokens.append(estimate_text(content) + MESSAGE_OVERHEAD)
            trace.calls.extend(calls)
        else:
            trace.stop = "max_turns"
        trace.wall_s = time.perf_counter() - t0 if real else now
        if real:
            trace.runtime_overhead_s = trace.wall_s - planned
        return trace

    def _usage(self, resp: ModelResponse, prompt_est: int, prev_context: int, turn: int) -> TurnRecord:
        rec = TurnRecord(
            index=turn,
            provider_parts=None if resp.provider_parts is None else resp.provider_parts.to_json(),
            text=resp.text,
            n_calls=len(resp.tool_calls),
            cached=resp.cached,
            measured_latency_s=resp.latency_s,
            ttft_s=resp.ttft_s,
            first_call_s=resp.first_call_s,
            finish_reason=resp.finish_reason,
        )
        if resp.usage is not None:
            rec.prompt_tokens = resp.usage.prompt_tokens
            rec.completion_tokens = resp.usage.completion_tokens
            rec.cached_tokens = resp.usage.cached_tokens
            rec.usage_estimated = resp.usage.estimated
            rec.reasoning_tokens = resp.usage.reasoning_tokens
        else:
            completion = estimate_text(resp.text) + sum(
                estimate_text(tc.name) + estimate_json(tc.arguments) + MESSAGE_OVERHEAD
                for tc in resp.tool_calls
            )
            rec.prompt_tokens = prompt_est
            rec.completion_tokens = max(1, completion)
            # Providers cache the shared prefix: everything up to the previous response.
            rec.cached_tokens = min(prev_context, prompt_est) if turn > 1 else 0
            rec.usage_estimated = True
        return rec

    def _prepare(self, resp: ModelResponse, turn: int) -> list[CallRecord]:
        task, cfg = self.task, self.cfg
        base = len(self.trace.calls)
        out = []
        for pos, tc in enumerate(resp.tool_calls):
            raw, parsed, perr = _parse(tc.arguments)
            c = CallRecord(
                index=base + pos,
                turn=turn,
                position=pos,
                call_id=tc.id,
                name=str(tc.name),
                raw_arguments=raw,
                arguments=parsed,
                parse_error=perr,
            )
            tool = task.tool_by_name.get(c.name)
            if perr is not None:
                c.result = error_result("invalid_json", f"could not parse the arguments of {c.name}: {perr}")
            elif tool is None:
                c.result = error_result("unknown_tool", f"no tool named {c.name!r} is available")
            else:
                canon = normalized_key(parsed)
                key = (c.name, canon)
                c.attempt = self.attempts.get(key, 0)
                self.attempts[key] = c.attempt + 1
                lm = cfg.latency.model_for(tool, task.spec.latency)
                c.sample_s = lm.sample(cfg.seed, task.id, c.name, canon, c.attempt)
                c.straggler = lm.is_straggler(cfg.seed, task.id, c.name, canon, c.attempt)
                hedge = None
                if cfg.hedge_after is not None and not tool.write:  # never duplicate a write
                    hedge = c.hedge_sample_s = lm.sample(cfg.seed, task.id, c.name, canon, c.attempt + 1)
                ct = call_time(c.sample_s, cfg.latency_scale, cfg.tool_timeout, cfg.hedge_after, hedge)
                c.duration_s, c.timed_out, c.hedged = ct.duration_s, ct.timed_out, ct.hedged
            if is_error(c.result):
                c.error = c.result["error"]["code"]
            out.append(c)
        return out

    def _time_out(self, c: CallRecord) -> None:
        c.timed_out = True
        c.result = error_result("timeout", f"{c.name} did not answer within {self.cfg.tool_timeout:g} s")
        c.error = "timeout"

    def _invoke(self, c: CallRecord, writes: list) -> None:
        if c.result is not None:  # parse error, unknown tool or timeout: already answered
            return
        ctx = ToolContext(self.world, self.state)
        c.result = self.task.tool_by_name[c.name].invoke(c.arguments, ctx)
        writes.append((c.index, ctx.writes))
        if is_error(c.result):
            c.error = c.result["error"]["code"]

    def _apply(self, writes: list) -> None:
        for _, ws in sorted(writes, key=lambda w: w[0]):
            self.state.apply(ws)

    def _execute_virtual(self, calls: list[CallRecord], now: float) -> float:
        """Time and answer a batch; returns its duration. A timed-out write is not applied."""
        starts, ends, batch_s = batch_times(now, [c.duration_s for c in calls], self.cfg.fan_out_cap)
        writes: list = []
        for c, s, e in zip(calls, starts, ends, strict=True):
            c.start_s, c.end_s = s, e
            if c.timed_out:
                self._time_out(c)
            self._invoke(c, writes)
        self._apply(writes)
        return batch_s

    async def _execute_real(self, calls: list[CallRecord], t0: float) -> None:
        cap = self.cfg.fan_out_cap
        sem = asyncio.Semaphore(cap) if cap else None
        writes: list = []

        async def one(c: CallRecord) -> None:
            if sem is not None:
                await sem.acquire()
            try:
                c.start_s = time.perf_counter() - t0
                if c.result is None:  # parse errors and unknown tools answer at once
                    await self._race(c, writes)
                c.end_s = time.perf_counter() - t0
            finally:
                if sem is not None:
                    sem.release()

        await asyncio.gather(*(one(c) for c in calls))
        self._apply(writes)

    async def _race(self, c: CallRecord, writes: list) -> None:
        """Real clock: the request really waits its latency; a read still unanswered after
        `hedge_after` gets a duplicate request racing it (first answer wins, the loser is
        cancelled); the call as a whole is bounded by `tool_timeout`. `hedged` and `timed_out`
        record what happened; `duration_s` keeps the virtual arithmetic for comparison."""
        cfg = self.cfg
        tool = self.task.tool_by_name[c.name]

        async def request(delay: float) -> tuple[Any, ToolContext]:
            if delay > 0:
                await sleep_until(time.perf_counter() + delay)
            ctx = ToolContext(self.world, self.state)
            return tool.invoke(c.arguments, ctx), ctx

        loop = asyncio.get_running_loop()
        begin = loop.time()
        timeout, hedge_after = cfg.tool_timeout, cfg.hedge_after
        racers = [asyncio.ensure_future(request(c.sample_s * cfg.latency_scale))]
        c.hedged = c.timed_out = False
        try:
            if (
                c.hedge_sample_s is not None
                and hedge_after is not None
                and (timeout is None or hedge_after < timeout)
            ):
                done, _ = await asyncio.wait(racers, timeout=hedge_after)
                if not done:
                    c.hedged = True
                    racers.append(asyncio.ensure_future(request(c.hedge_sample_s * cfg.latency_scale)))
            left = None if timeout is None else max(0.0, timeout - (loop.time() - begin))
            done, _ = await asyncio.wait(racers, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for r in racers:
                r.cancel()
            await asyncio.gather(*racers, return_exceptions=True)
        winner = next((r for r in racers if r in done), None)
        if winner is None:
            self._time_out(c)
            return
        c.result, ctx = winner.result()
        writes.append((c.index, ctx.writes))
        if is_error(c.result):
            c.error = c.result["error"]["code"]


async def run_episode(model: Model, task: Task, cfg: RuntimeConfig, epoch: int = 0) -> Trace:
    return await Episode(model, task, cfg, epoch).run()
