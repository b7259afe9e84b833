"""Fixture schemas: what a task and a suite file may say. Validated at load time."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from mock_tools.latency import LatencyModel
from mock_tools.table import TableToolSpec

from .answers import KINDS, NUMERIC_KINDS, VOCABULARIES

MATCHING_MODES = ("default", "exact", "bfcl")

# Control characters but tab, newline and carriage return: ESC and CSI start the terminal escapes
# that `fanout tasks list`, `show` and the run tables would print as they are (clear the screen,
# hide the lines after, retitle the window). Arguments and results are data, printed as JSON.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _printable(value: str) -> str:
    m = _CONTROL.search(value)
    if m:
        raise ValueError(f"control character {m.group()!r} at position {m.start()}")
    return value


Text = Annotated[str, AfterValidator(_printable)]


class NodeSpec(BaseModel):
    """One ground-truth tool call."""

    model_config = ConfigDict(extra="forbid")

    id: Text = Field(min_length=1)
    tool: Text = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict)
    after: list[str] = Field(default_factory=list, description="ordering dependencies without data flow")
    optional: bool = False
    when: str | None = Field(
        None, description="jinja2 condition over earlier outputs; the node is needed only if true"
    )
    accept: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="per-argument alternatives also accepted (may name arguments not in args)",
    )
    omissible: list[str] = Field(default_factory=list, description="arguments the model may leave out")
    alternatives: list[dict[str, Any]] = Field(
        default_factory=list,
        description="other routes to the same arguments: each entry gives some arguments from other "
        "sources (a reference to another call's output, or the literal value when the prompt states "
        "it); the values must equal the ones `args` resolves to",
    )
    not_routes: dict[str, str] = Field(
        default_factory=dict,
        description="route lint: argument -> why its value, found in the prompt or in another call's "
        "output, is not another route to it",
    )
    note: str | None = None


# Options of an answer value, and the kinds each one applies to.
_OPTION_KINDS = {
    "may_omit": ("entity",),
    "of": ("state",),
    "synonyms": ("state",),
    "digits": (*NUMERIC_KINDS, "duration"),
    "signed": NUMERIC_KINDS,
    "currency": ("money",),
    "unit": ("quantity", "duration"),
}


class AnswerValue(BaseModel):
    """One answer value with its kind declared by its key, e.g. `{time: "{{ t.local_time }}"}`,
    `{state: "{{ pr.state }}", of: pull_request}`, `{entity: "{{ a.title }}", aliases: [...]}`.
    A plain string (or number) in a check has its kind inferred instead (docs/scoring.md)."""

    model_config = ConfigDict(extra="forbid")

    text: Any = None
    number: Any = None
    money: Any = None
    quantity: Any = None
    time: Any = None
    date: Any = None
    duration: Any = None
    entity: Any = None
    person: Any = None
    state: Any = None
    aliases: list[Any] = Field(default_factory=list, description="other renderings accepted as they are")
    may_omit: list[Any] = Field(
        default_factory=list, description="entity: words the name may be given without"
    )
    of: str | None = Field(None, description="state: a built-in vocabulary of synonyms and negations")
    synonyms: dict[str, list[str]] = Field(default_factory=dict, description="state: extra forms per state")
    digits: int | None = Field(
        None,
        ge=1,
        le=15,
        description="number: significant digits a rounding keeps (duration: 1 allows rounding to the value's own order)",
    )
    signed: bool = Field(False, description="number: the rendering must carry the sign (+1.66%)")
    currency: str | None = Field(None, description="money: ISO code; another currency next to it fails")
    unit: str | None = Field(None, description="quantity: unit; duration: s, min, h or d (default s)")

    @model_validator(mode="after")
    def _one_kind(self) -> AnswerValue:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"an answer value names exactly one kind ({', '.join(KINDS)}); got {given or 'none'}"
            )
        kind = given[0]
        for opt, kinds in _OPTION_KINDS.items():
            if opt in self.model_fields_set and kind not in kinds:
                raise ValueError(f"option {opt!r} applies to {' or '.join(kinds)} values, not {kind}")
        if self.of is not None and self.of not in VOCABULARIES:
            raise ValueError(
                f"unknown state vocabulary {self.of!r} (one of {', '.join(sorted(VOCABULARIES))})"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def value(self) -> Any:
        return getattr(self, self.kind)

    def options(self) -> dict[str, Any]:
        """The options set on this value (templates still unrendered)."""
        return {k: getattr(self, k) for k in _OPTION_KINDS if k in self.model_fields_set}


# A value in a check: a declared-kind mapping, or a plain string or number (kind inferred).
AnswerItem = AnswerValue | str | int | float


class AnswerCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contains: list[AnswerItem] = Field(
        default_factory=list, description="rendered values the final answer must contain"
    )
    contains_any: list[list[AnswerItem]] = Field(
        default_factory=list, description="groups: at least one of each group"
    )
    not_contains: list[AnswerItem] = Field(default_factory=list)
    routes: list[list[str]] = Field(
        default_factory=list,
        description="other sets of calls the answer's values can be derived from (the calls its "
        "references read are the first route)",
    )


class TaskSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:\-]+$")
    pattern: Text = Field(min_length=1)
    prompt: Text = Field(min_length=1)
    tools: list[Text] = Field(default_factory=list)
    calls: list[NodeSpec] = Field(default_factory=list)
    answer: AnswerCheck | None = None
    latency: dict[str, LatencyModel] = Field(default_factory=dict, description="per-tool latency overrides")
    matching: Literal["default", "exact", "bfcl"] | None = None
    tags: list[Text] = Field(default_factory=list)
    notes: str | None = None
    source: dict[str, Any] | None = Field(None, description="provenance for imported tasks")


class TaskDefaults(BaseModel):
    """Task fields a suite sets once for every task that does not set them itself."""

    model_config = ConfigDict(extra="forbid")

    tools: list[Text] | None = Field(
        None, description="the tools exposed to a task that has no `tools:` of its own"
    )


class SuiteSpec(BaseModel):
    """`suite.yaml` in a suite folder (optional)."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = None
    description: Text = ""
    version: str = "1"
    matching: Literal["default", "exact", "bfcl"] = "default"
    tools: list[TableToolSpec] = Field(default_factory=list, description="table tools declared as data")
    defaults: TaskDefaults = Field(
        default_factory=TaskDefaults, description="task fields set once for the whole suite (`tools`)"
    )
    ordering_only: bool = Field(
        False, description="dependencies are temporal order, not data flow (TaskBench DailyLife)"
    )
    allow_identical_calls: bool = Field(
        False,
        description="the source expects the same call more than once (BFCL's repeated draws); validation "
        "then accepts identical nodes, and each identical call satisfies one of them",
    )
    require_answer_checks: bool = Field(
        False,
        description="validation: every task without a write must have an answer check (the core suite's rule)",
    )
    license: str | None = None

    @model_validator(mode="after")
    def _printable_tools(self) -> SuiteSpec:
        """Table tools are declared in mock_tools (below evals): their names and descriptions are
        checked here, where the suite file is read."""
        for i, t in enumerate(self.tools):
            for fld in ("name", "expose_as", "description"):
                v = getattr(t, fld, None)
                if isinstance(v, str):
                    try:
                        _printable(v)
                    except ValueError as exc:
                        raise ValueError(f"tools[{i}].{fld}: {exc}") from None
        return self
