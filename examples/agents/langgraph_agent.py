"""LangGraph's prebuilt tool-calling agent (`create_react_agent`) with the task's tools over MCP
(streamable HTTP, through `langchain-mcp-adapters`).

Chat Completions through Fanout's model proxy with `langchain-openai`; the prebuilt agent's own
ToolNode executes the calls. Nothing else is tuned.
"""

from __future__ import annotations

import asyncio
import os
import warnings

from langchain_mcp_adapters.client import MultiServerMCPClient
from langchain_openai import ChatOpenAI

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # langgraph 1.x points to langchain.agents.create_agent; same loop
    from langgraph.prebuilt import create_react_agent


async def main() -> None:
    client = MultiServerMCPClient(
        {"fanout": {"url": os.environ["FANOUT_MCP_URL"], "transport": "streamable_http"}}
    )
    tools = await client.get_tools()
    llm = ChatOpenAI(model=os.environ["FANOUT_MODEL_NAME"], base_url=os.environ["OPENAI_BASE_URL"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agent = create_react_agent(llm, tools, prompt=os.environ.get("FANOUT_INSTRUCTIONS", ""))
    state = await agent.ainvoke(
        {"messages": [{"role": "user", "content": os.environ["FANOUT_PROMPT"]}]},
        {"recursion_limit": 61},  # 30 model turns
    )
    print(state["messages"][-1].content)


if __name__ == "__main__":
    asyncio.run(main())
