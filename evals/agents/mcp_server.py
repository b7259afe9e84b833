"""A task's mock tools over the Model Context Protocol (the official `mcp` SDK).

Each episode gets its own low-level MCP `Server` whose tools are the task's tools and whose calls
go to the episode's `EpisodeSession` (latency really waited, state, batches, recording). Over
streamable HTTP one uvicorn server on loopback serves every episode of a run at
`/e/<token>/mcp` (each with its own session manager); over stdio one process serves one episode.
(`bridge.py` relays an episode's HTTP address to stdio for agents that start MCP servers as
subprocesses.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn
from mcp import types
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from .. import __version__
from .proxy import split_episode
from .session import EpisodeSession, dumps

SERVER_NAME = "fanout-tools"
# The SDK warns on every call of a tool it has not listed, and logs a traceback when a client
# closes its session while the server's notification stream is open. Both are recorded on the
# episode (an unknown tool) or harmless (a closed session): keep them off the run's terminal.
logging.getLogger("mcp.server.lowlevel.server").setLevel(logging.ERROR)
logging.getLogger("mcp.server.streamable_http").setLevel(logging.CRITICAL)


class _InvalidRequestNoise(logging.Filter):
    """The SDK logs each request that fails validation through the *root* logger, with the whole
    pydantic error (about 90 lines): the agent already gets a JSON-RPC "invalid params" error,
    so a misbehaving agent must not flood the run's terminal."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "root" and str(record.msg).startswith("Failed to validate request"))


logging.getLogger().addFilter(_InvalidRequestNoise())


def mcp_tools(session: EpisodeSession) -> list[types.Tool]:
    return [
        types.Tool(name=t.name, description=t.description, inputSchema=t.parameters)
        for t in session.task.tools
    ]


def build_server(session: EpisodeSession) -> Server:
    """The MCP server of one episode. Arguments are not validated against the schema here: the
    mock tool answers a bad call with its own structured error, and the call is recorded either
    way. Tool errors are results the model must read (as in the runtime), so they come back as
    ordinary text content, never as protocol errors."""
    server: Server = Server(SERVER_NAME, version=__version__, instructions=f"Tools of task {session.task.id}")

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return mcp_tools(session)

    @server.call_tool(validate_input=False)
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        c = await session.call_tool(name, arguments)
        return types.CallToolResult(content=[types.TextContent(type="text", text=dumps(c.result))])

    return server


_LOOPBACK = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
    allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
)


class _Uvicorn(uvicorn.Server):
    """uvicorn inside Fanout's own event loop: Ctrl-C belongs to `fanout run`, not to it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ToolsHTTP:
    """Streamable HTTP on loopback for every episode of a run."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host, self.port = host, port
        self.managers: dict[str, StreamableHTTPSessionManager] = {}
        self._server: _Uvicorn | None = None
        self._task: asyncio.Task | None = None

    def url(self, token: str | None) -> str:
        root = f"http://{self.host}:{self.port}"
        return f"{root}/e/{token}/mcp" if token else f"{root}/mcp"

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
            proxy_headers=False,
            access_log=False,
            timeout_graceful_shutdown=1,
            ws="none",
        )
        self._server = _Uvicorn(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise OSError("the MCP server stopped while starting")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        self._server.force_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._task, 5)
        self._server = None

    @contextlib.asynccontextmanager
    async def serving(self, session: EpisodeSession) -> AsyncIterator[str]:
        """Serve one episode's tools while the block runs; yields its URL."""
        manager = StreamableHTTPSessionManager(app=build_server(session), security_settings=_LOOPBACK)
        async with manager.run():
            self.managers[session.token] = manager
            try:
                yield self.url(session.token or None)
            finally:
                self.managers.pop(session.token, None)

    async def _app(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        token, path = split_episode(scope.get("path", ""))
        manager = None
        if path.rstrip("/") == "/mcp":
            manager = self.managers.get(token or "")
        if manager is None:
            body = b'{"error":"no running Fanout episode at this address"}'
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await manager.handle_request(scope, receive, send)


async def serve_stdio(session: EpisodeSession) -> None:
    """Serve one episode's tools on this process's stdin/stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    server = build_server(session)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
