"""Shared machinery of the HTTP providers: options, transport with retries, streaming, cache.

Every provider adapter is a `WireModel`: it turns a provider-neutral `ModelRequest` into its JSON
body, and the provider's JSON (or SSE events) back into a `ModelResponse`. This module owns what
they share, so resilience behaves the same for every wire format:

- a connection limit per model (an asyncio semaphore in front of an httpx pool of the same size,
  so waiting for a slot never trips the pool timeout), and an optional requests-per-minute spacer;
- retries with exponential backoff and jitter that honour `Retry-After` on 408/409/429/5xx/529,
  dropped connections, timeouts and truncated or malformed bodies; the jitter comes from a
  generator seeded by the request's cache key and the attempt number, so two runs wait alike, and
  waiting never enters the recorded latency (only the successful attempt's duration does);
- the response cache (`evals.cache`), consulted before any HTTP and filled after a success only.

API keys are read from the environment when the model is built, kept only in request headers and
scrubbed from every error message; they never enter options, cache keys, run files or logs.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import logging
import os
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..cache import ResponseCache, default_cache_path
from .base import Model, ModelError, ModelRequest, ModelResponse, ToolCall, Usage

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


class HttpOptions(BaseModel):
    """Options of an HTTP model, as stored in `RunConfig.model_options` (never an API key)."""

    model_config = ConfigDict(extra="ignore")
    base_url: str | None = None
    stream: bool = False
    max_connections: int = Field(16, ge=1)
    rpm: float | None = Field(None, gt=0, description="requests per minute; None = unlimited")
    cache: bool = True
    cache_path: str | None = None
    request_timeout: float = Field(120.0, gt=0)
    max_retries: int = Field(6, ge=0)
    retry_base_s: float = Field(1.0, ge=0, description="first backoff; doubles per attempt")
    retry_max_s: float = Field(60.0, ge=0, description="cap on one wait, Retry-After included")
    max_tokens: int = Field(4096, ge=1)
    settings: dict[str, Any] = Field(default_factory=dict)


def parse_options(options: dict[str, Any] | None) -> HttpOptions:
    try:
        return HttpOptions.model_validate(options or {})
    except ValidationError as exc:
        bad = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"invalid model options: {bad}") from None


def env_key(*names: str) -> str | None:
    for n in names:
        v = os.environ.get(n)
        if v:
            return v
    return None


class RetryableError(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_s(headers: httpx.Headers) -> float | None:
    """Seconds from `Retry-After` (delta-seconds or an HTTP date), or `retry-after-ms`."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_s(attempt: int, base: float, cap: float, key: str, retry_after: float | None) -> float:
    """Exponential backoff with full jitter in [0.5, 1] of the step, seeded by (key, attempt);
    never shorter than the server's Retry-After, never longer than `cap`."""
    rng = random.Random(f"{key}:{attempt}")
    wait = base * (2**attempt) * (0.5 + 0.5 * rng.random())
    if retry_after is not None:
        wait = max(wait, retry_after)
    return min(wait, cap)


class RateLimiter:
    """Spaces request starts at least 60/rpm seconds apart."""

    def __init__(self, rpm: float | None):
        self.interval = 60.0 / rpm if rpm else 0.0
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


@dataclass
class Exchange:
    """One successful HTTP exchange: the parsed body or the SSE events, and its timings."""

    body: Any = None
    events: list[dict] = field(default_factory=list)
    latency_s: float = 0.0
    ttft_s: float | None = None
    first_call_s: float | None = None
    attempts: int = 1


class StreamState:
    """Per-attempt view of a streamed response: sees each event as it arrives, says whether it was
    a token and whether it completed a tool call, and whether the stream reached its proper end
    (a stream cut short is a dropped connection, retried like one)."""

    complete = False

    def feed(self, event: dict) -> tuple[bool, bool]:  # (is a token, completed a tool call)
        return False, False


class Transport:
    """The HTTP client of one model: connection limit, RPM spacing, retries, timeouts."""

    def __init__(self, opts: HttpOptions, secrets: list[str]):
        self.opts = opts
        self.secrets = [s for s in secrets if s]
        self.rate = RateLimiter(opts.rpm)
        self._clients: list[httpx.AsyncClient] = []
        self._free: asyncio.Queue[httpx.AsyncClient] | None = None
        self.requests_sent = 0

    def _pool(self) -> asyncio.Queue[httpx.AsyncClient]:
        """`max_connections` clients of one keep-alive connection each, handed out one request at a
        time. This is the connection limit, and it keeps httpcore's pool from ever queueing: with
        many requests queued on one pool, its request-to-connection assignment turns quadratic
        (a known httpcore issue) and cost a fifth of a run's CPU at 64 concurrent episodes."""
        if self._free is None:
            self._free = asyncio.Queue()
            for _ in range(self.opts.max_connections):
                c = httpx.AsyncClient(
                    timeout=httpx.Timeout(self.opts.request_timeout),
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                )
                self._clients.append(c)
                self._free.put_nowait(c)
        return self._free

    async def aclose(self) -> None:
        for c in self._clients:
            await c.aclose()
        self._clients, self._free = [], None

    def scrub(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    async def send(
        self,
        url: str,
        body: dict,
        headers: dict[str, str],
        key: str,
        stream: StreamState | None = None,
    ) -> Exchange:
        """POST with retries; a final failure raises ModelError with a scrubbed message."""
        last = ""
        for attempt in range(self.opts.max_retries + 1):
            retry_after = None
            try:
                pool = self._pool()
                client = await pool.get()
                try:
                    await self.rate.wait()
                    self.requests_sent += 1
                    if stream is None:
                        ex = await self._once(client, url, body, headers)
                    else:
                        ex = await self._once_stream(client, url, body, headers, type(stream)())
                finally:
                    pool.put_nowait(client)
                ex.attempts = attempt + 1
                return ex
            except RetryableError as exc:
                last, retry_after = str(exc), exc.retry_after
            except httpx.TimeoutException as exc:
                last = f"timed out after {self.opts.request_timeout:g} s ({type(exc).__name__})"
            except httpx.RequestError as exc:  # connection, protocol and decoding failures
                last = f"connection failed: {type(exc).__name__}: {exc}"
            if attempt == self.opts.max_retries:
                break
            wait = backoff_s(attempt, self.opts.retry_base_s, self.opts.retry_max_s, key, retry_after)
            log.info("retrying %s in %.2f s after: %s", url, wait, self.scrub(last))
            await asyncio.sleep(wait)
        tries = self.opts.max_retries + 1
        raise ModelError(self.scrub(f"{url}: gave up after {tries} attempt(s): {last}"))

    async def _once(
        self, client: httpx.AsyncClient, url: str, body: dict, headers: dict[str, str]
    ) -> Exchange:
        t0 = time.perf_counter()
        r = await client.post(url, json=body, headers=headers)
        latency = time.perf_counter() - t0
        self._check_status(r.status_code, r.headers, r.text)
        ex = self._parse_body(r)
        ex.latency_s = latency
        return ex

    def _parse_body(self, r: httpx.Response) -> Exchange:
        try:
            data = r.json()
        except ValueError as exc:
            raise RetryableError(f"HTTP {r.status_code} with a malformed JSON body: {exc}") from None
        if not isinstance(data, dict):
            raise RetryableError(f"HTTP {r.status_code} body is a JSON {type(data).__name__}, not an object")
        return Exchange(body=data)

    async def _once_stream(
        self, client: httpx.AsyncClient, url: str, body: dict, headers: dict[str, str], state: StreamState
    ) -> Exchange:
        t0 = time.perf_counter()
        ex = Exchange()
        async with client.stream("POST", url, json=body, headers=headers) as r:
            if r.status_code != 200:
                text = (await r.aread()).decode("utf-8", "replace")
                self._check_status(r.status_code, r.headers, text)
            if r.headers.get("content-type", "").startswith("application/json"):
                # a server that ignores `stream: true` answers with one plain JSON body
                await r.aread()
                plain = self._parse_body(r)
                plain.latency_s = time.perf_counter() - t0
                return plain
            async for event in sse_events(r.aiter_lines()):
                ex.events.append(event)
                token, call_done = state.feed(event)
                now = time.perf_counter() - t0
                if token and ex.ttft_s is None:
                    ex.ttft_s = now
                if call_done and ex.first_call_s is None:
                    ex.first_call_s = now
        if not state.complete:
            raise RetryableError("stream ended before its terminal event (connection dropped?)")
        ex.latency_s = time.perf_counter() - t0
        return ex

    def _check_status(self, status: int, headers: httpx.Headers, text: str) -> None:
        if 200 <= status < 300:
            return
        detail = self.scrub(text[:300].strip())
        msg = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
        if status in RETRY_STATUS or status >= 500:
            raise RetryableError(msg, retry_after_s(headers))
        raise ModelError(self.scrub(msg))


DONE = {"type": "[DONE]"}


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[dict]:
    """JSON objects of a server-sent-event stream, then `DONE` if the server sent `data: [DONE]`.
    A data line that is not a JSON object, or an `error` event, is a retryable fault."""
    data: list[str] = []
    event_name: str | None = None

    def parse() -> dict:
        raw = "\n".join(data)
        if raw.strip() == "[DONE]":
            return DONE
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            raise RetryableError(f"malformed stream event: {exc}") from None
        if not isinstance(obj, dict):
            raise RetryableError("stream event is not a JSON object")
        if event_name and "type" not in obj:
            obj["type"] = event_name
        if obj.get("type") == "error" or event_name == "error":
            err = obj.get("error") if isinstance(obj.get("error"), dict) else {}
            raise RetryableError(f"error event in stream: {err.get('type', '')} {err.get('message', '')}")
        return obj

    async for line in lines:
        if line == "":
            if data:
                ev = parse()
                yield ev
                if ev is DONE:
                    return
            data, event_name = [], None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            data.append(value)
        elif name == "event":
            event_name = value
    if data:
        yield parse()


# -- helpers shared by the codecs ------------------------------------------------------------------


def args_text(arguments: Any) -> str:
    """Arguments as JSON text for a wire format that wants a string."""
    if arguments is None:
        return "{}"
    if isinstance(arguments, str):
        return arguments
    return json.dumps(arguments, separators=(",", ":"), ensure_ascii=False)


def args_object(arguments: Any) -> dict:
    """Arguments as an object for a wire format that wants one (Anthropic `input`, Gemini `args`);
    unparseable text becomes {} because these formats cannot carry it."""
    if isinstance(arguments, dict):
        return arguments
    if isinstance(arguments, str) and arguments.strip():
        try:
            val = json.loads(arguments)
        except ValueError:
            return {}
        return val if isinstance(val, dict) else {}
    return {}


def unique_ids(calls: list[ToolCall], turn: int, used: set[str] | None = None) -> list[ToolCall]:
    """Give every call a non-empty id unique within the conversation (some servers omit ids, repeat
    them within a response, or restart at `call_0` every turn); results are paired with calls by id."""
    seen: set[str] = set(used or ())
    for i, c in enumerate(calls):
        cid = c.id if isinstance(c.id, str) and c.id else f"call_{turn}_{i}"
        while cid in seen:
            cid = f"{cid}_{i}"
        seen.add(cid)
        c.id = cid
    return calls


def turn_of(request: ModelRequest) -> int:
    return 1 + sum(1 for m in request.messages if m.role == "assistant")


def text_or_none(text: str | None) -> str | None:
    return text if text else None


def response_to_json(resp: ModelResponse) -> dict:
    return {
        "text": resp.text,
        "tool_calls": [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in resp.tool_calls],
        "usage": None
        if resp.usage is None
        else {
            "prompt_tokens": resp.usage.prompt_tokens,
            "completion_tokens": resp.usage.completion_tokens,
            "cached_tokens": resp.usage.cached_tokens,
            "estimated": resp.usage.estimated,
        },
        "latency_s": resp.latency_s,
        "finish_reason": resp.finish_reason,
        "ttft_s": resp.ttft_s,
        "first_call_s": resp.first_call_s,
    }


def response_from_json(data: dict, cached: bool) -> ModelResponse:
    u = data.get("usage")
    return ModelResponse(
        text=data.get("text"),
        tool_calls=[ToolCall(c["id"], c["name"], c["arguments"]) for c in data.get("tool_calls", [])],
        usage=None if u is None else Usage(**u),
        latency_s=data.get("latency_s"),
        cached=cached,
        finish_reason=data.get("finish_reason"),
        ttft_s=data.get("ttft_s"),
        first_call_s=data.get("first_call_s"),
    )


class WireModel(Model):
    """A model behind an HTTP API. Subclasses give the URL, headers and the codec."""

    remote = True
    provider = "http"
    default_base_url = ""
    key_env: tuple[str, ...] = ()
    streams = False  # whether this wire format implements --stream

    def __init__(self, model: str, options: dict[str, Any] | None = None):
        self.model = model
        self.name = f"{self.provider}/{model}"
        self.opts = parse_options(options)
        self.api_key = env_key(*self.key_env)
        self.base_url = self.resolve_base_url(self.opts.base_url)
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"{self.name}: base URL {self.base_url!r} must start with http:// or https://")
        if self.api_key is None and self.requires_key():
            names = " or ".join(self.key_env)
            raise ValueError(
                f"{self.name}: set {names} in the environment (or --base-url for a local server)"
            )
        self.transport = Transport(self.opts, [self.api_key or ""])
        self.cache: ResponseCache | None = None
        if self.opts.cache:
            self.cache = ResponseCache(
                Path(self.opts.cache_path) if self.opts.cache_path else default_cache_path()
            )

    # -- what subclasses define ------------------------------------------------------------------
    def resolve_base_url(self, given: str | None) -> str:
        return (given or self.default_base_url).rstrip("/")

    def requires_key(self) -> bool:
        return self.base_url == self.default_base_url.rstrip("/")

    def url(self) -> str:
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        raise NotImplementedError

    def encode(self, request: ModelRequest, stream: bool) -> dict:
        raise NotImplementedError

    def decode(self, body: dict, turn: int) -> ModelResponse:
        raise NotImplementedError

    def stream_state(self) -> StreamState:
        raise NotImplementedError

    def decode_stream(self, events: list[dict], turn: int) -> ModelResponse:
        raise NotImplementedError

    # -- the shared path -------------------------------------------------------------------------
    def describe(self) -> dict:
        return {
            "name": self.name,
            "provider": self.provider,
            "model": self.model,
            "base_url": self.base_url,
            "stream": self.opts.stream and self.streams,
            "cache": self.opts.cache,
        }

    def settings(self, request: ModelRequest) -> dict[str, Any]:
        return {**self.opts.settings, **(request.settings or {})}

    def cache_key(self, url: str, body: dict, epoch: int) -> str:
        doc = {
            "provider": self.provider,
            "model": self.model,
            "endpoint": url,
            "request": body,
            "epoch": epoch,
        }
        canon = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()

    async def generate(self, request: ModelRequest) -> ModelResponse:
        stream = self.opts.stream and self.streams
        url = self.url()
        body = self.encode(request, stream)
        key = self.cache_key(url, body, request.epoch)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return response_from_json(hit, cached=True)
        turn = turn_of(request)
        if stream:
            ex = await self.transport.send(url, body, self.headers(), key, self.stream_state())
        else:
            ex = await self.transport.send(url, body, self.headers(), key)
        if ex.body is None:
            try:
                resp = self.decode_stream(ex.events, turn)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise ModelError(self.transport.scrub(f"{url}: unexpected stream: {exc!r}")) from None
            resp.ttft_s, resp.first_call_s = ex.ttft_s, ex.first_call_s
        else:
            try:
                resp = self.decode(ex.body, turn)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                raise ModelError(self.transport.scrub(f"{url}: unexpected response: {exc!r}")) from None
        resp.latency_s = ex.latency_s
        used = {c.id for m in request.messages for c in m.tool_calls}
        resp.tool_calls = unique_ids(resp.tool_calls, turn, used)
        if self.cache is not None:
            self.cache.put(key, self.provider, self.model, url, request.epoch, response_to_json(resp))
        return resp

    async def aclose(self) -> None:
        await self.transport.aclose()
        if self.cache is not None:
            self.cache.close()
