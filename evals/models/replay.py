"""`replay/<run dir>`: re-serve a finished run's recorded responses, without any model or network.

Each response is looked up by (task, epoch, turn) in the run's episodes.jsonl traces: the turn's
text, its calls (id, name and raw arguments exactly as recorded), usage (reasoning tokens and cache
writes included), measured latency and the provider's opaque parts (thinking blocks, signatures,
reasoning items). The response is marked `cached`, so no report passes it off as a live latency.
A turn the run never recorded (another suite, more epochs, or a conversation that diverged) is a
`ModelError` naming it, recorded on the episode like any provider failure. An episode that failed
in the original run fails again at the same turn, with its original error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..runs import load_run
from ..trace import Trace
from .base import Model, ModelError, ModelRequest, ModelResponse, ProviderParts, ToolCall, Usage
from .policies import TaskIndex, UnknownTaskError


class ReplayModel(Model):
    remote = False

    def __init__(self, run_dir: str, suites: list):
        path = Path(run_dir)
        try:
            cfg, rows = load_run(path)
        except FileNotFoundError as exc:
            raise ValueError(f"replay: {exc}") from None
        except ValueError as exc:
            raise ValueError(f"replay: {path}/run.json is not a valid run config: {exc}") from None
        self.name = f"replay/{run_dir}"
        self.source_model = cfg.model
        self.run_id = cfg.run_id
        self.index = TaskIndex(suites)
        self.turns: dict[tuple[str, int, int], ModelResponse] = {}
        self.failures: dict[tuple[str, int], tuple[int, str]] = {}
        for row in rows:
            trace = Trace.model_validate(row["trace"])
            self._load(trace)
        if not self.turns and not self.failures:
            raise ValueError(f"replay: {path} has no recorded episodes")

    def _load(self, trace: Trace) -> None:
        calls_by_turn: dict[int, list[ToolCall]] = {}
        for c in sorted(trace.calls, key=lambda c: c.index):
            calls_by_turn.setdefault(c.turn, []).append(
                ToolCall(c.call_id or f"call_{c.turn}_{c.position}", c.name, c.raw_arguments)
            )
        for t in trace.turns:
            usage = Usage(
                t.prompt_tokens,
                t.completion_tokens,
                t.cached_tokens,
                t.usage_estimated,
                reasoning_tokens=t.reasoning_tokens,
                cache_write_tokens=t.cache_write_tokens or 0,
            )
            calls = calls_by_turn.get(t.index, [])
            text = t.text if t.text is not None or calls else trace.final_text
            self.turns[(trace.task_id, trace.epoch, t.index)] = ModelResponse(
                text=text,
                tool_calls=calls,
                usage=usage,
                latency_s=t.measured_latency_s,
                cached=True,
                finish_reason=t.finish_reason,
                ttft_s=t.ttft_s,
                first_call_s=t.first_call_s,
                provider_parts=ProviderParts.from_json(t.provider_parts),
            )
        if trace.stop == "error":
            self.failures[(trace.task_id, trace.epoch)] = (len(trace.turns) + 1, trace.error or "error")

    def describe(self) -> dict:
        return {"name": self.name, "source_model": self.source_model, "source_run": self.run_id}

    def priced_as(self) -> str:
        return self.source_model or self.name

    def unservable(self, pairs: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        recorded = {(t, e) for t, e, _ in self.turns} | set(self.failures)
        return [p for p in pairs if p not in recorded]

    async def generate(self, request: ModelRequest) -> ModelResponse:
        try:
            task = self.index.find(request.messages)
        except UnknownTaskError as exc:
            raise ModelError(f"replay: {exc}") from None
        turn = 1 + sum(1 for m in request.messages if m.role == "assistant")
        key = (task.id, request.epoch, turn)
        resp = self.turns.get(key)
        if resp is None:
            fail = self.failures.get((task.id, request.epoch))
            if fail is not None and fail[0] == turn:
                raise ModelError(fail[1])
            raise ModelError(
                f"replay: the run recorded no response for task {task.id!r} epoch {request.epoch} turn {turn}"
            )
        # a fresh copy: the runtime keeps the calls in the conversation it builds
        return ModelResponse(
            text=resp.text,
            tool_calls=[ToolCall(c.id, c.name, c.arguments) for c in resp.tool_calls],
            usage=Usage(**vars(resp.usage)) if resp.usage else None,
            latency_s=resp.latency_s,
            cached=True,
            finish_reason=resp.finish_reason,
            ttft_s=resp.ttft_s,
            first_call_s=resp.first_call_s,
            provider_parts=resp.provider_parts,
        )
