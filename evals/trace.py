"""The trace of an episode: everything that happened, in a form scoring and what-if can replay.

Times are seconds from the episode start on the run's clock (virtual or real). Each call keeps
its raw latency sample (before scaling and timeout) so what-if can re-time it exactly.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .settings import RuntimeSettings

Stop = Literal["answer", "max_turns", "error"]  # why an episode ended
CallClass = Literal["correct", "premature", "duplicate", "wrong_args", "extraneous"]  # DESIGN.md section 4
CALL_CLASSES: tuple[CallClass, ...] = ("correct", "premature", "duplicate", "wrong_args", "extraneous")

# Settings the first trace format (before `runtime`) kept at the top level of a trace.
FLAT_SETTINGS = ("seed", "clock", "fan_out_cap", "tool_timeout", "hedge_after", "latency_scale")


def fill(record: BaseModel, **values: Any) -> None:
    """Set fields of a record on the runtime's hot path: what pydantic's own assignment does for
    a model without `validate_assignment` (the value in `__dict__`, the name among the fields
    set), once for several fields. An assignment costs two Python calls inside pydantic, and an
    episode makes a few dozen (`tests/test_trace.py` checks both ways give the same record)."""
    record.__dict__.update(values)
    record.__pydantic_fields_set__.update(values)


# An episode line writes NaN and infinities as the standard library does (`EpisodeRecord.line`,
# which serialises these models straight to JSON): every model a line holds says so.
LINE_JSON = ConfigDict(ser_json_inf_nan="constants")


class CallRecord(BaseModel):
    model_config = LINE_JSON

    index: int  # position in the episode (issue order)
    turn: int  # the model response that issued it (1-based)
    position: int  # position inside its batch
    call_id: str | None = None
    name: str
    raw_arguments: str  # as the model sent them (JSON text; objects are dumped)
    arguments: dict | None = None  # parsed, or None when unparseable
    parse_error: str | None = None
    result: Any = None
    error: str | None = None  # error code when the result is an error
    sample_s: float = 0.0  # raw latency sample (unscaled, uncapped)
    duration_s: float = 0.0  # effective duration (scaled, capped by the timeout)
    start_s: float = 0.0
    end_s: float = 0.0
    timed_out: bool = False
    straggler: bool = False
    attempt: int = 0
    hedged: bool = False  # a duplicate request was sent after hedge_after (read tools only)
    hedge_sample_s: float | None = None  # raw sample of the hedge (next attempt), when hedgeable
    cls: CallClass | None = None  # call class, filled in by scoring
    node: str | None = None  # node the class is attributed to


class TurnRecord(BaseModel):
    model_config = LINE_JSON

    index: int  # 1-based
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    usage_estimated: bool = False
    model_latency_s: float = 0.0  # the latency used on this run's clock
    measured_latency_s: float | None = None  # measured API latency when the model reported one
    start_s: float = 0.0
    end_s: float = 0.0  # end of the model response
    batch_s: float = 0.0  # makespan of the batch this turn issued
    text: str | None = None
    n_calls: int = 0
    cached: bool = False  # response served from the cache (latency and usage are the recorded ones)
    ttft_s: float | None = None
    first_call_s: float | None = None
    finish_reason: str | None = None
    # provider adapters (issue 16): tokens spent thinking (part of completion_tokens; None = not
    # reported) and the provider's opaque parts of the turn, which replay/ re-serves
    reasoning_tokens: int | None = None
    provider_parts: dict | None = None
    # input tokens written to the provider's cache (part of prompt_tokens; Anthropic bills them at
    # its cache-write rate); None when the provider reported none, so such lines are unchanged
    cache_write_tokens: int | None = None


class Trace(BaseModel):
    model_config = LINE_JSON

    task_id: str
    suite: str
    model: str
    epoch: int = 0
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)  # the settings it ran under
    turns: list[TurnRecord] = Field(default_factory=list)
    calls: list[CallRecord] = Field(default_factory=list)
    final_text: str | None = None
    stop: Stop = "answer"
    error: str | None = None
    wall_s: float = 0.0  # episode wall-clock on the run's clock
    runtime_overhead_s: float | None = None  # real clock: measured wall minus the virtual timeline

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any) -> Any:
        """A trace written before `runtime` existed kept some settings at the top level."""
        if isinstance(data, dict) and "runtime" not in data and any(k in data for k in FLAT_SETTINGS):
            data = dict(data)
            data["runtime"] = {k: data.pop(k) for k in FLAT_SETTINGS if k in data}
        return data
