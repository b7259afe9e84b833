"""`fanout run` flags for HTTP providers, and the `model_options` they become in run.json.

Only flags the user set are stored, so a policy run's run.json stays free of provider noise and a
resumed run rebuilds the same client. API keys are never flags: they come from the environment.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from . import boolean, env, number, positive_float, positive_int


def _integer(v: str) -> int:
    return int(number(int, v))


def _number(v: str) -> float:
    return float(number(float, v))


def _count(v: str) -> int:
    return int(number(int, v, 0))


def _param(v: str) -> tuple[str, Any]:
    """`key=value`; the value is read as JSON when it parses (numbers, true, objects), else text."""
    key, sep, raw = v.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, not {v!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key.strip(), value


def _extra_body(v: str) -> list[tuple[str, Any]]:
    """A JSON object merged into the request body (the `extra_body` of the OpenAI SDK and vLLM):
    its leaves become -M parameters with dotted keys, so nested objects merge into the body's
    own instead of replacing them."""
    try:
        doc = json.loads(v)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a JSON object, not {v!r} ({exc})") from None
    if not isinstance(doc, dict) or not doc:
        raise argparse.ArgumentTypeError(f"expected a non-empty JSON object, not {v!r}")
    out: list[tuple[str, Any]] = []

    def walk(prefix: str, obj: dict[str, Any]) -> None:
        for k, val in obj.items():
            key = f"{prefix}{k}"
            if isinstance(val, dict) and val:
                walk(key + ".", val)
            else:
                out.append((key, val))

    walk("", doc)
    return out


EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")


def _effort(v: str) -> str:
    """A FANOUT_REASONING_EFFORT value: argparse checks `choices` only for values on the command
    line, so the environment's is checked here."""
    if v not in EFFORTS:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(EFFORTS)}, not {v!r}")
    return v


def add_provider_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("HTTP providers (openai/, anthropic/, openai-responses/, google/)")
    g.add_argument(
        "--base-url",
        default=env("base_url"),
        help="API base URL, e.g. http://127.0.0.1:8911/v1 for `fanout serve` or a vLLM/Ollama server; "
        "openai/ also reads OPENAI_BASE_URL; a trailing /v1 is dropped for anthropic/ and google/ [FANOUT_BASE_URL]",
    )
    g.add_argument(
        "--stream",
        action="store_true",
        default=env("stream", False, boolean),
        help="stream responses (openai/ and anthropic/): records time to first token and to first complete "
        "tool call [FANOUT_STREAM]",
    )
    g.add_argument(
        "--max-connections",
        type=positive_int,
        default=env("max_connections", None, positive_int),
        help="concurrent HTTP requests per model; unset = 16 [FANOUT_MAX_CONNECTIONS]",
    )
    g.add_argument(
        "--rpm",
        type=positive_float,
        default=env("rpm", None, positive_float),
        help="requests per minute limit [FANOUT_RPM]",
    )
    g.add_argument(
        "--no-cache",
        action="store_true",
        default=env("no_cache", False, boolean),
        help="do not read or write the response cache [FANOUT_NO_CACHE]",
    )
    g.add_argument(
        "--cache-path",
        default=env("cache_path"),
        help="SQLite response cache; unset = $FANOUT_CACHE_DIR/responses.sqlite or "
        "~/.cache/fanout/responses.sqlite [FANOUT_CACHE_PATH]",
    )
    g.add_argument(
        "--request-timeout",
        type=positive_float,
        default=env("request_timeout", None, positive_float),
        help="seconds per HTTP request before it is retried; unset = 120 [FANOUT_REQUEST_TIMEOUT]",
    )
    g.add_argument(
        "--max-retries",
        type=_count,
        default=env("max_retries", None, _count),
        help="retries on 408/429/5xx/529, timeouts and broken bodies; unset = 6 [FANOUT_MAX_RETRIES]",
    )
    g.add_argument(
        "--temperature",
        type=_number,
        default=env("temperature", None, _number),
        help="sampling temperature sent to the provider [FANOUT_TEMPERATURE]",
    )
    g.add_argument(
        "--reasoning-effort",
        choices=EFFORTS,
        default=env("reasoning_effort", None, _effort),
        help="how hard a reasoning model thinks: reasoning_effort (openai/), reasoning.effort "
        "(openai-responses/), thinkingLevel (google/ Gemini 3), adaptive thinking with output_config.effort "
        "(anthropic/ Opus 4.7+); checked against the model's accepted values [FANOUT_REASONING_EFFORT]",
    )
    g.add_argument(
        "--thinking-budget",
        type=_integer,
        default=env("thinking_budget", None, _integer),
        help="thinking tokens: thinking.budget_tokens (anthropic/, >= 1024; 0 = off) or "
        "thinkingConfig.thinkingBudget (google/; 0 = off, -1 = dynamic) [FANOUT_THINKING_BUDGET]",
    )
    g.add_argument(
        "--max-tokens",
        type=positive_int,
        default=env("max_tokens", None, positive_int),
        help="output token limit, thinking included: max_tokens (anthropic/; unset = 4096 + the thinking "
        "budget, 32000 with adaptive thinking), max_completion_tokens (openai/), max_output_tokens "
        "(openai-responses/), maxOutputTokens (google/); unset = the provider's default [FANOUT_MAX_TOKENS]",
    )
    g.add_argument(
        "-M",
        dest="provider_params",
        action="append",
        type=_param,
        default=None,
        metavar="KEY=VALUE",
        help="provider parameter merged into the request body, repeatable; dotted keys nest "
        "(-M top_k=40, -M thinking.type=adaptive); values are JSON when they parse",
    )
    g.add_argument(
        "--extra-body",
        dest="extra_body",
        action="append",
        type=_extra_body,
        default=None,
        metavar="JSON",
        help="a JSON object merged into the request body, repeatable (as the OpenAI SDK's extra_body); "
        "nested objects merge key by key; applied before -M",
    )
    g.add_argument(
        "--parallel-tool-calls",
        action=argparse.BooleanOptionalAction,
        default=env("parallel_tool_calls", None, boolean),
        help="send parallel_tool_calls (Anthropic: disable_parallel_tool_use); unset = provider default "
        "[FANOUT_PARALLEL_TOOL_CALLS]",
    )


def model_options(args: argparse.Namespace) -> dict[str, Any]:
    """The `RunConfig.model_options` of these flags; `settings` reach every ModelRequest."""
    opts: dict[str, Any] = {}
    for flag in ("base_url", "max_connections", "rpm", "cache_path", "request_timeout", "max_retries"):
        v = getattr(args, flag, None)
        if v is not None:
            opts[flag] = v
    if getattr(args, "stream", False):
        opts["stream"] = True
    if getattr(args, "no_cache", False):
        opts["cache"] = False
    settings = {}
    if getattr(args, "temperature", None) is not None:
        settings["temperature"] = args.temperature
    if getattr(args, "parallel_tool_calls", None) is not None:
        settings["parallel_tool_calls"] = args.parallel_tool_calls
    for flag in ("reasoning_effort", "thinking_budget", "max_tokens"):
        if getattr(args, flag, None) is not None:
            settings[flag] = getattr(args, flag)
    if settings:
        opts["settings"] = settings
    params = dict(p for body in getattr(args, "extra_body", None) or [] for p in body)
    params.update(getattr(args, "provider_params", None) or [])
    if params:
        opts["params"] = params
    return opts
