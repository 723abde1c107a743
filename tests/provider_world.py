"""The provider's test world: the devnet, the dev x402 server (whose 402 and settlement carry `offer-receipt`
and `reviews`), a DNS stub and a provider serving on loopback, with helpers to pay and to sign a review."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from x402 import x402Client

from omareview.devnet.node import Devnet
from omareview.eas.client import EasClient, review_request
from omareview.hooks import ReceiptCapture, ReviewDraft, paying_client, review_job, send_via_provider
from omareview.identity import DidWebResolver, SafeFetcher
from omareview.index import JudgeContext, ReviewIndex
from omareview.networks import Network
from omareview.review.outbox import Outbox, OutboxEntry
from omareview.serve import ProviderConfig, ReviewProvider, create_app
from omareview.signers import Signer
from omareview.x402 import VerifyOptions
from tests.helpers import devnet_payer, devserver_process, free_port
from tests.servers import dns_server

PAYER, OTHER, RELAYER = 1, 2, 7
PROVIDER = "reviews.localhost"
HOSTILE = "Solid data. <script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"


@dataclass
class World:
    devnet: Devnet
    network: Network
    devserver: str
    provider_url: str
    overrides: dict[str, str]
    provider: ReviewProvider
    tmp: Path
    dns: str
    signer: Callable[[int], Signer]

    def resolver(self) -> DidWebResolver:
        return DidWebResolver(fetcher=SafeFetcher(overrides=self.overrides))

    def pay(self, account: int = PAYER, outbox: Outbox | None = None) -> tuple[Outbox, OutboxEntry]:
        """A real x402 payment to the dev server, captured (into a fresh outbox by default) with a draft."""
        outbox = outbox or Outbox(self.tmp / f"outbox-{account}-{time.monotonic_ns()}.sqlite3")
        capture = ReceiptCapture(outbox, rating_policy=lambda response, receipt: ReviewDraft(4, HOSTILE))

        async def pay() -> httpx.Response:
            async with paying_client(devnet_payer(x402Client, self.devnet.state, account), capture) as http:
                return await http.get(f"{self.devserver}/paid")

        assert asyncio.run(pay()).status_code == 200
        (entry,) = outbox.entries()
        return outbox, entry

    def send(self, outbox: Outbox, entry: OutboxEntry, account: int = PAYER) -> Any:
        return send_via_provider(
            entry.digest,
            PROVIDER,
            EasClient(self.network, self.signer(account)),
            self.signer(account),
            allowlist={PROVIDER},
            outbox=outbox,
            verify_options=VerifyOptions(resolver=self.resolver(), dns_server=self.dns),
            fetcher=SafeFetcher(overrides=self.overrides, timeout_s=60),
        )

    def signed_body(self, entry: OutboxEntry, account: int, *, rating: int = 4, nonce: int | None = None) -> bytes:
        """The OMATrust relay body for `entry`'s review, as signed by `account`."""
        signer = self.signer(account)
        drafted = entry.model_copy(update={"draft": ReviewDraft(rating, "ok")})
        job = review_job(drafted, self.signer(PAYER), VerifyOptions(authorize=False))
        client = EasClient(self.network)
        nonce = client.nonce_of(signer.address) if nonce is None else nonce
        delegated = client.sign_delegated(
            review_request(job.review.recipient, job.review.encode()), signer, nonce=nonce
        )
        return delegated.relay_body().to_json_text().encode()

    def write_url(self, entry: OutboxEntry) -> str:
        return f"{self.provider_url}/r/{quote(f'{entry.payment_network}:{entry.payment_tx}', safe='')}"


@pytest.fixture
def world(
    devnet: Devnet, devnet_home: Path, network: Network, dev_signer: Callable[[int], Signer], tmp_path: Path
) -> Iterator[World]:
    provider_port, server_port = free_port(), free_port()
    overrides = {"localhost": f"http://127.0.0.1:{server_port}", PROVIDER: f"http://127.0.0.1:{provider_port}"}
    env = {"OMAREVIEW_DID_WEB_OVERRIDES": ",".join(f"{h}={u}" for h, u in overrides.items())}
    with (
        devserver_process(devnet_home, port=server_port, env=env) as devserver,
        dns_server({}) as dns,
    ):
        judge = JudgeContext(resolver=DidWebResolver(fetcher=SafeFetcher(overrides=overrides)), dns_server=dns)
        index = ReviewIndex(network, home=tmp_path / "provider", judge_context=judge)
        provider = ReviewProvider(ProviderConfig(network, dev_signer(RELAYER), index=index, sync_interval_s=0.3))
        server = uvicorn.Server(
            uvicorn.Config(create_app(provider), host="127.0.0.1", port=provider_port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        try:
            yield World(
                devnet,
                network,
                devserver,
                f"http://127.0.0.1:{provider_port}",
                overrides,
                provider,
                tmp_path,
                dns,
                dev_signer,
            )
        finally:
            server.should_exit = True
            thread.join(10)
