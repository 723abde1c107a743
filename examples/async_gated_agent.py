"""An asyncio agent on httpx with the pre-payment gate: the gate decides from the service's signed offers and
proven reviews before anything is paid, and the receipt lands in the outbox.

Usage (a devnet and the dev x402 server running): python examples/async_gated_agent.py URL ACCOUNT_INDEX
"""

from __future__ import annotations

import asyncio
import sys

from eth_account import Account
from x402 import x402Client
from x402.mechanisms.evm.exact.register import register_exact_evm_client

from omareview import resolve_network
from omareview.devnet import read_state
from omareview.gate import DEFAULT_POLICY, Gate, PaymentNotApprovedError
from omareview.hooks import ReceiptCapture, paying_client
from omareview.index import ReviewIndex


async def main(url: str, account: int) -> None:
    network, state = resolve_network("devnet"), read_state()  # the running devnet (ConfigError when none runs)
    assert state is not None
    client = x402Client()
    allowed = {"network": "eip155:31337", "asset": state.token_address, "max_amount_per_payment": "100000"}
    client.set_spend_controls({"allowed_assets": [allowed]})
    register_exact_evm_client(client, Account.from_key(state.accounts[account].private_key.get_secret_value()))
    gate = Gate(ReviewIndex(network), DEFAULT_POLICY)
    try:
        async with paying_client(client, ReceiptCapture(), gate=gate) as http:
            response = await http.get(url)
    except PaymentNotApprovedError as refused:
        print(f"not paid: {refused.decision.action}: {'; '.join(refused.decision.reasons)}")
        return
    decision = gate.last_decision(url)
    print(f"paid ({decision.tier if decision else '?'}): {response.status_code}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
