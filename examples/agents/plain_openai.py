"""A tool-calling agent on the plain `openai` SDK and the `mcp` client, no framework.

    plain_openai.py --serial   the negative control: executes a response's tool calls one by one
    plain_openai.py            executes them all at once (asyncio.gather): the positive control

Reads what Fanout gives every agent (docs/agents.md): FANOUT_PROMPT, FANOUT_INSTRUCTIONS,
FANOUT_MCP_URL, OPENAI_BASE_URL/OPENAI_API_KEY (Fanout's model proxy) and FANOUT_MODEL_NAME;
prints the final answer on stdout.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from openai import AsyncOpenAI


def tool_text(result) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


async def main(serial: bool) -> None:
    llm = AsyncOpenAI()  # OPENAI_BASE_URL and OPENAI_API_KEY point at Fanout's proxy
    async with (
        streamable_http_client(os.environ["FANOUT_MCP_URL"]) as (read, write, _),
        ClientSession(read, write) as mcp,
    ):
        await mcp.initialize()
        listed = await mcp.list_tools()
        tools = [
            {
                "type": "function",
                "function": {"name": t.name, "description": t.description or "", "parameters": t.inputSchema},
            }
            for t in listed.tools
        ]
        messages: list[dict] = [
            {"role": "system", "content": os.environ.get("FANOUT_INSTRUCTIONS", "")},
            {"role": "user", "content": os.environ["FANOUT_PROMPT"]},
        ]
        for _ in range(30):
            resp = await llm.chat.completions.create(
                model=os.environ.get("FANOUT_MODEL_NAME", "oracle"), messages=messages, tools=tools
            )
            msg = resp.choices[0].message
            if not msg.tool_calls:
                print(msg.content or "")
                return
            messages.append(msg.model_dump(exclude_none=True))

            async def run(call) -> str:
                result = await mcp.call_tool(call.function.name, json.loads(call.function.arguments or "{}"))
                return tool_text(result)

            if serial:
                outputs = [await run(c) for c in msg.tool_calls]
            else:
                outputs = await asyncio.gather(*(run(c) for c in msg.tool_calls))
            for call, out in zip(msg.tool_calls, outputs, strict=True):
                messages.append({"role": "tool", "tool_call_id": call.id, "content": out})
    print("gave up after 30 model turns", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    asyncio.run(main(serial="--serial" in sys.argv[1:]))
