"""`python -m evals.agents.bridge URL`: a stdio MCP server relaying to an episode's HTTP tools.

Agents whose config says `transport = "stdio"` start this (it is FANOUT_MCP_COMMAND) as their MCP
server subprocess. Every call still reaches the run's own MCP host, which records, times and
batches it; the relay adds a pipe hop, nothing else. It imports only the `mcp` SDK, so it starts
in a fraction of a second.
"""

from __future__ import annotations

import sys
from typing import Any


async def bridge_stdio(url: str) -> None:
    from mcp import ClientSession, types
    from mcp.client.streamable_http import streamablehttp_client
    from mcp.server.lowlevel import Server
    from mcp.server.stdio import stdio_server

    async with (
        streamablehttp_client(url) as (up_read, up_write, _),
        ClientSession(up_read, up_write) as upstream,
    ):
        init = await upstream.initialize()
        server: Server = Server(init.serverInfo.name, version=init.serverInfo.version)

        @server.list_tools()
        async def list_tools() -> list[types.Tool]:
            return (await upstream.list_tools()).tools

        @server.call_tool(validate_input=False)
        async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
            return await upstream.call_tool(name, arguments)

        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())


def command(url: str) -> list[str]:
    """The argv an agent runs to get an episode's tools over stdio."""
    return [sys.executable, "-m", "evals.agents.bridge", url]


if __name__ == "__main__":
    import anyio

    if len(sys.argv) != 2:
        print("usage: python -m evals.agents.bridge MCP_URL", file=sys.stderr)
        sys.exit(2)
    anyio.run(bridge_stdio, sys.argv[1])
