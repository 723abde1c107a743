"""The agent of scripts/demo: pays for a URL with the x402 package's client, with omareview's hook installed.

Usage: python scripts/demo_agent.py URL ACCOUNT_INDEX
"""

from __future__ import annotations

import asyncio
import sys

from eth_account import Account
from x402 import x402Client
from x402.mechanisms.evm.exact.register import register_exact_evm_client

from omareview.devnet import read_state
from omareview.hooks import CaptureEvent, ReceiptCapture, ReviewDraft, paying_client


def say(event: CaptureEvent) -> None:
    if event.kind == "offers":
        print(f"   the 402 from {event.url} carried {event.detail}")
    elif event.kind == "receipt":
        print(f"   receipt {event.digest} {event.detail} in the outbox")
    else:
        print(f"   a receipt was rejected: {event.detail}")


def five_stars_when_served(response: object, receipt: object) -> ReviewDraft | None:
    """The agent's rating policy: a paid call that returned 200 earns five stars."""
    return (
        ReviewDraft(5, "Paid 0.01 USDC, got the data at once.") if getattr(response, "status_code", 0) == 200 else None
    )


async def main(url: str, account: int) -> None:
    state = read_state()
    if state is None:
        raise SystemExit("error: no devnet is running")
    wallet = Account.from_key(state.accounts[account].private_key.get_secret_value())
    client = x402Client()
    client.set_spend_controls(
        {
            "allowed_assets": [
                {"network": "eip155:31337", "asset": state.token_address, "max_amount_per_payment": "100000"}
            ]
        }
    )
    register_exact_evm_client(client, wallet, networks="eip155:31337")
    print(f"   agent wallet {wallet.address} calls {url}")
    capture = ReceiptCapture(rating_policy=five_stars_when_served, on_event=say)
    async with paying_client(client, capture) as http:
        response = await http.get(url)
    print(f"   the service answered {response.status_code}: {response.text}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
