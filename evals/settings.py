"""Runtime settings: how an episode is run, apart from the model, the task and the prompts.

One frozen model carries them whole: `fanout run` builds it from its flags and FANOUT_* values,
run.json stores it (`runtime`), each trace records the one it ran under, the runtime and the
scorer read it, `whatif` varies it and `gate` lists which of its fields changed between two runs.
Adding a setting is one field here (its constraints and description included) plus the code that
uses it: the CLI flag, run.json, the trace, `--resume`'s refusal of the flag, the gate's "changed"
line and the report's comparability groups follow from the field, and with `whatif=True` the
`fanout whatif` flag, sweep dimension and column (docs/extending.md, tests/test_extending.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mock_tools import LATENCY_PROFILES, LatencyModel, Tool

from .errors import UsageError
from .timing import INFERENCE_PROFILES, InferenceProfile, get_profile

Clock = Literal["virtual", "real"]
Finite = Annotated[float, Field(allow_inf_nan=False)]  # no NaN, no infinity
MEASURED = "measured"  # the inference profile that means "each turn as the model measured it"
NONE_WORDS = ("none", "off", "unbounded")  # how a command line says None for an optional setting


def _setting(
    default: Any, description: str, *, whatif: bool = False, none: str = "none", **constraints: Any
) -> Any:
    """A RuntimeSettings field: its default, what it does (the flag's help), its constraints,
    `whatif`: `fanout whatif` can re-time stored traces under it, and `none`: how a table writes
    the setting when it is None."""
    extra: dict[str, Any] = {}
    if whatif:
        extra["whatif"] = True
    if none != "none":
        extra["none"] = none
    return Field(default, description=description, json_schema_extra=extra or None, **constraints)


class RuntimeSettings(BaseModel):
    """Everything the runtime needs besides the model, the task and the prompts. Immutable: a
    changed setting is a new object (`replace`), so a trace can keep the one it ran under."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = _setting(0, "world and latency seed: same seed, same tool data and latencies")
    clock: Clock = _setting(
        "virtual", "virtual: nothing sleeps, times are computed; real: tools and policies really wait"
    )
    inference_profile: str | InferenceProfile | None = _setting(
        None,
        "model latency per turn: fast|typical|slow, or measured; unset: measured for providers, typical "
        "for reference policies (a custom InferenceProfile from Python)",
        whatif=True,
        none="default",
    )
    latency_scale: Finite = _setting(1.0, "multiply every tool latency sample", whatif=True, gt=0)
    latency_profile: str | None = _setting(
        None, f"replace every tool's latency model: {'|'.join(LATENCY_PROFILES)}", whatif=True, none="default"
    )
    fan_out_cap: int | None = _setting(
        None, "max concurrent tool calls per batch (none: unbounded)", whatif=True, ge=1
    )
    tool_timeout: Finite | None = _setting(
        None, "seconds before a tool call returns a timeout error (none: no timeout)", whatif=True, gt=0
    )
    hedge_after: Finite | None = _setting(
        None,
        "seconds after which a read gets a racing duplicate request (none: no hedging)",
        whatif=True,
        ge=0,
    )
    max_turns: int = _setting(30, "model responses before the episode stops", ge=1)

    @field_validator("inference_profile")
    @classmethod
    def _known_inference_profile(cls, v: str | InferenceProfile | None) -> str | InferenceProfile | None:
        if isinstance(v, str) and v != MEASURED and v not in INFERENCE_PROFILES:
            raise ValueError(
                f"unknown inference profile {v!r}; known: {', '.join(INFERENCE_PROFILES)}, {MEASURED}"
            )
        return v

    @field_validator("latency_profile")
    @classmethod
    def _known_latency_profile(cls, v: str | None) -> str | None:
        if v is not None and v not in LATENCY_PROFILES:
            raise ValueError(f"unknown latency profile {v!r}; known: {', '.join(LATENCY_PROFILES)}")
        return v

    @property
    def profile(self) -> InferenceProfile | None:
        """The inference profile object; None: each turn's measured latency (or the default profile)."""
        if isinstance(self.inference_profile, InferenceProfile):
            return self.inference_profile
        return get_profile(self.inference_profile)

    @property
    def profile_label(self) -> str | None:
        """The inference profile's name, as tables show it."""
        p = self.inference_profile
        return p.name if isinstance(p, InferenceProfile) else p

    def latency_model(self, tool: Tool, overrides: Mapping[str, LatencyModel] | None = None) -> LatencyModel:
        """The latency model of `tool`: the run's latency profile when it replaces every tool's,
        else the task's override for the tool, else the tool's own."""
        if self.latency_profile is not None:
            replaced = LATENCY_PROFILES[self.latency_profile]
            if replaced is not None:  # "default" keeps each tool's own
                return replaced
        if overrides and tool.name in overrides:
            return overrides[tool.name]
        return tool.latency

    def replace(self, **changes: Any) -> RuntimeSettings:
        """A copy with `changes`, validated like a new object."""
        return type(self).model_validate({**self.model_dump(), **changes})

    @classmethod
    def text(cls, name: str, value: Any) -> str:
        """A setting's value as the terminal tables write it (None: the field's `none` word)."""
        if value is None:
            extra = cls.model_fields[name].json_schema_extra
            return str(extra.get("none", "none")) if isinstance(extra, dict) else "none"
        if isinstance(value, InferenceProfile):
            return value.name
        return f"{value:g}" if isinstance(value, float) else str(value)

    @classmethod
    def whatif_fields(cls) -> tuple[str, ...]:
        """The settings `fanout whatif` can vary on stored traces (the rest change the conversation)."""
        return tuple(
            name
            for name, f in cls.model_fields.items()
            if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("whatif")
        )


def flag(name: str) -> str:
    """The command-line flag of a setting: `fan_out_cap` -> `--fan-out-cap`."""
    return "--" + name.replace("_", "-")


def from_text(
    values: Mapping[str, str | None],
    base: RuntimeSettings | None = None,
    labels: Mapping[str, str] | None = None,
) -> RuntimeSettings:
    """Settings from command-line or environment text (`{"fan_out_cap": "4", "seed": None}`; None
    keeps the base's value). "none", "off" or "unbounded" turn an optional setting off. Any bad
    value is a one-line `UsageError` naming where it came from (`labels`: the flag by default)."""
    data = (base or RuntimeSettings()).model_dump()
    for name, raw in values.items():
        if raw is None:
            continue
        text = raw.strip()
        optional = RuntimeSettings.model_fields[name].default is None
        data[name] = None if optional and text.lower() in NONE_WORDS else text
    try:
        return RuntimeSettings.model_validate(data)
    except ValidationError as exc:
        raise UsageError(validation_message(exc, values, labels)) from None


def validation_message(
    exc: ValidationError, values: Mapping[str, Any] | None = None, labels: Mapping[str, str] | None = None
) -> str:
    """One line for a ValidationError of RuntimeSettings: `--fan-out-cap '0': Input should be ...`."""
    parts = []
    for e in exc.errors():
        name = str(e["loc"][0]) if e["loc"] else "settings"
        given = (values or {}).get(name, e.get("input"))
        msg = str(e["msg"]).removeprefix("Value error, ")
        optional = name in RuntimeSettings.model_fields and RuntimeSettings.model_fields[name].default is None
        hint = " (or none)" if optional and e["type"] != "value_error" else ""
        parts.append(f"{(labels or {}).get(name, flag(name))} {given!r}: {msg}{hint}")
    return "; ".join(parts)
