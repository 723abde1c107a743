"""A synchronous agent on `requests`: pays an x402 URL with the x402 package's sync client, omareview
capturing the receipt and its settlement through the client's own hooks.

Usage (a devnet and the dev x402 server running): python examples/requests_agent.py URL ACCOUNT_INDEX
"""

from __future__ import annotations

import sys

from eth_account import Account
from x402 import x402ClientSync
from x402.mechanisms.evm.exact.register import register_exact_evm_client

from omareview.devnet import read_state
from omareview.hooks import ReceiptCapture, ReviewDraft, paying_session


def main(url: str, account: int) -> None:
    state = read_state()
    if state is None:
        raise SystemExit("error: no devnet is running (omareview devnet up --detach)")
    client = x402ClientSync()
    allowed = {"network": "eip155:31337", "asset": state.token_address, "max_amount_per_payment": "100000"}
    client.set_spend_controls({"allowed_assets": [allowed]})
    wallet = Account.from_key(state.accounts[account].private_key.get_secret_value())
    register_exact_evm_client(client, wallet, networks="eip155:31337")
    capture = ReceiptCapture(rating_policy=lambda response, receipt: ReviewDraft(4, "answered at once"))
    with paying_session(client, capture) as session:
        response = session.get(url)
    (entry,) = capture.outbox.entries()[-1:]
    print(f"{response.status_code} receipt {entry.digest} paid in {entry.payment_tx} on {entry.payment_network}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
