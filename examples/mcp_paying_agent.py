"""An agent that pays for MCP tools: the x402 package's MCP client over the Python `mcp` SDK, with
omareview capturing each paid tool call's receipt through the client's own hooks.

Usage (a devnet running): python examples/mcp_paying_agent.py ACCOUNT_INDEX
It starts the devnet's paid tool (`python -m omareview.devnet.mcp_server`) over stdio and pays for one call.
"""

from __future__ import annotations

import asyncio
import os
import sys

from eth_account import Account
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from x402 import x402Client
from x402.mcp.client_async import create_x402_mcp_client
from x402.mechanisms.evm.exact.register import register_exact_evm_client

from omareview.devnet import read_state
from omareview.hooks import McpSessionAdapter, ReceiptCapture, ReviewDraft, attach


async def main(account: int) -> None:
    state = read_state()
    if state is None:
        raise SystemExit("error: no devnet is running (omareview devnet up --detach)")
    wallet = x402Client()
    allowed = {"network": "eip155:31337", "asset": state.token_address, "max_amount_per_payment": "100000"}
    wallet.set_spend_controls({"allowed_assets": [allowed]})
    register_exact_evm_client(wallet, Account.from_key(state.accounts[account].private_key.get_secret_value()))
    capture = ReceiptCapture(rating_policy=lambda response, receipt: ReviewDraft(5, "tool answered"))
    tool = StdioServerParameters(
        command=sys.executable, args=["-m", "omareview.devnet.mcp_server"], env=dict(os.environ)
    )
    async with stdio_client(tool) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        agent = attach(create_x402_mcp_client(McpSessionAdapter(session), wallet), capture)
        result = await agent.call_tool("premium_data", {})
    (entry,) = capture.outbox.entries()[-1:]
    print(f"paid={result.payment_made} receipt {entry.digest} settled in {entry.payment_tx}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
