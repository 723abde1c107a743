"""The world the review benchmarks share: a devnet with enough funded accounts, and the subject's did.json
(naming the test server's signing key) on loopback behind a resolver and a DNS stub."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from omareview._devnet_state import DevnetState, network_of
from omareview.devnet.node import start_devnet
from omareview.identity import DidWebResolver, SafeFetcher
from omareview.index import JudgeContext
from omareview.networks import Network
from omareview.review.payment import PaymentVerifier
from omareview.x402 import DidKey, did_document
from tests.reviews import SERVER
from tests.servers import Reply, dns_server, http_server

SUBJECT = "did:web:api.example.com"


@dataclass(frozen=True)
class World:
    """Where a benchmark runs: a scratch `home`, the devnet's `state` and `network`, and the resolver and DNS
    stub that judge reviews of `SUBJECT`."""

    home: Path
    state: DevnetState
    network: Network
    resolver: DidWebResolver
    dns: str

    def judge_context(self, payments: PaymentVerifier | None = None) -> JudgeContext:
        return JudgeContext(resolver=self.resolver, dns_server=self.dns, payments=payments)


@contextmanager
def subject_world(accounts: int) -> Iterator[World]:
    doc = did_document(SUBJECT, [DidKey("signer", address=SERVER.address)])
    with (
        tempfile.TemporaryDirectory() as home,
        start_devnet(home=Path(home) / "devnet", anvil_args=["--accounts", str(accounts)]) as devnet,
        http_server({"/.well-known/did.json": Reply(body=json.dumps(doc).encode())}) as did_server,
        dns_server({}) as dns,
    ):
        resolver = DidWebResolver(fetcher=SafeFetcher(overrides={"api.example.com": did_server.base_url}))
        yield World(Path(home), devnet.state, network_of(devnet.state), resolver, dns)
