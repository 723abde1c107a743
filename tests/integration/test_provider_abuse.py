"""`omareview serve` attacked from loopback as a hostile client would, with bounded loops: oversized, slow and
too many connections and headers, spoofed forwarded headers, a burst of unpaid and oversized writes, and one
payment written through both paths at once. Each asserts the answers, the gas the relayer spent, and that a
paying user is still served afterwards."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from omareview.eas.client import EasClient, review_request
from omareview.review.model import new_review
from omareview.signers import Signer, signer_from_key
from tests.helpers import answers, free_port
from tests.provider_world import PAYER, RELAYER, World
from tests.rpc_proxy import rpc_proxy

pytestmark = pytest.mark.chain_isolated


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


@contextmanager
def serving(world: World, cli_env: dict[str, str], *args: str, rpc_url: str | None = None) -> Iterator[Served]:
    """`omareview serve` as a real subprocess on the test's devnet (through `rpc_url` when given),
    relaying from the dev relayer key."""
    port = free_port()
    env = {
        **os.environ,
        **cli_env,
        "OMAREVIEW_DID_WEB_OVERRIDES": ",".join(f"{h}={u}" for h, u in world.overrides.items()),
    }
    log = world.tmp / f"serve-{port}.log"
    command = [sys.executable, "-m", "omareview", *(["--rpc-url", rpc_url] if rpc_url else []), "serve"]
    command += ["--port", str(port), "--relayer-dev-account", str(RELAYER)]
    with log.open("wb") as out:
        proc = subprocess.Popen([*command, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        if not answers(f"{url}/healthz"):
            raise AssertionError(log.read_text())
        yield Served(url, proc, log)
    finally:
        proc.kill()
        proc.wait(10)


def _relayer_sends(world: World) -> int:
    relayer = world.devnet.state.accounts[RELAYER].address
    return int(world.provider.index.rpc.call("eth_getTransactionCount", [relayer, "latest"]), 16)


def _closed_by_server(sock: socket.socket, within_s: float) -> bool:
    """The server closed the connection (after whatever refusal it wrote) within `within_s`."""
    deadline = time.monotonic() + within_s
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if sock.recv(65536) == b"":
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False


def test_oversized_slow_and_too_many_connections_leave_the_provider_up(world: World, cli_env: dict[str, str]) -> None:
    with serving(world, cli_env, "--header-timeout", "1", "--max-connections", "32") as served:
        big = httpx.get(f"{served.url}/healthz", headers={"X-Big": "a" * 32 * 1024}, timeout=10)
        assert big.status_code == 431 and big.json()["code"] == "HEADERS_TOO_LARGE", big.text
        many = httpx.get(f"{served.url}/healthz", headers={f"X-H{n}": "1" for n in range(70)}, timeout=10)
        assert many.status_code == 431 and many.json()["code"] == "HEADERS_TOO_LARGE"

        before = served.rss_kib()
        flooders = []
        for _ in range(40):
            sock = socket.create_connection(("127.0.0.1", int(served.url.rsplit(":", 1)[1])))
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
            with suppress(OSError):
                sock.sendall(b"a" * 1024 * 1024)
            flooders.append(sock)
        assert all(_closed_by_server(sock, 5) for sock in flooders), "each oversized header is refused"
        assert served.rss_kib() - before < 64 * 1024, "40 header floods of 1 MiB leave memory flat"

        # A slow client trickles its headers; idle ones send nothing; more connect than the cap allows.
        port = int(served.url.rsplit(":", 1)[1])
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
        started = time.monotonic()
        trickled_until_closed = False
        while time.monotonic() - started < 4:
            try:
                slow.sendall(b"X")
            except OSError:
                trickled_until_closed = True
                break
            time.sleep(0.2)
        assert trickled_until_closed or _closed_by_server(slow, 1), "a header trickle is cut at the deadline"
        assert all(_closed_by_server(sock, 3) for sock in idle), "idle and surplus connections are closed"
        assert httpx.get(f"{served.url}/healthz", timeout=5).status_code == 200
        for sock in [*flooders, *idle, slow]:
            sock.close()


def test_forwarded_headers_are_trusted_only_when_the_operator_says_so(world: World, cli_env: dict[str, str]) -> None:
    def answers(url: str) -> list[int]:
        codes = []
        for n in range(12):
            headers = {"X-Forwarded-For": f"198.51.100.{n}"}
            codes.append(httpx.get(f"{url}/reviews?resource=did:web:a.example", headers=headers).status_code)
        return codes

    with serving(world, cli_env, "--requests-per-minute", "4", "--no-sync") as served:
        codes = answers(served.url)
        assert codes.count(429) == 8, f"spoofed addresses share the connection's bucket: {codes}"
    with serving(world, cli_env, "--requests-per-minute", "4", "--no-sync", "--proxy-headers") as served:
        assert 429 not in answers(served.url), "behind a trusted proxy, each forwarded address has its bucket"


def _relay_body(review_data: bytes, recipient: str, signer: Signer, world: World) -> dict[str, object]:
    client = EasClient(world.network)
    return client.sign_delegated(review_request(recipient, review_data), signer, nonce=0).relay_body().to_json()


def test_unpaid_oversized_and_racing_writes_leave_the_budget_for_a_paying_user(
    world: World, cli_env: dict[str, str]
) -> None:
    _, first = world.pay()
    time.sleep(1.1)  # a later second: receipts that name no transaction are matched to payments by time
    _, second = world.pay()
    subject = new_review(subject="did:web:localhost", rating_value=5).subject
    with serving(world, cli_env, "--gas-per-hour", "4000000") as served:
        sent = _relayer_sends(world)
        relay = f"{served.url}/v1/delegated-attest"

        def unpaid(n: int) -> httpx.Response:
            signer = signer_from_key(os.urandom(32))
            review = new_review(subject=subject, rating_value=5, review_body=f"best service #{n}")
            return httpx.post(relay, json=_relay_body(review.encode(), review.recipient, signer, world), timeout=60)

        def oversized(n: int) -> httpx.Response:
            signer = signer_from_key(os.urandom(32))
            proofs = tuple(json.dumps({"proofType": "x402-receipt", "pad": "p" * 2000, "n": n + i}) for i in range(5))
            review = new_review(subject=subject, rating_value=5, proofs=proofs)
            return httpx.post(relay, json=_relay_body(review.encode(), review.recipient, signer, world), timeout=60)

        with ThreadPoolExecutor(16) as pool:
            refused = list(pool.map(unpaid, range(20))) + list(pool.map(oversized, range(10)))
        assert [(r.status_code, r.json()["code"]) for r in refused[:20]] == [(422, "NOT_PAYMENT_BACKED")] * 20
        assert [(r.status_code, r.json()["code"]) for r in refused[20:]] == [(413, "TOO_LARGE")] * 10

        stranger = signer_from_key(os.urandom(32))
        review = new_review(subject=subject, rating_value=1)
        junk = _relay_body(review.encode() + b"\x00" * 1024, review.recipient, stranger, world)
        answer = httpx.post(relay, json=junk, timeout=60)
        assert (answer.status_code, answer.json()["code"]) == (400, "INVALID_REVIEW"), answer.text
        text = json.dumps(_relay_body(review.encode(), review.recipient, stranger, world))
        infinite = text.replace('"nonce": "0"', '"nonce": 1e999')
        answer = httpx.post(relay, content=infinite, headers={"content-type": "application/json"}, timeout=60)
        assert answer.status_code == 400 and answer.json()["success"] is False
        for bad in ("²", "9" * 5000):
            answer = httpx.get(f"{served.url}/reviews", params={"resource": "did:web:a.example", "limit": bad})
            assert answer.status_code == 400 and answer.json()["code"] == "BAD_REQUEST"
        assert _relayer_sends(world) == sent, "no unpaid request spent the relayer's gas"

        # One payment, two signed reviews (one nonce), written through both paths at once: one review.
        nonce = EasClient(world.network).nonce_of(world.devnet.state.accounts[PAYER].address)
        write = f"{served.url}/r/{quote(f'{first.payment_network}:{first.payment_tx}', safe='')}"
        bodies = [world.signed_body(first, PAYER, rating=r, nonce=nonce) for r in (5, 2)]
        with ThreadPoolExecutor(2) as pool:
            raced = list(
                pool.map(
                    lambda pair: httpx.post(pair[0], content=pair[1], timeout=120),
                    zip((write, relay), bodies, strict=True),
                )
            )
        assert sorted(r.status_code for r in raced) == [200, 409], [r.text for r in raced]
        assert _relayer_sends(world) == sent + 1, "one review for one payment"

        # The budget was left for paying users: the next payment's review is written.
        later = f"{served.url}/r/{quote(f'{second.payment_network}:{second.payment_tx}', safe='')}"
        paid = httpx.post(later, content=world.signed_body(second, PAYER), timeout=120)
        assert paid.status_code == 200, paid.text
        assert _relayer_sends(world) == sent + 2
    key = world.devnet.state.accounts[RELAYER].private_key.get_secret_value()[2:]
    assert key not in served.log.read_text(), "the relayer key is in no log line"


def test_several_workers_serve_one_socket_and_one_store(world: World, cli_env: dict[str, str]) -> None:
    _, entry = world.pay()
    with serving(world, cli_env, "--workers", "2", "--sync-interval", "0.3") as served:
        write = f"{served.url}/r/{quote(f'{entry.payment_network}:{entry.payment_tx}', safe='')}"
        written = httpx.post(write, content=world.signed_body(entry, PAYER), timeout=120)
        assert written.status_code == 200, written.text
        uid = written.json()["uid"]
        reviews = f"{served.url}/reviews?resource={quote(world.devserver + '/paid', safe='')}"
        deadline = time.monotonic() + 30
        while uid not in httpx.get(reviews, timeout=10).text and time.monotonic() < deadline:
            time.sleep(0.1)
        # A worker that only reads the store checks the follower's cursor at most once a second, and its
        # kept pages last until the cursor moves: give it that second, then every answer must have it.
        time.sleep(1.5)
        answers = [httpx.get(reviews, timeout=10).text for _ in range(12)]
        assert all(uid in text for text in answers), "whichever worker answers reads the review indexed"
        again = httpx.post(write, content=world.signed_body(entry, PAYER), timeout=120)
        assert (again.status_code, again.json().get("uid")) == (409, uid), "the claim is shared through the store"
        pid = served.proc.pid
        workers = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        assert len(workers) == 2
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{w}").exists() for w in workers), "workers stop when their parent is killed"
    started = served.log.read_text().count("Started server process")
    assert started == 2, served.log.read_text()


@pytest.mark.parametrize("killed_at", ["before-send", "after-send"])
def test_a_provider_killed_mid_write_leaves_no_stuck_payment(
    world: World, cli_env: dict[str, str], killed_at: str
) -> None:
    """`kill -9` of a provider while it writes a payment's review, at a moment a stalling node makes
    certain: after claiming the payment but before sending (the restarted provider writes the review at
    once, not after the claim's 15-minute lease), or after the node took the transaction (the retry gets
    the review's UID). Either way the payment has exactly one review."""
    _, entry = world.pay()
    stalled = "eth_maxPriorityFeePerGas" if killed_at == "before-send" else "eth_sendRawTransaction"
    armed = [True]

    def faults(method: str, n: int) -> str | None:
        return "stall" if armed[0] and method == stalled else None

    write_path = f"/r/{quote(f'{entry.payment_network}:{entry.payment_tx}', safe='')}"
    sent = _relayer_sends(world)
    with rpc_proxy(world.network.rpc_url, faults=faults, stall_s=60) as (proxy, stats):
        with serving(world, cli_env, "--no-sync", rpc_url=proxy) as served, ThreadPoolExecutor(1) as pool:
            pending = pool.submit(
                httpx.post, served.url + write_path, content=world.signed_body(entry, PAYER), timeout=90
            )
            deadline = time.monotonic() + 30
            while stalled not in stats.methods and time.monotonic() < deadline:
                time.sleep(0.02)
            assert stalled in stats.methods, stats.methods
            served.proc.send_signal(signal.SIGKILL)
            served.proc.wait(10)
            with suppress(httpx.HTTPError):
                pending.result()
        armed[0] = False
        assert _relayer_sends(world) == sent + (killed_at == "after-send")
        with serving(world, cli_env, rpc_url=proxy) as served:
            retry = httpx.post(served.url + write_path, content=world.signed_body(entry, PAYER), timeout=90)
    if killed_at == "before-send":
        assert retry.status_code == 200, retry.text
    else:
        assert retry.status_code == 409 and retry.json().get("uid"), retry.text
    assert _relayer_sends(world) == sent + 1, "one review for the payment"
