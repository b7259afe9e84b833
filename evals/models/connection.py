"""One keep-alive HTTP connection as an httpx transport, without a connection pool around it.

The HTTP transport opens one of these per concurrent request slot (`http.Transport`), so each
only ever carries one request at a time. httpx's own `AsyncHTTPTransport` wraps every connection
in an httpcore pool, whose locks, events and request-to-connection assignment cost about as much
CPU per request as the HTTP exchange itself on loopback; a single `httpcore.AsyncHTTPConnection`
does the exchange alone. The connection is replaced when the server has closed it, it expired, or
a cancelled request left it unusable. Errors come out as httpx's exception types, as from any
httpx transport; proxies go through httpx's transport instead (see `http.env_proxy`).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextmanager
def _httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core, mapped in _EXCEPTIONS:
            if isinstance(exc, core):
                raise mapped(str(exc), request=request) from exc
        raise


class _Body(httpx.AsyncByteStream):
    def __init__(self, response: httpcore.Response, request: httpx.Request):
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _httpx_errors(self._request):
            async for chunk in self._response.aiter_stream():
                yield chunk

    async def aclose(self) -> None:
        with _httpx_errors(self._request):
            await self._response.aclose()


class _Protocol(asyncio.Protocol):
    """The receiving end of one TCP connection: bytes buffered as they arrive, one reader waiting."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.drained: asyncio.Future[None] | None = None  # set while the kernel's send buffer is full

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._wake()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof, self.error = True, exc
        self._wake()
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def pause_writing(self) -> None:
        if self.drained is None or self.drained.done():
            self.drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


def _time_out(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_exception(TimeoutError())


async def _wait(fut: asyncio.Future[None], timeout: float | None) -> None:
    """Await `fut`, raising TimeoutError after `timeout` seconds (a timer, not a task)."""
    if timeout is None:
        await fut
        return
    timer = asyncio.get_running_loop().call_later(timeout, _time_out, fut)
    try:
        await fut
    finally:
        timer.cancel()


class AsyncioStream(httpcore.AsyncNetworkStream):
    """httpcore's network stream on an asyncio transport and protocol.

    httpcore's default backend goes through anyio, whose cancel scope around every read and
    write costs more CPU than the loopback exchange itself; a transport and a timer per wait do
    the same job. Errors come out as httpcore's, as from its own backends."""

    def __init__(self, protocol: _Protocol):
        self._p = protocol

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        p = self._p
        while not p.buf:
            if p.eof:
                if p.error is not None:
                    raise httpcore.ReadError(str(p.error) or type(p.error).__name__)
                return b""
            p.waiter = asyncio.get_running_loop().create_future()
            try:
                await _wait(p.waiter, timeout)
            except TimeoutError:
                raise httpcore.ReadTimeout("timed out reading the response") from None
            finally:
                p.waiter = None
        if len(p.buf) <= max_bytes:
            data = bytes(p.buf)
            p.buf.clear()
        else:
            data = bytes(p.buf[:max_bytes])
            del p.buf[:max_bytes]
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        p = self._p
        if not buffer:
            return
        if p.transport is None or p.transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        p.transport.write(buffer)
        if p.drained is not None and not p.drained.done():
            try:
                await _wait(p.drained, timeout)
            except TimeoutError:
                raise httpcore.WriteTimeout("timed out sending the request") from None

    async def aclose(self) -> None:
        if self._p.transport is not None:
            self._p.transport.close()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        p = self._p
        assert p.transport is not None
        loop = asyncio.get_running_loop()
        try:
            tls = await loop.start_tls(
                p.transport, p, ssl_context, server_hostname=server_hostname, ssl_handshake_timeout=timeout
            )
        except TimeoutError:
            raise httpcore.ConnectTimeout("timed out in the TLS handshake") from None
        except (OSError, ssl.SSLError) as exc:
            p.transport.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if tls is None:  # pragma: no cover - the transport was closed meanwhile
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        p.transport = tls
        return AsyncioStream(p)

    def get_extra_info(self, info: str) -> Any:
        t = self._p.transport
        if t is None:
            return None
        if info == "ssl_object":
            return t.get_extra_info("ssl_object")
        if info == "client_addr":
            return t.get_extra_info("sockname")
        if info == "server_addr":
            return t.get_extra_info("peername")
        if info == "socket":
            return t.get_extra_info("socket")
        if info == "is_readable":  # an idle connection the server closed (or wrote to) is not reusable
            return self._p.eof or bool(self._p.buf)
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                # Happy Eyeballs (RFC 8305), as httpcore's own backend connects: with a broken IPv6
                # route the IPv4 address is tried 0.25 s later, not after the whole timeout.
                _, protocol = await loop.create_connection(
                    _Protocol,
                    host,
                    port,
                    local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=0.25,
                    interleave=1,
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        assert protocol.transport is not None
        sock = protocol.transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(protocol)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:  # pragma: no cover - providers are reached over TCP
        raise httpcore.ConnectError("unix sockets are not supported")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


BACKEND = AsyncioBackend()


class OneConnection(httpx.AsyncBaseTransport):
    def __init__(self, ssl_context: ssl.SSLContext | None = None):
        self._ssl = ssl_context
        self._conn: httpcore.AsyncHTTPConnection | None = None
        self._origin: httpcore.Origin | None = None

    def _connection(self, origin: httpcore.Origin) -> httpcore.AsyncHTTPConnection | None:
        c = self._conn
        if c is None or self._origin != origin or c.is_closed() or c.has_expired() or not c.is_available():
            return None
        return c

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        origin = httpcore.Origin(url.raw_scheme, url.raw_host, port)
        conn = self._connection(origin)
        if conn is None:
            if self._conn is not None:
                await self._conn.aclose()
            conn = self._conn = httpcore.AsyncHTTPConnection(
                origin, ssl_context=self._ssl, network_backend=BACKEND
            )
            self._origin = origin
        try:
            content: bytes | httpx.AsyncByteStream = request.content
        except httpx.RequestNotRead:  # pragma: no cover - the transport only sends bytes
            content = request.stream  # type: ignore[assignment]
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=port, target=url.raw_path),
            headers=request.headers.raw,
            content=content,
            extensions=request.extensions,
        )
        with _httpx_errors(request):
            response = await conn.handle_async_request(core_request)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response, request),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        if self._conn is not None:
            await self._conn.aclose()
            self._conn = None
