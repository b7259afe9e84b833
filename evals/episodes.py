"""episodes.jsonl records: one typed line per finished episode, tagged with its schema version.

Readers upgrade what older versions wrote, so a run folder stays readable after Fanout changes:
  version 1 (no `schema_version`): the trace kept some runtime settings at its top level; they
    become the trace's `runtime`, completed from run.json when the reader has it.
  any version: scores of metrics declared after the line was written (`evals.metrics`
    EpisodeValue functions, e.g. `straggler_wait_s`) are computed from the stored trace.
A line from a newer Fanout than this one is refused rather than half-read.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationInfo, model_validator
from pydantic_core import to_json

from .files import encode_utf8
from .metrics import METRICS, EpisodeView, batches_of
from .scoring import Scores
from .settings import RuntimeSettings
from .trace import FLAT_SETTINGS, Trace

SCHEMA_VERSION = 2


class EpisodeRecord(BaseModel):
    """One line of episodes.jsonl. Validate with `context={"runtime": run_settings}` to upgrade a
    version-1 trace with every runtime setting of its run."""

    schema_version: int = SCHEMA_VERSION
    task_id: str
    epoch: int = 0
    pattern: str
    scores: Scores
    trace: Trace

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return data
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {version!r}: this fanout reads episode lines of versions 1 to {SCHEMA_VERSION}"
            )
        if version == 1:
            data = dict(data, schema_version=SCHEMA_VERSION)
            runtime = (info.context or {}).get("runtime")
            trace = data.get("trace")
            if isinstance(runtime, RuntimeSettings) and isinstance(trace, dict) and "runtime" not in trace:
                # The flat fields were the run's own settings: run.json has all of them.
                data["trace"] = {k: v for k, v in trace.items() if k not in FLAT_SETTINGS} | {
                    "runtime": runtime
                }
        return data

    @model_validator(mode="after")
    def _metrics_declared_since(self) -> EpisodeRecord:
        extra = self.scores.__pydantic_extra__
        missing = [ev for ev in METRICS.episode_values() if extra is None or ev.name not in extra]
        if missing and extra is not None:
            view = EpisodeView(self.trace, batches_of(self.trace))
            for ev in missing:
                extra[ev.name] = ev(view)
        return self

    def line(self) -> str:
        """The JSON line (no newline): scores whole, the trace without its empty fields.

        Encoded by pydantic's serializer straight from the models (no intermediate dicts; three
        times as fast as the standard library's encoder on these documents), with NaN and
        infinities written as the standard library writes them (`trace.LINE_JSON`). The values
        are JSON's own types (the runtime stores a tool result that is not as the JSON the model
        was sent), so both encoders give lines that read back to the same values (not always the
        same text: a small float is `1e-7` to pydantic, `1e-07` to the standard library); a string
        no UTF-8 can encode (a lone surrogate) is left to the standard library, as before."""
        encoded = self._encoded()
        return self._std_line() if encoded is None else encoded.decode()

    def line_bytes(self) -> bytes:
        """The line as written: UTF-8, with any lone surrogate a model sent (`"\\ud800"`, which
        UTF-8 cannot hold and JSON readers refuse even escaped) as U+FFFD, so every line reads back.
        (The serializer's bytes are written as they are: they hold no surrogate.)"""
        encoded = self._encoded()
        return encode_utf8(self._std_line()) if encoded is None else encoded

    def _encoded(self) -> bytes | None:
        """The line by pydantic's serializer; None when a string holds a lone surrogate."""
        try:
            scores = to_json(self.scores, fallback=str)
            trace = to_json(self.trace, exclude_none=True, fallback=str)
        except ValueError:
            return None
        head = to_json(
            {
                "schema_version": self.schema_version,
                "task_id": self.task_id,
                "epoch": self.epoch,
                "pattern": self.pattern,
            }
        )
        return head[:-1] + b',"scores":' + scores + b',"trace":' + trace + b"}"

    def _std_line(self) -> str:
        doc = {
            "schema_version": self.schema_version,
            "task_id": self.task_id,
            "epoch": self.epoch,
            "pattern": self.pattern,
            "scores": self.scores.model_dump(),
            "trace": self.trace.model_dump(exclude_none=True),
        }
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str)

    def scores_row(self) -> dict[str, Any]:
        """The scores with the epoch: one row of the frame every aggregate is computed from."""
        return {**self.scores.model_dump(), "epoch": self.epoch}


def parse(row: Any, runtime: RuntimeSettings | None = None) -> EpisodeRecord:
    """A record from a decoded line (raises pydantic's ValidationError)."""
    return EpisodeRecord.model_validate(row, context={"runtime": runtime})


def parse_line(line: str | bytes, runtime: RuntimeSettings | None = None) -> EpisodeRecord:
    """A record straight from its JSON line (pydantic's parser: no intermediate dicts)."""
    return EpisodeRecord.model_validate_json(line, context={"runtime": runtime})
