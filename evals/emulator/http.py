"""A small HTTP/1.1 server on asyncio streams, with the hooks fault injection needs.

Why not http.server or a framework: the emulator must be able to misbehave on purpose at the byte
level (cut a body short, close the socket without answering, stall a response) while serving many
keep-alive connections at once. On asyncio streams a stalled response costs a coroutine, not a
thread, and every byte written is under our control. Only what LLM clients send is supported:
Content-Length or chunked request bodies, `Expect: 100-continue`, keep-alive, and chunked
responses for server-sent events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024


class BadRequest(Exception):
    """The bytes on the wire are not an HTTP request we can read; answered with a plain 400."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    """A response to write. `events` (server-sent events) are sent as chunks instead of `body`.

    `cut` and `drop` are the byte-level faults: `cut` stops after that many body bytes (or events)
    while still ending the message cleanly, `drop` closes the socket without answering at all.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    events: list[bytes] | None = None
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0
    cut: int | None = None
    drop: bool = False


Handler = Callable[[Request], Awaitable[Reply]]


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = {529: "Site Overloaded"}.get(status, "Unknown")
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


async def read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Request | None:
    """The next request on the connection, or None when the client closed it between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadRequest("connection closed in the middle of the request headers") from exc
    except asyncio.LimitOverrunError as exc:
        raise BadRequest(f"request headers exceed {MAX_HEADER_BYTES} bytes") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(f"not an HTTP/1.x request line: {lines[0][:80]!r}")
    method, target, _ = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(f"malformed header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    body = await _read_body(reader, headers)
    url = urlsplit(target)
    query = {k: v[-1] for k, v in parse_qs(url.query).items()}
    return Request(method.upper(), url.path, query, headers, body)


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    try:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            out = bytearray()
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                        pass
                    return bytes(out)
                out += await reader.readexactly(size)
                await reader.readexactly(2)
                if len(out) > MAX_BODY_BYTES:
                    raise BadRequest(f"request body exceeds {MAX_BODY_BYTES} bytes")
        length = int(headers.get("content-length", "0") or "0")
    except ValueError as exc:
        raise BadRequest("invalid Content-Length or chunk size") from exc
    except asyncio.IncompleteReadError as exc:
        raise BadRequest("connection closed in the middle of the request body") from exc
    if length < 0 or length > MAX_BODY_BYTES:
        raise BadRequest(f"request body size {length} is out of range (max {MAX_BODY_BYTES})")
    try:
        return await reader.readexactly(length) if length else b""
    except asyncio.IncompleteReadError as exc:
        raise BadRequest("connection closed in the middle of the request body") from exc


async def write_reply(writer: asyncio.StreamWriter, reply: Reply, keep_alive: bool) -> None:
    if reply.delay_s > 0:
        await asyncio.sleep(reply.delay_s)
    if reply.drop:
        return
    headers = dict(reply.headers)
    headers["Connection"] = "keep-alive" if keep_alive else "close"
    if reply.events is None:
        body = reply.body if reply.cut is None else reply.body[: reply.cut]
        headers["Content-Length"] = str(len(body))
        writer.write(_head(reply.status, headers) + body)
        await writer.drain()
        return
    headers["Transfer-Encoding"] = "chunked"
    headers.setdefault("Cache-Control", "no-cache")
    writer.write(_head(reply.status, headers))
    events = reply.events if reply.cut is None else reply.events[: reply.cut]
    for ev in events:
        writer.write(b"%x\r\n%s\r\n" % (len(ev), ev))
        await writer.drain()
        if reply.chunk_delay_s > 0:
            await asyncio.sleep(reply.chunk_delay_s)
    writer.write(b"0\r\n\r\n")
    await writer.drain()


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [_status_line(status)]
    lines += [f"{k}: {v}\r\n".encode("latin-1") for k, v in headers.items()]
    return b"".join(lines) + b"\r\n"


def plain_reply(status: int, message: str) -> Reply:
    return Reply(status, message.encode() + b"\n", {"Content-Type": "text/plain; charset=utf-8"})


async def serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler
) -> None:
    """Answer requests on one connection until the client or a fault closes it."""
    try:
        while True:
            try:
                req = await read_request(reader, writer)
            except BadRequest as exc:
                await write_reply(writer, plain_reply(400, f"bad request: {exc}"), keep_alive=False)
                return
            if req is None:
                return
            reply = await handler(req)
            keep_alive = req.header("connection") != "close" and not reply.drop
            await write_reply(writer, reply, keep_alive)
            if not keep_alive:
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        return
    finally:
        writer.close()
