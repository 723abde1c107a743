"""A synchronous agent on `httpx.Client`: the x402 package ships no sync httpx transport, but its
`PaymentRoundTripper` pays a 402 for any HTTP client given a retry function. omareview captures the offer,
the receipt and its settlement through the sync client's own hooks (`attach`).

Usage (a devnet and the dev x402 server running): python examples/sync_httpx_agent.py URL ACCOUNT_INDEX
"""

from __future__ import annotations

import sys

import httpx
from eth_account import Account
from x402 import x402ClientSync
from x402.http.x402_http_client import PaymentRoundTripper, x402HTTPClientSync
from x402.mechanisms.evm.exact.register import register_exact_evm_client

from omareview.devnet import read_state
from omareview.hooks import ReceiptCapture, ReviewDraft, attach


def main(url: str, account: int) -> None:
    state = read_state()
    if state is None:
        raise SystemExit("error: no devnet is running (omareview devnet up --detach)")
    client = x402ClientSync()
    allowed = {"network": "eip155:31337", "asset": state.token_address, "max_amount_per_payment": "100000"}
    client.set_spend_controls({"allowed_assets": [allowed]})
    wallet = Account.from_key(state.accounts[account].private_key.get_secret_value())
    register_exact_evm_client(client, wallet, networks="eip155:31337")
    capture = ReceiptCapture(rating_policy=lambda response, receipt: ReviewDraft(4, "paid from sync httpx"))
    payer = PaymentRoundTripper(x402HTTPClientSync(attach(client, capture)))
    with httpx.Client() as http:
        first = http.get(url)
        paid = payer.handle_response(
            request_id=url,
            status_code=first.status_code,
            headers=dict(first.headers),
            body=first.content,
            retry_func=lambda payment_headers: http.get(url, headers=payment_headers),
            request_url=url,
        )
    response = paid or first
    (entry,) = capture.outbox.entries()[-1:]
    print(f"{response.status_code} receipt {entry.digest} paid in {entry.payment_tx} on {entry.payment_network}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
