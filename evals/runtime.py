"""The agent loop: model turn, concurrent batch of tool calls, results back, repeat.

Written once for both clocks (`evals.clocks`): the clock decides how long a turn and a batch take
and how the calls of a batch run; this module decides what is asked, what is answered and what
is recorded. Writes made during a batch are applied when the batch ends, in issue order, so a
read fanned out beside the write it depends on sees the stale state.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any, TypedDict, Unpack

from mock_tools import EpisodeState, Tool, ToolContext, error_result
from mock_tools.canonical import normalized_key

from .clocks import Writes, answer, start_clock
from .errors import InfrastructureError
from .files import clean_text
from .fixtures import Task
from .groundtruth import world_for
from .memo import keeps
from .models.base import Message, Model, ModelError, ModelRequest, ModelResponse
from .prompts import PromptTemplates
from .settings import RuntimeSettings
from .timing import CallTiming, time_call, turn_latency
from .tokens import MESSAGE_OVERHEAD, estimate_json, estimate_text, estimate_tools
from .trace import CallRecord, Trace, TurnRecord, fill


@functools.cache
def shipped_prompts() -> PromptTemplates:
    """The shipped templates, compiled once (they render and memoise per task)."""
    return PromptTemplates.load()


_DUMP = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=str)


def _dump(result: Any) -> str:
    return _DUMP.encode(result)


_TIMES_PER_TASK = 512
_READS_PER_TASK = 512
_ARGUMENTS_PER_TASK = 512
_PLAIN = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)  # TypeError on a non-JSON value


def _content(result: Any) -> tuple[str, Any]:
    """The tool message of a call's result: its JSON text, values JSON has no type for (a table
    tool's YAML timestamp) as their `str()`; and the result as the trace stores it: as is, or,
    when it held such values, that JSON read back, so the trace holds what the model was sent, in
    JSON's own types (`EpisodeRecord.line`)."""
    try:
        return _PLAIN.encode(result), result
    except TypeError:
        text = _dump(result)
        return text, json.loads(text)


# Arguments nested deeper than this are unparseable (`extraneous`): no tool takes them, and every
# later step (matching, canonical keys, writing the line) recurses over them. The HTTP decoder
# keeps JSON deeper than its own limit as text (`models.http.MAX_DEPTH`, also 64).
MAX_ARGUMENT_DEPTH = 64


def _too_deep(value: Any, limit: int = MAX_ARGUMENT_DEPTH) -> bool:
    """Whether containers nest more than `limit` levels (iterative: any depth is safe to ask)."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        items = v.values() if isinstance(v, dict) else v if isinstance(v, list | tuple) else None
        if items is None:
            continue
        if depth > limit:
            return True
        stack.extend((x, depth + 1) for x in items if isinstance(x, dict | list | tuple))
    return False


# A lone surrogate: UTF-8 cannot hold one and JSON readers refuse it even escaped, so the runtime
# records U+FFFD in its place (text, names, arguments), and what is scored is what is written.
# Raw text is cleaned before parsing; a surrogate written as a JSON escape (`"\\ud800"`) appears
# only once parsed (an escaped pair also matches here: `_clean` then finds nothing to replace).
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _clean(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys included) as U+FFFD."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _parse(raw: Any) -> tuple[str, dict | None, str | None]:
    """(raw text, parsed object or None, parse error). Tolerates servers that send an object.
    Never raises: whatever a model sent is recorded, and unparseable arguments are scored."""
    deep = f"arguments nested deeper than {MAX_ARGUMENT_DEPTH} levels"
    if raw is None or raw == "":
        return "", {}, None  # no arguments at all: an empty object, as providers treat it
    if not isinstance(raw, str):  # an object (some servers, in-process models), or worse
        if _too_deep(raw):
            return f"<{deep}>", None, deep
        try:
            text = _dump(raw)
        except (ValueError, RecursionError) as exc:  # a circular object from an in-process model
            return f"<arguments that are not JSON: {exc}>", None, f"arguments are not JSON: {exc}"
        clean = clean_text(text)
        if not isinstance(raw, dict):
            return clean, None, f"arguments are a {type(raw).__name__}, not an object"
        # Read back from the text, as a provider's arguments would be: the arguments are then a
        # function of the recorded text (a tuple is a list, a key 1 is "1", a date its text), which
        # the matchers' memo per text relies on.
        return clean, json.loads(clean), None
    raw = clean_text(str(raw))  # str(): the HTTP decoder's RawJSON is recorded as plain text
    try:
        val = json.loads(raw)
    except RecursionError:
        return raw, None, deep
    except ValueError as exc:
        return raw, None, f"invalid JSON: {clean_text(str(exc))}"
    if not isinstance(val, dict):
        return raw, None, f"arguments are a JSON {type(val).__name__}, not an object"
    if _too_deep(val):
        return raw, None, deep
    if "\\u" in raw and _ESCAPED_SURROGATE.search(raw):
        val = _clean(val)
    return raw, val, None


class EpisodeOptions(TypedDict, total=False):
    """What an episode takes besides its model, task, runtime settings and epoch."""

    prompts: PromptTemplates  # the system and user prompt templates (default: the shipped ones)
    model_settings: Mapping[str, Any]  # sent with every request (temperature, parallel_tool_calls, ...)


class Episode:
    """One model working on one task. `run()` returns its trace."""

    def __init__(
        self,
        model: Model,
        task: Task,
        settings: RuntimeSettings | None = None,
        epoch: int = 0,
        **options: Unpack[EpisodeOptions],
    ):
        self.model, self.task, self.epoch = model, task, epoch
        self.cfg = cfg = settings or RuntimeSettings()
        self.prompts = options.get("prompts") or shipped_prompts()
        self.model_settings = dict(options.get("model_settings") or {})
        self.profile = cfg.profile
        self.world = world_for(cfg.seed)
        self.state = EpisodeState()
        self.attempts: dict[tuple[str, str], int] = {}
        per_task: dict[RuntimeSettings, dict] = vars(task).setdefault("_call_times", {})
        self._times: dict[tuple[str, str, int], CallTiming] = per_task.setdefault(cfg, {})
        reads: dict[int, dict] = vars(task).setdefault("_read_results", {})
        self._reads: dict[tuple[str, str], tuple[Any, Any, str]] = reads.setdefault(cfg.seed, {})
        self._told: dict[int, tuple[Any, str]] = {}  # call index -> (memoised result, its message text)
        self._args: dict[str, tuple[str, dict | None, str | None, str]] = vars(task).setdefault(
            "_arguments", {}
        )
        self.trace = Trace(task_id=task.id, suite=task.suite, model=model.name, epoch=epoch, runtime=cfg)

    async def run(self) -> Trace:
        cfg, task, trace = self.cfg, self.task, self.trace
        system, user = self.prompts.render(task)
        messages = [Message("system", system), Message("user", user)]
        msg_tokens = [estimate_text(system) + MESSAGE_OVERHEAD, estimate_text(user) + MESSAGE_OVERHEAD]
        tools_tokens = vars(task).get("_tools_tokens")
        if tools_tokens is None:  # the task's tool schemas are fixed: estimated once per task
            tools_tokens = vars(task)["_tools_tokens"] = estimate_tools(task.tool_specs)
        clock = start_clock(cfg)
        prev_context = 0
        for turn in range(1, cfg.max_turns + 1):
            start = clock.turn_start()
            req = ModelRequest(list(messages), task.tool_specs, self.model_settings, self.epoch)
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
            if resp.text is not None:  # recorded and scored as written (see `_SURROGATE`)
                resp.text = clean_text(resp.text)
            tokens = self._usage(resp, tools_tokens + sum(msg_tokens), prev_context, turn)
            lat = turn_latency(
                self.profile,
                resp.latency_s,
                tokens["prompt_tokens"],
                tokens["cached_tokens"],
                tokens["completion_tokens"],
            )
            # A policy's profile latency, or a cached/replayed response's recorded one, is not
            # time the model took: the real clock waits it out.
            at_once = resp.latency_s is None or resp.cached
            end, model_latency = await clock.turn_end(start, lat, at_once)
            rec = TurnRecord(  # every field at construction: a pydantic setattr costs a call
                index=turn,
                start_s=start,
                end_s=end,
                model_latency_s=model_latency,
                provider_parts=None if resp.provider_parts is None else resp.provider_parts.to_json(),
                text=resp.text,
                n_calls=len(resp.tool_calls),
                cached=resp.cached,
                measured_latency_s=resp.latency_s,
                ttft_s=resp.ttft_s,
                first_call_s=resp.first_call_s,
                finish_reason=resp.finish_reason,
                **tokens,
            )
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
            fill(rec, batch_s=await clock.run_batch(calls, rec.end_s, self))
            for c, tc in zip(calls, resp.tool_calls, strict=True):
                told = self._told.pop(c.index, None)
                if told is not None and told[0] is c.result:  # a memoised read: its text is known
                    content = told[1]
                else:
                    content, result = _content(c.result)
                    fill(c, result=result)
                messages.append(Message("tool", content, tool_call_id=tc.id, name=tc.name))
                msg_tokens.append(estimate_text(content) + MESSAGE_OVERHEAD)
            trace.calls.extend(calls)
        else:
            trace.stop = "max_turns"
        wall_s, overhead_s = clock.finish()
        fill(trace, wall_s=wall_s, runtime_overhead_s=overhead_s)
        return trace

    def _usage(self, resp: ModelResponse, prompt_est: int, prev_context: int, turn: int) -> dict[str, Any]:
        """The turn's token counts: the provider's, else estimated."""
        u = resp.usage
        if u is not None:
            tokens: dict[str, Any] = {
                "prompt_tokens": u.prompt_tokens,
                "completion_tokens": u.completion_tokens,
                "cached_tokens": u.cached_tokens,
                "usage_estimated": u.estimated,
                "reasoning_tokens": u.reasoning_tokens,
                "cache_write_tokens": u.cache_write_tokens or None,
            }
        else:
            completion = estimate_text(resp.text) + sum(
                estimate_text(tc.name) + estimate_json(tc.arguments) + MESSAGE_OVERHEAD
                for tc in resp.tool_calls
            )
            tokens = {
                "prompt_tokens": prompt_est,
                "completion_tokens": max(1, completion),
                # Providers cache the shared prefix: everything up to the previous response.
                "cached_tokens": min(prev_context, prompt_est) if turn > 1 else 0,
                "usage_estimated": True,
            }
        return tokens

    def _prepare(self, resp: ModelResponse, turn: int) -> list[CallRecord]:
        task = self.task
        base = len(self.trace.calls)
        out = []
        for pos, tc in enumerate(resp.tool_calls):
            raw, parsed, perr, canon = self._arguments(tc.arguments)
            name = clean_text(str(tc.name))
            fields: dict[str, Any] = {}  # set at construction: a pydantic setattr costs a validation
            tool = task.tool_by_name.get(name)
            if perr is None and tool is not None:
                attempt = self.attempts.get((name, canon), 0)
                self.attempts[(name, canon)] = attempt + 1
                tm = self._time_call(tool, canon, attempt)
                fields = {
                    "attempt": attempt,
                    "sample_s": tm.sample_s,
                    "hedge_sample_s": tm.hedge_sample_s,
                    "straggler": bool(tm.straggler),
                    "duration_s": tm.duration_s,
                    "timed_out": tm.timed_out,
                    "hedged": tm.hedged,
                }
            c = CallRecord(
                index=base + pos,
                turn=turn,
                position=pos,
                call_id=tc.id,
                name=name,
                raw_arguments=raw,
                arguments=parsed,
                parse_error=perr,
                **fields,
            )
            if perr is not None:
                answer(c, error_result("invalid_json", f"could not parse the arguments of {name}: {perr}"))
            elif tool is None:
                answer(c, error_result("unknown_tool", f"no tool named {name!r} is available"))
            out.append(c)
        return out

    def _arguments(self, sent: Any) -> tuple[str, dict | None, str | None, str]:
        """`_parse(sent)` and the parsed arguments' canonical key, memoised on the task for
        arguments sent as text (a function of the text; the record's own dict is a copy). At most
        `_ARGUMENTS_PER_TASK` texts are kept per task, none longer than `memo.TEXT_MAX`."""
        if not isinstance(sent, str):
            raw, parsed, perr = _parse(sent)
            return raw, parsed, perr, "" if perr is not None else normalized_key(parsed)
        memo = self._args
        hit = memo.get(sent)
        if hit is None:
            raw, parsed, perr = _parse(sent)
            hit = (raw, parsed, perr, "" if perr is not None else normalized_key(parsed))
            if len(memo) < _ARGUMENTS_PER_TASK and keeps(sent):
                memo[sent] = hit
        return hit

    def _time_call(self, tool: Tool, canon: str, attempt: int) -> CallTiming:
        """`time_call` for this episode's task and settings, memoised on the task: the samples are
        a pure function of (settings, task, tool, arguments, attempt), and every epoch of a task
        draws the same ones. At most `_TIMES_PER_TASK` calls are kept per task and settings, so
        a model that invents new arguments forever cannot grow the memo."""
        key = (tool.name, canon, attempt)
        memo = self._times
        tm = memo.get(key)
        if tm is None:
            tm = time_call(self.cfg, tool, self.task.id, canon, attempt, self.task.spec.latency)
            if len(memo) < _TIMES_PER_TASK and keeps(canon):
                memo[key] = tm
        return tm

    # -- the ToolServer the clock answers calls through --------------------------------------

    def request(self, c: CallRecord) -> tuple[Any, Any]:
        """The tool's answer and its writes. Tools are pure over the seeded world and the episode
        state (DESIGN, mock tools), so a read made while the episode has written nothing is a
        function of (seed, tool, arguments): its answer is memoised on the task, keyed by the
        arguments' exact text, and every later episode asking the same gets the same objects (a
        result is never modified once answered), with the text of its tool message. At most
        `_READS_PER_TASK` are kept per task, none for arguments longer than `memo.TEXT_MAX`."""
        tool = self.task.tool_by_name[c.name]
        if tool.write or self.state.data:
            ctx = ToolContext(self.world, self.state)
            return tool.invoke(c.arguments, ctx), ctx.writes
        key = (c.name, c.raw_arguments)
        hit = self._reads.get(key)
        if hit is None:
            ctx = ToolContext(self.world, self.state)
            text, result = _content(tool.invoke(c.arguments, ctx))
            hit = (result, ctx.writes, text)
            if len(self._reads) < _READS_PER_TASK and keeps(c.raw_arguments):
                self._reads[key] = hit
        self._told[c.index] = (hit[0], hit[2])
        return hit[0], hit[1]

    def apply(self, writes: Writes) -> None:
        for _, ws in sorted(writes, key=lambda w: w[0]):
            self.state.apply(ws)


async def run_episode(
    model: Model,
    task: Task,
    settings: RuntimeSettings | None = None,
    epoch: int = 0,
    **options: Unpack[EpisodeOptions],
) -> Trace:
    """Run one episode of `task` with `model` under `settings` (defaults: `RuntimeSettings()`)."""
    return await Episode(model, task, settings, epoch, **options).run()
