"""pydantic-ai's stock agent with the task's tools over MCP (streamable HTTP, `MCPToolset`).

Chat Completions through Fanout's model proxy; pydantic-ai's default tool execution mode
('parallel'). Nothing else is tuned.
"""

from __future__ import annotations

import asyncio
import os

from pydantic_ai import Agent
from pydantic_ai.mcp import MCPToolset
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider


async def main() -> None:
    provider = OpenAIProvider(base_url=os.environ["OPENAI_BASE_URL"], api_key=os.environ["OPENAI_API_KEY"])
    agent = Agent(
        OpenAIChatModel(os.environ["FANOUT_MODEL_NAME"], provider=provider),
        instructions=os.environ.get("FANOUT_INSTRUCTIONS", ""),
        toolsets=[MCPToolset(os.environ["FANOUT_MCP_URL"], read_timeout=120)],
    )
    async with agent:
        result = await agent.run(os.environ["FANOUT_PROMPT"])
    print(result.output)


if __name__ == "__main__":
    asyncio.run(main())
