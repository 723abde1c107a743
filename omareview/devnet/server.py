"""A real x402 resource server for local use, on the devnet: `python -m omareview.devnet.server`.

It is the `x402` package's own FastAPI middleware charging 0.01 TestUSDC (`exact` scheme, `eip155:31337`)
for `GET /paid`, settled in-process by the package's facilitator against the devnet, with signed offers and
receipts from omareview's issuing side (EIP-712 by default, `--jws` for Ed25519 JWS), the `reviews` extension
listing the local review provider (`omareview serve`, as `https://reviews.localhost` by default), and its DID
document at `/.well-known/did.json`, so receipt signers can be authorized. Needs the `x402` extra.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Any

from omareview._devnet_state import DevnetState, read_state
from omareview._json import JsonObject
from omareview.x402 import (
    DidKey,
    Eip712Issuer,
    Issuer,
    JwsIssuer,
    OfferReceiptExtension,
    ReviewsExtension,
    ReviewsProvider,
    declare_offer_receipt,
    declare_reviews,
    did_document,
)

__all__ = [
    "FACILITATOR_ACCOUNT",
    "NETWORK",
    "PAY_TO_ACCOUNT",
    "PRICE",
    "PROVIDER_URL",
    "SIGNING_KEY",
    "DevServerConfig",
    "create_app",
    "main",
    "resource_server",
    "token_price",
]

NETWORK = "eip155:31337"
PRICE = "10000"
FACILITATOR_ACCOUNT = 0
PAY_TO_ACCOUNT = 9
SIGNING_KEY = "0x" + "5e" * 32
PROVIDER_URL = "https://reviews.localhost"
USER_QUESTION = "Would you like to review this service? 1 to 5 stars and a note, signed by the wallet that paid."


@dataclass(frozen=True)
class DevServerConfig:
    state: DevnetState
    did: str = "did:web:localhost"
    jws: bool = False
    price: str = PRICE
    provider_url: str = PROVIDER_URL

    def issuer(self) -> Issuer:
        if self.jws:
            from cryptography.hazmat.primitives.asymmetric import ed25519

            key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(SIGNING_KEY[2:]))
            return JwsIssuer(key, f"{self.did}#receipts")
        return Eip712Issuer(SIGNING_KEY)

    def did_document(self) -> JsonObject:
        issuer = self.issuer()
        if isinstance(issuer, JwsIssuer):
            return did_document(self.did, [DidKey("receipts", public_key=issuer.public_key)])
        assert isinstance(issuer, Eip712Issuer)
        return did_document(self.did, [DidKey("receipts", address=issuer.address)])


def resource_server(config: DevServerConfig) -> Any:
    """The `x402` package's resource server for the devnet: its facilitator settling on the devnet from the
    facilitator account, the `exact` EVM scheme, and the offer-and-receipt extension signing with the
    config's issuer. Shared by the HTTP dev server and the paid MCP tool."""
    from x402 import x402Facilitator, x402ResourceServer
    from x402.mechanisms.evm import FacilitatorWeb3Signer
    from x402.mechanisms.evm.exact.register import register_exact_evm_facilitator, register_exact_evm_server

    state = config.state
    facilitator = x402Facilitator()
    settler = FacilitatorWeb3Signer(
        private_key=state.accounts[FACILITATOR_ACCOUNT].private_key.get_secret_value(), rpc_url=state.rpc_url
    )
    register_exact_evm_facilitator(facilitator, settler, networks=NETWORK)
    server = x402ResourceServer(facilitator)
    register_exact_evm_server(server, NETWORK)
    server.register_extension(OfferReceiptExtension(config.issuer()))
    server.register_extension(ReviewsExtension([ReviewsProvider(config.provider_url)], user_question=USER_QUESTION))
    return server


def token_price(config: DevServerConfig) -> Any:
    """The price of a paid call: `config.price` atomic units of the devnet's TestUSDC."""
    from x402.schemas import AssetAmount

    return AssetAmount(
        amount=config.price, asset=config.state.token_address, extra={"name": "USD Coin", "version": "2"}
    )


def create_app(config: DevServerConfig) -> Any:
    """The FastAPI app: `GET /paid` behind x402, `GET /.well-known/did.json`, `GET /health`."""
    from fastapi import FastAPI
    from x402.http import PaymentOption, RouteConfig
    from x402.http.middleware.fastapi import payment_middleware

    state = config.state
    server = resource_server(config)
    price = token_price(config)
    routes = {
        "GET /paid": RouteConfig(
            accepts=PaymentOption(
                scheme="exact",
                pay_to=state.accounts[PAY_TO_ACCOUNT].address,
                price=price,
                network=NETWORK,
                max_timeout_seconds=120,
            ),
            description="Premium data, 0.01 TestUSDC",
            mime_type="application/json",
            extensions={**declare_offer_receipt(), **declare_reviews()},
        )
    }
    app = FastAPI(title="omareview dev x402 server")
    app.middleware("http")(payment_middleware(routes, server))

    @app.get("/paid")
    def paid() -> dict[str, str]:
        return {"data": "premium market data", "served": "after payment"}

    @app.get("/.well-known/did.json")
    def did_json() -> JsonObject:
        return config.did_document()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m omareview.devnet.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8402, help="port on 127.0.0.1 (default 8402)")
    parser.add_argument("--jws", action="store_true", help="sign offers and receipts as Ed25519 JWS")
    parser.add_argument("--provider", default=PROVIDER_URL, help=f"review provider to list (default {PROVIDER_URL})")
    args = parser.parse_args(argv)
    state = read_state()
    if state is None:
        raise SystemExit("error: no devnet is running; start one with `omareview devnet up --detach`")
    import uvicorn

    os.environ.setdefault("OMAREVIEW_DID_WEB_OVERRIDES", f"localhost=http://127.0.0.1:{args.port}")
    print(
        f"dev x402 server on http://localhost:{args.port} (GET /paid costs 0.01 TestUSDC; reviews listed at "
        f"{args.provider})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        create_app(DevServerConfig(state, jws=args.jws, provider_url=args.provider)),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
