"""An MCP client (the official `mcp` SDK) driving `omareview mcp` over stdio: the tools it offers (started
without `--allow-submit`, it offers no `submit_review`), and what paying customers say about a service.

Usage: python examples/mcp_client.py SERVICE_URL
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(service: str) -> None:
    # The SDK starts servers with a minimal environment: hand ours on, so the server finds $OMAREVIEW_HOME.
    server = StdioServerParameters(command=sys.executable, args=["-m", "omareview", "mcp"], env=dict(os.environ))
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = [tool.name for tool in (await session.list_tools()).tools]
        print("tools:", ", ".join(sorted(tools)))
        reply = await session.call_tool("get_reviews", {"subject_or_url": service})
        if reply.isError:  # a refusal: its text starts with the reason code
            raise SystemExit(f"error: {reply.content[0].text}")
        summary = reply.structuredContent or json.loads(reply.content[0].text)
        summary = summary.get("result", summary)
        print(f"{summary.get('count')} review(s), average {summary.get('averageRating')} ({summary.get('notice')})")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
