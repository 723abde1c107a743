"""A paid MCP tool on the devnet: `python -m omareview.devnet.mcp_server` (stdio).

`premium_data` costs 0.01 TestUSDC (`exact`, `eip155:31337`), settled in-process by the `x402` package's
facilitator through its MCP payment wrapper (`x402.mcp.create_payment_wrapper`), with a signed offer in the
payment-required result and a signed receipt in the settlement (`_meta["x402/payment-response"]`), from the
same signing key and `payTo` as the dev HTTP server. Needs the `x402` and `mcp` extras.

x402 2.25's own FastMCP bridge (`wrap_fastmcp_tool`) imports helpers its `x402.mcp.server` lacks, so the
bridge here passes the request `_meta` to the wrapper and its result back as a `CallToolResult` itself.
"""

import argparse
import asyncio
import sys
from typing import Any

# FastMCP reads the tool's annotations at run time, so these are imported where they are resolved.
from mcp.server.fastmcp import Context
from mcp.types import CallToolResult

from omareview._devnet_state import read_state
from omareview.devnet.server import NETWORK, PAY_TO_ACCOUNT, DevServerConfig, resource_server, token_price
from omareview.x402 import declare_offer_receipt

__all__ = ["TOOL", "main", "serve"]

TOOL = "premium_data"


async def serve() -> None:
    """Run the paid tool over stdio until the client hangs up."""
    from mcp.server.fastmcp import FastMCP
    from mcp.types import TextContent
    from x402.mcp.server_async import PaymentWrapperConfig, create_payment_wrapper
    from x402.schemas import ResourceConfig, ResourceInfo

    state = read_state()
    if state is None:
        raise SystemExit("error: no devnet is running")
    config = DevServerConfig(state)
    payments = resource_server(config)
    payments.initialize()
    price = token_price(config)
    option = ResourceConfig(
        scheme="exact",
        pay_to=state.accounts[PAY_TO_ACCOUNT].address,
        price=price,
        network=NETWORK,
        max_timeout_seconds=120,
    )
    accepts = payments.build_payment_requirements(option)
    # The tool's resource is an HTTP URL of the service's host, so offers and receipts name a subject
    # (did:web:localhost, the dev HTTP server's) that reviews can be written about.
    resource = ResourceInfo(
        url=f"http://localhost/mcp/{TOOL}", description="Premium data", mime_type="application/json"
    )
    paid = create_payment_wrapper(
        payments, PaymentWrapperConfig(accepts=accepts, resource=resource, extensions=declare_offer_receipt())
    )

    async def handler(args: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"content": [{"type": "text", "text": "premium market data"}]}

    wrapped = paid(handler)
    server = FastMCP("omareview-devnet-paid-tool")

    @server.tool(name=TOOL, description="Premium data, 0.01 TestUSDC")
    async def premium_data(ctx: Context[Any, Any, Any]) -> CallToolResult:
        meta = ctx.request_context.meta
        request_meta = meta.model_dump(by_alias=True, exclude_none=True) if meta is not None else {}
        # The wrapper takes the raw `extra` ({_meta, toolName}) and is async; its annotations say otherwise.
        outcome: Any = wrapped({}, {"_meta": request_meta, "toolName": TOOL})  # type: ignore[arg-type]
        result: Any = await outcome
        return CallToolResult(
            content=[TextContent(type="text", text=str(item.get("text", ""))) for item in result.content],
            isError=result.is_error,
            structuredContent=result.structured_content,
            _meta=result.meta or None,
        )

    await server.run_stdio_async()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m omareview.devnet.mcp_server",
        description=(__doc__ or "").splitlines()[0] + " It speaks MCP on standard input and output.",
    )
    parser.parse_args(argv)
    print("serving the paid MCP tool premium_data on stdio (0.01 TestUSDC on the devnet)", file=sys.stderr)
    asyncio.run(serve())


if __name__ == "__main__":
    main()
