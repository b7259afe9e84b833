"""Shared machinery of the HTTP providers: options, transport with retries, streaming, cache.

Every provider adapter is a `WireModel`: it turns a provider-neutral `ModelRequest` into its JSON
body, the provider's JSON (or SSE events) back into a `ModelResponse`, and decides what a failed
request means (`classify`: retry, fail the episode, or stop the run). This module owns what they
share, so resilience behaves the same for every wire format:

- a connection limit per model: a semaphore in front of small httpx clients of one keep-alive
  connection each, created only when a request finds no idle one (so `--max-connections 1000`
  builds only as many as are ever in flight) and all sharing one SSL context (building one costs
  ~25 ms and ~1 MB, which 1000 connections made 25 s and 1 GB); an optional requests-per-minute
  spacer. One client per connection, not one pool: with many requests queued on one httpcore
  pool its request-to-connection assignment turns quadratic;
- a total deadline per attempt (`request_timeout`, as well as httpx's per-read timeout), so a
  server trickling a byte a second cannot hold a run; one log line when an attempt is still
  waiting after `SLOW_LOG_S`;
- retries with exponential backoff and jitter that honour the server's wait (`Retry-After`, or
  the provider's own field) up to a documented cap (`retry_max_s`, 60 s), each retry logged once
  with its wait; the jitter comes from a generator seeded by the request's cache key and the
  attempt number, so two runs wait alike, and waiting never enters the recorded latency;
- failures no retry can fix (401/403, unknown model, exhausted quota) raise `ProviderFatalError`,
  which stops the run instead of failing every episode in turn; a server that cannot be connected
  to on the last retry (refused, DNS, connect timeout) raises `ProviderUnreachableError`, for the
  same reason: the network is down, the model was never asked;
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
import re
import ssl
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..cache import ResponseCache, default_cache_path
from ..errors import ProviderFatalError, ProviderUnreachableError
from .base import Message, Model, ModelError, ModelRequest, ModelResponse, ProviderParts, ToolCall, Usage
from .capabilities import Capability, capability, check_settings
from .connection import OneConnection

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
DEFAULT_TIMEOUT_S = 120.0
REASONING_TIMEOUT_S = 600.0  # a thinking model may answer in minutes; used when it reasons
SLOW_LOG_S = 10.0  # an attempt still waiting after this long gets one log line
REASONING_SLOW_LOG_S = 60.0  # the same for a model that reasons (answers in tens of seconds are normal)
MAX_DEPTH = 64  # JSON deeper than this in a response is kept as text (see loads_json)


class HttpOptions(BaseModel):
    """Options of an HTTP model, as stored in `RunConfig.model_options` (never an API key)."""

    model_config = ConfigDict(extra="ignore")
    base_url: str | None = None
    stream: bool = False
    max_connections: int = Field(16, ge=1)
    rpm: float | None = Field(None, gt=0, description="requests per minute; None = unlimited")
    cache: bool = True
    cache_path: str | None = None
    request_timeout: float | None = Field(
        None, gt=0, description="total seconds per attempt; None = 120, or 600 for a reasoning model"
    )
    max_retries: int = Field(6, ge=0)
    retry_base_s: float = Field(1.0, ge=0, description="first backoff; doubles per attempt")
    retry_max_s: float = Field(
        60.0, ge=0, description="cap on one wait, the server's requested wait included"
    )
    max_tokens: int | None = Field(None, ge=1, description="legacy; --max-tokens is settings.max_tokens")
    settings: dict[str, Any] = Field(default_factory=dict)
    params: dict[str, Any] = Field(
        default_factory=dict, description="-M provider parameters, merged into the body"
    )


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


@dataclass
class Failure:
    """What a failed HTTP answer means, as the provider's `classify` hook decides it."""

    action: Literal["retry", "fail", "fatal"]  # fatal: stop the run; fail: end this episode
    message: str
    wait_s: float | None = None  # the wait the server asked for (Retry-After, retryDelay ...)


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


def error_body(text: str) -> dict:
    """The provider's `error` object, whichever of the usual shapes it came in ({} if none)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    if isinstance(data, list) and data and isinstance(data[0], dict):  # Gemini sometimes wraps in a list
        data = data[0]
    if not isinstance(data, dict):
        return {}
    err = data.get("error")
    return err if isinstance(err, dict) else {}


def error_message(status: int, text: str) -> str:
    err = error_body(text)
    msg = err.get("message") if isinstance(err.get("message"), str) else None
    detail = (msg or text[:300]).strip()
    return f"HTTP {status}: {detail}" if detail else f"HTTP {status}"


def status_failure(status: int, headers: httpx.Headers, text: str) -> Failure:
    """The decision shared by every provider; adapters look at their own error bodies first."""
    msg = error_message(status, text)
    if status in (401, 403):
        return Failure("fatal", f"{msg} (the API key is missing, invalid or not allowed this model)")
    if status == 404:
        return Failure("fatal", f"{msg} (unknown model or endpoint)")
    if status in RETRY_STATUS or status >= 500:
        return Failure("retry", msg, retry_after_s(headers))
    return Failure("fail", msg)


def backoff_s(attempt: int, base: float, cap: float, key: str, retry_after: float | None) -> float:
    """Exponential backoff with full jitter in [0.5, 1] of the step, seeded by (key, attempt);
    never shorter than the server's requested wait, never longer than `cap`."""
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
        self.lock: asyncio.Lock | None = None

    async def wait(self) -> None:
        if not self.interval:
            return
        if self.lock is None:
            self.lock = asyncio.Lock()
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


# -- JSON that no response can break ------------------------------------------------------------


class RawJSON(str):
    """A JSON value nested too deep to hold as Python objects, kept as its exact text."""


def _deep_spans(text: str, limit: int) -> list[tuple[int, int]]:
    """(start, end) of every container that opens at depth `limit`, scanning iteratively."""
    spans: list[tuple[int, int]] = []
    depth, start, in_str, esc = 0, -1, False, False
    for i, ch in enumerate(text):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth == limit:
                start = i
        elif ch in "]}":
            if depth == limit and start >= 0:
                spans.append((start, i + 1))
                start = -1
            depth -= 1
    return spans


def loads_json(text: str | bytes) -> Any:
    """`json.loads`, except that a document nested deeper than the interpreter can recurse (a
    model may emit 10,000-deep arguments) parses anyway: every container at depth `MAX_DEPTH` is
    kept as a `RawJSON` string of its exact text. Raises ValueError on invalid JSON only."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogatepass")
    try:
        return json.loads(text)
    except RecursionError:
        pass
    spans = _deep_spans(text, MAX_DEPTH)
    token = f"\x00raw-{uuid.uuid4().hex}-"
    pieces: list[str] = []
    raws: dict[str, str] = {}
    pos = 0
    for n, (s, e) in enumerate(spans):
        pieces.append(text[pos:s])
        name = f"{token}{n}"
        raws[name] = text[s:e]
        pieces.append(json.dumps(name))
        pos = e
    pieces.append(text[pos:])
    try:
        shallow = json.loads("".join(pieces))
    except RecursionError as exc:  # pragma: no cover - the spans bound the depth
        raise ValueError("JSON nested too deep") from exc

    def restore(v: Any, depth: int = 0) -> Any:
        if isinstance(v, str) and v.startswith(token):
            return RawJSON(raws[v])
        if isinstance(v, dict):
            return {k: restore(x, depth + 1) for k, x in v.items()}
        if isinstance(v, list):
            return [restore(x, depth + 1) for x in v]
        return v

    return restore(shallow)


def _has_raw(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, RawJSON):
            return True
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _dump_raw(value: Any) -> str:
    """JSON text of a value holding RawJSON pieces, which are spliced in verbatim."""
    if isinstance(value, RawJSON):
        return str(value)
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_dump_raw(v)}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_dump_raw(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def call_args(value: Any) -> Any:
    """Arguments as a decoder should keep them: objects as objects, except one too deep to hold
    (it contains RawJSON), which becomes its exact JSON text; the runtime parses either."""
    if isinstance(value, dict | list) and _has_raw(value):
        return _dump_raw(value)
    if isinstance(value, RawJSON):
        return str(value)
    return value


def dumps_body(body: Any) -> bytes:
    """The request body. UTF-8 JSON; a lone surrogate echoed back from an earlier response cannot
    be UTF-8, so such a body is sent with \\u escapes instead of failing."""
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode("ascii")


# -- the transport ----------------------------------------------------------------------------------

_SSL_CONTEXT: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """One SSL context for every connection of the process (loading the CA bundle is the costly part)."""
    global _SSL_CONTEXT
    if _SSL_CONTEXT is None:
        make = getattr(httpx, "create_ssl_context", None)
        if make is not None:
            _SSL_CONTEXT = make()
        else:  # pragma: no cover - httpx < 0.28
            import certifi

            _SSL_CONTEXT = ssl.create_default_context(cafile=certifi.where())
    return _SSL_CONTEXT


@dataclass
class Exchange:
    """One successful HTTP exchange: the parsed body or the SSE events, and its timings."""

    body: Any = None
    events: list[dict] = field(default_factory=list)
    latency_s: float = 0.0
    ttft_s: float | None = None
    first_call_s: float | None = None
    attempts: int = 1


class StreamState(ABC):
    """Per-attempt view of a streamed response: sees each event as it arrives, says whether it was
    a token and whether it completed a tool call, and whether the stream reached its proper end
    (a stream cut short is a dropped connection, retried like one)."""

    complete = False

    @abstractmethod
    def feed(self, event: dict) -> tuple[bool, bool]:  # (is a token, completed a tool call)
        ...


Classifier = Callable[[int, httpx.Headers, str], Failure]
RETRY_LOG_EVERY_S = 5.0  # the same retry cause is logged at most this often per model
BASE_HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
BASE_HEADERS["user-agent"] = "fanout-evals"


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY),
    as an httpx client with trust_env would use."""
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return proxy


class Transport:
    """The HTTP client of one model: connection limit, RPM spacing, deadlines, retries."""

    def __init__(
        self,
        opts: HttpOptions,
        secrets: list[str],
        classify: Classifier = status_failure,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        label: str = "",
        http_transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.opts = opts
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.classify = classify
        self.timeout_s = timeout_s
        self.label = label
        self.http_transport = http_transport
        self.rate = RateLimiter(opts.rpm)
        self.slow_log_s: float | None = None  # None: SLOW_LOG_S
        self._urls: dict[str, httpx.URL] = {}
        self._idle: list[httpx.AsyncBaseTransport] = []
        self._conns: list[httpx.AsyncBaseTransport] = []
        self._slots: asyncio.Semaphore | None = None
        t = self.timeout_s
        self._timeouts = {"connect": t, "read": t, "write": t, "pool": t}
        self.requests_sent = 0
        # Retry warnings by cause: when every episode in flight meets the same failure (a server
        # down, a rate limit), one line per cause every RETRY_LOG_EVERY_S says so, with how many
        # attempts it stands for, instead of a line per attempt (32 episodes, 6 retries: 192).
        self._retry_log: dict[str, tuple[float, int]] = {}

    @property
    def clients_created(self) -> int:
        """Connections built so far (each an httpx transport holding one keep-alive connection)."""
        return 0 if self.http_transport is not None else len(self._conns)

    def _new_conn(self, url: str) -> httpx.AsyncBaseTransport:
        proxy = env_proxy(url)
        conn: httpx.AsyncBaseTransport
        if proxy is None:
            conn = OneConnection(shared_ssl_context())
        else:  # a proxy: httpx's transport knows how to tunnel
            conn = httpx.AsyncHTTPTransport(
                verify=shared_ssl_context(),
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                proxy=proxy,
            )
        self._conns.append(conn)
        return conn

    async def _acquire(self, url: str) -> httpx.AsyncBaseTransport:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.opts.max_connections)
        await self._slots.acquire()
        if self.http_transport is not None:  # an injected transport has its own notion of connections
            return self.http_transport
        return self._idle.pop() if self._idle else self._new_conn(url)

    def _release(self, conn: httpx.AsyncBaseTransport) -> None:
        if self.http_transport is None:
            self._idle.append(conn)
        assert self._slots is not None
        self._slots.release()

    async def aclose(self) -> None:
        for c in self._conns:
            await c.aclose()
        if self.http_transport is not None:
            await self.http_transport.aclose()
        self._conns, self._idle, self._slots = [], [], None

    def scrub(self, text: str) -> str:
        """Replace every key in `text` by ***. A key shorter than 8 characters is only replaced
        where it stands alone (not inside a word), so `OPENAI_API_KEY=x` cannot turn "unexpected"
        into "une***pected"."""
        for s in self.secrets:
            if len(s) >= 8:
                text = text.replace(s, "***")
            else:
                text = re.sub(rf"(?<![A-Za-z0-9_\-]){re.escape(s)}(?![A-Za-z0-9_\-])", "***", text)
        return text

    async def send(
        self,
        url: str,
        body: dict,
        headers: dict[str, str],
        key: str | Callable[[], str],
        stream: Callable[[], StreamState] | None = None,
    ) -> Exchange:
        """POST with retries; a final failure raises ModelError (or ProviderFatalError), scrubbed."""
        payload = dumps_body(body)
        hdrs = {**BASE_HEADERS, **headers}
        last = ""
        tries = self.opts.max_retries + 1
        loop = asyncio.get_running_loop()
        for attempt in range(tries):
            retry_after = None
            unreachable = False  # this attempt never reached the server (no connection was made)
            try:
                client = await self._acquire(url)
                try:
                    await self.rate.wait()
                    self.requests_sent += 1
                    slow = loop.call_later(self.slow_log_s or SLOW_LOG_S, self._log_slow, url, attempt)
                    try:
                        async with asyncio.timeout(self.timeout_s):
                            if stream is None:
                                ex = await self._once(client, url, payload, hdrs)
                            else:
                                ex = await self._once_stream(client, url, payload, hdrs, stream())
                    finally:
                        slow.cancel()
                finally:
                    self._release(client)
                ex.attempts = attempt + 1
                return ex
            except RetryableError as exc:
                last, retry_after = str(exc), exc.retry_after
            except (httpx.TimeoutException, TimeoutError) as exc:
                last = f"timed out after {self.timeout_s:g} s ({type(exc).__name__})"
                unreachable = isinstance(exc, httpx.ConnectTimeout)
            except httpx.RequestError as exc:  # connection, protocol and decoding failures
                last = f"connection failed: {type(exc).__name__}: {exc}"
                unreachable = isinstance(exc, httpx.ConnectError)
            if attempt == self.opts.max_retries:
                break
            if not isinstance(key, str):
                key = key()  # the request's cache key seeds the jitter; computed only when needed
            wait = backoff_s(attempt, self.opts.retry_base_s, self.opts.retry_max_s, key, retry_after)
            capped = ""
            if retry_after is not None and retry_after > self.opts.retry_max_s:
                capped = f" (the server asked for {retry_after:g} s; capped at retry_max_s {self.opts.retry_max_s:g} s)"
            self._warn_retry(url, attempt, tries, self.scrub(last)[:300], wait, capped)
            await asyncio.sleep(wait)
        if unreachable:
            # The last attempt could not even connect (refused, DNS, connect timeout): the server
            # or the network is down, not the model. Stop the run rather than score every
            # remaining episode as a failure the model never had a chance to avoid.
            where = self.label or "provider"
            raise ProviderUnreachableError(
                self.scrub(f"{where}: cannot reach {url} after {tries} attempt(s): {last}")
            )
        raise ModelError(self.scrub(f"{url}: gave up after {tries} attempt(s): {last}"))

    def _warn_retry(self, url: str, attempt: int, tries: int, cause: str, wait: float, capped: str) -> None:
        now = time.monotonic()
        last, held = self._retry_log.get(cause, (-RETRY_LOG_EVERY_S, 0))
        if now - last < RETRY_LOG_EVERY_S:
            self._retry_log[cause] = (last, held + 1)
            return
        if len(self._retry_log) >= 256:  # causes that name a request each: keep the memo bounded
            self._retry_log.clear()
        self._retry_log[cause] = (now, 0)
        more = f" ({held} more attempt(s) failed the same way since the last such line)" if held else ""
        log.warning(
            "%s: attempt %d/%d failed: %s; retrying in %.1f s%s%s",
            self.label or url,
            attempt + 1,
            tries,
            cause,
            wait,
            capped,
            more,
        )

    def _log_slow(self, url: str, attempt: int) -> None:
        log.warning(
            "%s: still waiting for %s after %g s (attempt %d; deadline %g s, --request-timeout)",
            self.label or url,
            url,
            self.slow_log_s or SLOW_LOG_S,
            attempt + 1,
            self.timeout_s,
        )

    def _request(self, url: str, payload: bytes, headers: dict[str, str]) -> httpx.Request:
        return httpx.Request(
            "POST", url, content=payload, headers=headers, extensions={"timeout": self._timeouts}
        )

    async def _once(
        self, conn: httpx.AsyncBaseTransport, url: str, payload: bytes, headers: dict[str, str]
    ) -> Exchange:
        t0 = time.perf_counter()
        r = await conn.handle_async_request(self._request(url, payload, headers))
        try:
            if "content-encoding" in r.headers:
                content = await r.aread()
            else:  # no decoder to run (we never ask for compression): take the bytes as they come
                content = b"".join([chunk async for chunk in r.stream])  # type: ignore[union-attr]
        finally:
            await r.aclose()
        latency = time.perf_counter() - t0
        if not 200 <= r.status_code < 300:
            self._check_status(r.status_code, r.headers, content.decode("utf-8", "replace"))
        ex = self._parse_body(r.status_code, content)
        ex.latency_s = latency
        return ex

    def _parse_body(self, status: int, content: bytes) -> Exchange:
        try:
            data = loads_json(content)
        except ValueError as exc:
            raise RetryableError(f"HTTP {status} with a malformed JSON body: {exc}") from None
        if not isinstance(data, dict):
            raise RetryableError(f"HTTP {status} body is a JSON {type(data).__name__}, not an object")
        return Exchange(body=data)

    async def _once_stream(
        self,
        conn: httpx.AsyncBaseTransport,
        url: str,
        payload: bytes,
        headers: dict[str, str],
        state: StreamState,
    ) -> Exchange:
        t0 = time.perf_counter()
        ex = Exchange()
        r = await conn.handle_async_request(self._request(url, payload, headers))
        try:
            if r.status_code != 200:
                text = (await r.aread()).decode("utf-8", "replace")
                self._check_status(r.status_code, r.headers, text)
            if r.headers.get("content-type", "").startswith("application/json"):
                # a server that ignores `stream: true` answers with one plain JSON body
                plain = self._parse_body(r.status_code, await r.aread())
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
        finally:
            await r.aclose()
        if not state.complete:
            raise RetryableError("stream ended before its terminal event (connection dropped?)")
        ex.latency_s = time.perf_counter() - t0
        return ex

    def _check_status(self, status: int, headers: httpx.Headers, text: str) -> None:
        if 200 <= status < 300:
            return
        f = self.classify(status, headers, text)
        msg = self.scrub(f.message)
        if f.action == "retry":
            raise RetryableError(msg, f.wait_s)
        where = self.label or "provider"
        if f.action == "fatal":
            raise ProviderFatalError(f"{where}: {msg}")
        raise ModelError(msg)


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
            obj = loads_json(raw)
        except ValueError as exc:
            raise RetryableError(f"malformed stream event: {exc}") from None
        if not isinstance(obj, dict):
            raise RetryableError("stream event is not a JSON object")
        if event_name and "type" not in obj:
            obj["type"] = event_name
        if obj.get("type") == "error" or event_name == "error":
            raw_err = obj.get("error")
            if isinstance(raw_err, dict):  # Anthropic: {"type": "error", "error": {type, message}}
                kind, msg = raw_err.get("type", ""), raw_err.get("message", "")
            else:  # Responses (ResponseErrorEvent): code and message at the top level
                kind, msg = obj.get("code") or "", obj.get("message") or ""
            raise RetryableError(f"error event in stream: {kind} {msg}")
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
    try:
        return json.dumps(arguments, separators=(",", ":"), ensure_ascii=False)
    except (RecursionError, ValueError, TypeError):
        return "{}"


def args_object(arguments: Any) -> dict:
    """Arguments as an object for a wire format that wants one (Anthropic `input`, Gemini `args`);
    unparseable (or impossibly deep) text becomes {} because these formats cannot carry it."""
    if isinstance(arguments, dict):
        return arguments
    if isinstance(arguments, str) and arguments.strip():
        try:
            val = json.loads(arguments)
        except (ValueError, RecursionError):
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


def own_parts(message: Message, fmt: str) -> list[dict] | None:
    """The provider's own rendering of an assistant turn, when this wire format produced it."""
    p = message.provider_parts
    return p.items if p is not None and p.format == fmt else None


def params_into(body: dict, params: dict[str, Any]) -> None:
    """Merge -M provider parameters into the body; dotted keys reach into nested objects."""
    for key, value in params.items():
        target = body
        *path, last = key.split(".")
        for p in path:
            nxt = target.get(p)
            if not isinstance(nxt, dict):
                nxt = target[p] = {}
            target = nxt
        target[last] = value


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
            "reasoning_tokens": resp.usage.reasoning_tokens,
            "cache_write_tokens": resp.usage.cache_write_tokens,
        },
        "latency_s": resp.latency_s,
        "finish_reason": resp.finish_reason,
        "ttft_s": resp.ttft_s,
        "first_call_s": resp.first_call_s,
        "provider_parts": None if resp.provider_parts is None else resp.provider_parts.to_json(),
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
        provider_parts=ProviderParts.from_json(data.get("provider_parts")),
    )


DECODE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError)


class WireModel(Model):
    """A model behind an HTTP API. Subclasses give the URL, headers, the codec and the retry
    decision; each hook is abstract, so a new wire format cannot forget one."""

    remote = True
    provider = "http"
    default_base_url = ""
    key_env: tuple[str, ...] = ()

    def __init__(
        self,
        model: str,
        options: dict[str, Any] | None = None,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.model = model
        self.name = f"{self.provider}/{model}"
        self.opts = parse_options(options)
        self.capability: Capability | None = capability(self.name)
        check_settings(self.name, self.opts.settings, self.opts.params)
        self.api_key = env_key(*self.key_env)
        self.base_url = self.resolve_base_url(self.opts.base_url)
        if not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"{self.name}: base URL {self.base_url!r} must start with http:// or https://")
        if self.api_key is None and self.requires_key():
            names = " or ".join(self.key_env)
            raise ValueError(
                f"{self.name}: set {names} in the environment (or --base-url for a local server)"
            )
        timeout = self.opts.request_timeout or (REASONING_TIMEOUT_S if self.reasons() else DEFAULT_TIMEOUT_S)
        self.transport = Transport(
            self.opts, [self.api_key or ""], self.classify, timeout, self.name, http_transport
        )
        if self.reasons():
            self.transport.slow_log_s = REASONING_SLOW_LOG_S
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

    @abstractmethod
    def url(self, stream: bool) -> str: ...

    @abstractmethod
    def headers(self) -> dict[str, str]: ...

    @abstractmethod
    def encode(self, request: ModelRequest, stream: bool) -> dict: ...

    @abstractmethod
    def decode(self, body: dict, turn: int) -> ModelResponse: ...

    @abstractmethod
    def stream_state(self) -> StreamState: ...

    @abstractmethod
    def decode_stream(self, events: list[dict], turn: int) -> ModelResponse: ...

    @abstractmethod
    def classify(self, status: int, headers: httpx.Headers, text: str) -> Failure:
        """Retry, fail the episode, or stop the run? Start from `status_failure` and add what
        the provider's error bodies say (quota errors, a wait given in the body ...)."""

    # -- the shared path -------------------------------------------------------------------------
    def reasons(self) -> bool:
        s = self.opts.settings
        if s.get("reasoning_effort") not in (None, "none") or (s.get("thinking_budget") or 0) > 0:
            return True
        return self.capability is not None and self.capability.reasoning == "default"

    def describe(self) -> dict:
        return {
            "name": self.name,
            "provider": self.provider,
            "model": self.model,
            "base_url": self.base_url,
            "stream": self.opts.stream,
            "cache": self.opts.cache,
        }

    def settings(self, request: ModelRequest) -> dict[str, Any]:
        return {**self.opts.settings, **(request.settings or {})}

    def finish_body(self, body: dict, stream: bool) -> dict:
        params_into(body, self.opts.params)
        return body

    def cache_key(self, url: str, body: dict, epoch: int) -> str:
        doc = {
            "provider": self.provider,
            "model": self.model,
            "endpoint": url,
            "request": body,
            "epoch": epoch,
        }
        canon = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return hashlib.sha256(canon.encode("utf-8", "surrogatepass")).hexdigest()

    async def generate(self, request: ModelRequest) -> ModelResponse:
        stream = self.opts.stream
        url = self.url(stream)
        body = self.finish_body(self.encode(request, stream), stream)
        key: str | Callable[[], str]
        if self.cache is not None:
            key = self.cache_key(url, body, request.epoch)
            hit = self.cache.get(key)
            if hit is not None:
                return response_from_json(hit, cached=True)
        else:  # hashing the canonical body is a sizeable share of a request's CPU: only on a retry
            key = lambda: self.cache_key(url, body, request.epoch)  # noqa: E731
        turn = turn_of(request)
        ex = await self.transport.send(url, body, self.headers(), key, self.stream_state if stream else None)
        if ex.body is None:
            try:
                resp = self.decode_stream(ex.events, turn)
            except DECODE_ERRORS as exc:
                raise ModelError(self.transport.scrub(f"{url}: unexpected stream: {exc!r}"[:500])) from None
            resp.ttft_s, resp.first_call_s = ex.ttft_s, ex.first_call_s
        else:
            try:
                resp = self.decode(ex.body, turn)
            except DECODE_ERRORS as exc:
                raise ModelError(self.transport.scrub(f"{url}: unexpected response: {exc!r}"[:500])) from None
        resp.latency_s = ex.latency_s
        used = {c.id for m in request.messages for c in m.tool_calls}
        resp.tool_calls = unique_ids(resp.tool_calls, turn, used)
        if self.cache is not None:
            assert isinstance(key, str)
            self.cache.put(key, self.provider, self.model, url, request.epoch, response_to_json(resp))
        return resp

    async def aclose(self) -> None:
        await self.transport.aclose()
        if self.cache is not None:
            self.cache.close()
