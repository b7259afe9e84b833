"""The OpenAI Agents SDK (`openai-agents`) with the task's tools over MCP: streamable HTTP, or a
stdio server when Fanout gives FANOUT_MCP_COMMAND (`openai-agents-stdio.toml`).

The SDK's stock agent loop, Chat Completions through Fanout's model proxy, parallel tool calls
allowed. Only the settings an offline run needs are changed: tracing export off, a tool-call
timeout long enough for slow tools.
"""

from __future__ import annotations

import asyncio
import json
import os

from agents import Agent, ModelSettings, OpenAIChatCompletionsModel, Runner, set_tracing_disabled
from agents.mcp import MCPServerStdio, MCPServerStreamableHttp
from openai import AsyncOpenAI


async def main() -> None:
    set_tracing_disabled(True)  # no trace export: the run is offline
    model = OpenAIChatCompletionsModel(model=os.environ["FANOUT_MODEL_NAME"], openai_client=AsyncOpenAI())
    if "FANOUT_MCP_COMMAND" in os.environ:  # transport = "stdio" in the agent's TOML
        argv = json.loads(os.environ["FANOUT_MCP_COMMAND"])
        server = MCPServerStdio(
            {"command": argv[0], "args": argv[1:]}, cache_tools_list=True, client_session_timeout_seconds=120
        )
    else:
        server = MCPServerStreamableHttp(
            {"url": os.environ["FANOUT_MCP_URL"], "timeout": 120},
            cache_tools_list=True,
            client_session_timeout_seconds=120,
        )
    async with server as tools:
        agent = Agent(
            name="fanout",
            instructions=os.environ.get("FANOUT_INSTRUCTIONS", ""),
            model=model,
            model_settings=ModelSettings(parallel_tool_calls=True),
            mcp_servers=[tools],
        )
        result = await Runner.run(agent, os.environ["FANOUT_PROMPT"], max_turns=30)
    print(result.final_output)


if __name__ == "__main__":
    asyncio.run(main())
