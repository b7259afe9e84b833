"""One agent episode as Fanout sees it from outside: the model turns that went through the proxy
and the tool calls that arrived over MCP, with their times, plus the tools' per-episode state.

Batches over MCP. In-process, batch t is the tool calls of model response t: they all see the
state as it was when the batch began and their writes apply when it ends, in issue order. Here the
runtime is someone else's program, so a batch is recognised from the proxy's record: an MCP call
belongs to the batch of the latest model response recorded when it arrives (its *window*), and
executes the first not-yet-executed tool call of that response with the same tool and normalised
arguments. A call that executes none of them is `extraneous` (the agent's own call: a retry, a
call it made up, a call before any model response). A window closes when the agent sends its next
model request (it has the results it is going to send) or when the episode ends; its writes are
then applied in issue order: the model's calls by their position, then the extraneous ones by
arrival. A call of a window that already closed applies its writes when it ends (late). Before the
first model response there is no batch: each call stands alone and its writes apply when it ends.
So the state a call sees depends on the model's batches, never on how the runtime scheduled them:
a runtime that executes a batch serially is slower, not differently scored.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from mock_tools import EpisodeState, ToolContext, error_result, is_error
from mock_tools.canonical import normalized_key

from ..clocks import sleep_until
from ..fixtures import Task
from ..models.base import ModelResponse
from ..runtime import world_for
from ..settings import RuntimeSettings
from ..timing import time_call


@dataclass
class ProxyTurn:
    """One model request through the proxy (perf_counter times)."""

    index: int  # 1-based, in arrival order
    start: float
    end: float | None = None
    response: ModelResponse | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int | None = None  # as the provider reported them (None: not reported)
    cache_write_tokens: int | None = None  # input written to the provider's cache (billed at its rate)
    usage_estimated: bool = False
    measured_latency_s: float | None = None  # the provider's own latency (forwarding), else None
    error: str | None = None


@dataclass
class McpCall:
    """One tools/call request over MCP (perf_counter times)."""

    seq: int  # arrival order in the episode
    name: str
    arguments: dict
    window: int  # the latest model response when it arrived (0: none yet)
    start: float
    end: float | None = None
    position: int | None = None  # the tool call of response `window` it executes, or None
    result: Any = None
    error: str | None = None
    sample_s: float = 0.0
    duration_s: float = 0.0
    timed_out: bool = False
    straggler: bool = False
    attempt: int = 0


def dumps(result: Any) -> str:
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False, default=str)


def args_key(raw: Any) -> str | None:
    """Normalised key of a model tool call's arguments (JSON text or object); None if unparseable."""
    if isinstance(raw, str):
        if not raw.strip():
            return normalized_key({})
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    return normalized_key(raw) if isinstance(raw, dict) else None


@dataclass
class EpisodeSession:
    """Shared by the model proxy and the MCP server of one episode; single event loop, no locks."""

    task: Task
    cfg: RuntimeSettings
    epoch: int = 0
    token: str = ""
    turns: list[ProxyTurn] = field(default_factory=list)
    calls: list[McpCall] = field(default_factory=list)
    stop: str | None = None  # set by the proxy: "max_turns" or "error"
    error: str | None = None
    fatal: BaseException | None = None  # an infrastructure failure: the run must stop
    aborted: asyncio.Event = field(default_factory=asyncio.Event)  # set with `fatal`: kill the agent

    def __post_init__(self) -> None:
        self.world = world_for(self.cfg.seed)
        self.state = EpisodeState()
        self.attempts: dict[tuple[str, str], int] = {}
        self.window = 0  # index of the latest recorded model response
        self.closed = 0  # windows <= closed have ended
        self._pending: dict[int, list[tuple[tuple[int, int], list]]] = {}
        self._executed: dict[int, set[int]] = {}
        self._keys: dict[int, list[tuple[str, str | None]]] = {}

    # -- model side (the proxy) ---------------------------------------------------------------
    def begin_turn(self) -> ProxyTurn:
        """A model request arrived: the current batch is over."""
        self._close(self.window)
        turn = ProxyTurn(index=len(self.turns) + 1, start=time.perf_counter())
        self.turns.append(turn)
        return turn

    def end_turn(self, turn: ProxyTurn, response: ModelResponse | None) -> None:
        """The response is about to be sent: its tool calls open the next batch."""
        turn.end = time.perf_counter()
        turn.response = response
        if response is not None and turn.index > self.window:
            self.window = turn.index
            self._keys[turn.index] = [(tc.name, args_key(tc.arguments)) for tc in response.tool_calls]

    def _close(self, window: int) -> None:
        if window <= self.closed:
            return
        for w in range(self.closed + 1, window + 1):
            for _, writes in sorted(self._pending.pop(w, []), key=lambda p: p[0]):
                self.state.apply(writes)
        self.closed = window

    def finish(self) -> None:
        """The episode is over: close the last batch."""
        self._close(self.window)

    # -- tool side (the MCP server) -----------------------------------------------------------
    async def call_tool(self, name: str, arguments: dict | None) -> McpCall:
        """Execute one MCP tool call: match it to the model's batch, really wait its latency,
        answer from the mock tool, and apply or queue its writes."""
        args = arguments if isinstance(arguments, dict) else {}
        window = self.window
        c = McpCall(seq=len(self.calls), name=name, arguments=args, window=window, start=time.perf_counter())
        self.calls.append(c)
        canon = normalized_key(args)
        if window:
            done = self._executed.setdefault(window, set())
            for pos, (tname, key) in enumerate(self._keys.get(window, [])):
                if pos not in done and tname == name and key == canon:
                    done.add(pos)
                    c.position = pos
                    break
        tool = self.task.tool_by_name.get(name)
        if tool is None:
            c.result = error_result("unknown_tool", f"no tool named {name!r} is available")
        else:
            cfg = self.cfg
            c.attempt = self.attempts.get((name, canon), 0)
            self.attempts[(name, canon)] = c.attempt + 1
            # the runtime's own timing: same sample for (seed, task, tool, arguments, attempt);
            # no hedging (the agent is the runtime), so the hedge sample is not drawn
            ct = time_call(
                cfg.replace(hedge_after=None), tool, self.task.id, canon, c.attempt, self.task.spec.latency
            )
            c.sample_s, c.straggler = ct.sample_s, bool(ct.straggler)
            c.duration_s, c.timed_out = ct.duration_s, ct.timed_out
            await sleep_until(c.start + c.duration_s)
            if c.timed_out:
                c.result = error_result("timeout", f"{name} did not answer within {cfg.tool_timeout:g} s")
            else:
                ctx = ToolContext(self.world, self.state)
                c.result = tool.invoke(args, ctx)
                self._commit(c, ctx.writes)
        if is_error(c.result):
            c.error = c.result["error"]["code"]
        c.end = time.perf_counter()
        return c

    def _commit(self, c: McpCall, writes: list) -> None:
        if not writes:
            return
        if c.window == 0 or c.window <= self.closed:
            self.state.apply(writes)  # no batch, or a late call of a closed one
            return
        order = (0, c.position) if c.position is not None else (1, c.seq)
        self._pending.setdefault(c.window, []).append((order, writes))
