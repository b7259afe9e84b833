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

import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

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
            conn = self._conn = httpcore.AsyncHTTPConnection(origin, ssl_context=self._ssl)
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
