"""`omareview serve` and the x402 `reviews` extension on the devnet: a real x402 payment to the dev server
(whose 402 and settlement carry `offer-receipt` and `reviews`), the agent following the `write` link, the
provider writing the review on EAS for the payer, and `read`, the gate and `omareview reviews` agreeing."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from omareview.eas.client import EasClient, review_request
from omareview.errors import InputError
from omareview.gate import DEFAULT_POLICY, Gate
from omareview.hooks import review_job, send_via_provider
from omareview.identity import DidWebResolver, SafeFetcher
from omareview.identity.dids import subject_did
from omareview.index import ReviewIndex
from omareview.review.model import new_review
from omareview.review.outbox import Outbox, ReviewDraft
from omareview.serve import ProviderConfig, ReviewProvider
from omareview.serve.provider import CLAIM_LEASE_S
from omareview.signers import signer_from_key
from omareview.x402 import VerifyOptions
from tests.helpers import answers, free_port, run_cli, run_node
from tests.provider_world import HOSTILE, OTHER, PAYER, PROVIDER, RELAYER, World
from tests.servers import Reply, http_server

pytestmark = pytest.mark.chain_isolated


@pytest.mark.usefixtures("store_engine")
def test_pay_follow_the_write_link_and_read_it_back(world: World, tmp_path: Path) -> None:
    outbox, entry = world.pay()
    # The settlement carried the reviews block: the write link names the payment, at the listed provider.
    links = entry.review_links
    assert links is not None and (links.user_question or "").startswith("Would you like to review")
    (link,) = links.providers
    assert link.provider == PROVIDER
    assert link.write == f"https://{PROVIDER}/r/{quote(f'eip155:31337:{entry.payment_tx}', safe='')}"

    report = world.send(outbox, entry)
    assert report.status == "done" and report.uid, report
    assert outbox.get(entry.digest).uid == report.uid  # type: ignore[union-attr]
    (onchain,) = EasClient(world.network).attestations([report.uid])
    assert onchain.attester == world.devnet.state.accounts[PAYER].address, "the payer is the attester"

    resource = f"{world.devserver}/paid"
    answer = httpx.get(f"{world.provider_url}/reviews", params={"resource": resource})
    assert answer.status_code == 200 and answer.headers["etag"] and "max-age" in answer.headers["cache-control"]
    document = answer.json()
    (review,) = document["reviews"]
    assert (review["uid"], review["level"], review["ratingValue"], review["reviewBody"]) == (
        report.uid,
        "paid",
        4,
        HOSTILE,
    )
    assert review["evidence"]["payment"]["amount"] == "10000"
    again = httpx.get(
        f"{world.provider_url}/reviews",
        params={"resource": resource},
        headers={"If-None-Match": answer.headers["etag"]},
    )
    assert again.status_code == 304
    record = httpx.get(f"{world.provider_url}/attestations/{report.uid}").json()
    assert (record["uid"], record["level"], record["reviewBody"]) == (report.uid, "paid", HOSTILE)
    assert record["judgement"]["evidence"]["payment"]["status"] == "paid" and "decodeError" not in record
    unknown = httpx.get(f"{world.provider_url}/attestations/0x{'0' * 64}")
    assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND"

    by_pay_to = httpx.get(
        f"{world.provider_url}/reviews", params={"payTo": world.devnet.state.accounts[9].address}
    ).json()
    assert [s["subject"] for s in by_pay_to["subjects"]] == ["did:web:localhost"]

    # `omareview reviews` reads the same chain to the same numbers.
    home = tmp_path / "cli-home"
    (home / "devnet").mkdir(parents=True)
    (home / "devnet" / "state.json").write_text(world.devnet.state.model_dump_json(by_alias=True))
    env = {
        "OMAREVIEW_HOME": str(home),
        "OMAREVIEW_DID_WEB_OVERRIDES": ",".join(f"{h}={u}" for h, u in world.overrides.items()),
        "OMAREVIEW_DNS_SERVER": world.dns,
    }
    cli = run_cli("reviews", resource, "--json", env=env)
    assert cli.code == 0, cli.stderr
    listed = cli.json()
    for key in ("subject", "count", "averageRating", "byLevel", "histogram", "total"):
        assert listed[key] == document[key], key

    # The gate reads the provider the 402 lists, because the policy allowlists it.
    policy = DEFAULT_POLICY.model_copy(update={"review_providers": [PROVIDER]})
    gate = Gate(None, policy, resolver=world.resolver(), dns_server=world.dns)
    unpaid = httpx.get(resource)
    decision = gate.decide(resource, unpaid.status_code, dict(unpaid.headers), unpaid.content)
    assert decision.reviews is not None and decision.reviews.verified_count == 1, decision.reasons
    assert f"review provider {PROVIDER}: 1 review(s)" in decision.reasons
    ignoring = Gate(None, DEFAULT_POLICY, resolver=world.resolver(), dns_server=world.dns)
    decision = ignoring.decide(resource, unpaid.status_code, dict(unpaid.headers), unpaid.content)
    assert decision.reviews is None
    assert f"reviews extension: provider {PROVIDER} is not on the allowlist" in decision.reasons


@pytest.mark.usefixtures("store_engine")
def test_a_retry_after_a_lost_answer_yields_the_same_review(world: World) -> None:
    outbox, entry = world.pay()
    first = world.send(outbox, entry)
    outbox.update(entry.digest, status="pending", uid=None)  # as if the answer had been lost
    second = world.send(outbox, entry)
    assert (second.status, second.uid) == ("done", first.uid)


def test_refusals_spend_no_gas(world: World, w3: Any) -> None:
    _outbox, entry = world.pay()
    url = world.write_url(entry)
    relayer = world.devnet.state.accounts[RELAYER].address
    nonce_before = w3.eth.get_transaction_count(relayer)

    def post(body: bytes, target: str = url) -> httpx.Response:
        return httpx.post(target, content=body, headers={"Content-Type": "application/json"}, timeout=30)

    # A signature by another wallet than the payer's: the receipt does not back its review.
    refused = post(world.signed_body(entry, OTHER))
    assert (refused.status_code, refused.json()["code"]) == (422, "NOT_PAYMENT_BACKED"), refused.text
    # The payer's body with another wallet's signature over it.
    forged = json.loads(world.signed_body(entry, PAYER))
    forged["signature"] = json.loads(world.signed_body(entry, OTHER))["signature"]
    refused = post(json.dumps(forged).encode())
    assert (refused.status_code, refused.json()["code"]) == (400, "ATTESTER_MISMATCH")
    # The URL names a payment that never happened: the review is not backed by it.
    other_tx = "0x" + "ab" * 32
    refused = post(world.signed_body(entry, PAYER), f"{world.provider_url}/r/eip155:31337:{other_tx}")
    assert (refused.status_code, refused.json()["code"]) == (422, "NOT_PAYMENT_BACKED")
    assert "no such transaction" in refused.json()["message"]
    # Oversized and malformed bodies.
    refused = post(b"{" + b" " * (70 * 1024) + b"}")
    assert (refused.status_code, refused.json()["code"]) == (413, "TOO_LARGE")
    refused = post(b"[" * 100 + b"]" * 100)
    assert (refused.status_code, refused.json()["code"]) == (400, "BAD_REQUEST")
    assert w3.eth.get_transaction_count(relayer) == nonce_before, "no refusal spent gas"


def test_a_payment_to_another_pay_to_is_not_payment_backed(world: World, w3: Any) -> None:
    _outbox, entry = world.pay()
    token = w3.eth.contract(
        address=world.devnet.state.token_address,
        abi=[
            {
                "name": "transfer",
                "type": "function",
                "inputs": [{"name": "to", "type": "address"}, {"name": "amount", "type": "uint256"}],
                "outputs": [{"name": "", "type": "bool"}],
                "stateMutability": "nonpayable",
            }
        ],
    )
    elsewhere = token.functions.transfer(world.devnet.state.accounts[5].address, 10_000).transact(
        {"from": world.devnet.state.accounts[PAYER].address}
    )
    w3.eth.wait_for_transaction_receipt(elsewhere)
    moved = entry.model_copy(update={"payment_tx": elsewhere.to_0x_hex()})
    refused = httpx.post(world.write_url(moved), content=world.signed_body(moved, PAYER), timeout=30)
    assert (refused.status_code, refused.json()["code"]) == (422, "NOT_PAYMENT_BACKED"), refused.text
    assert "not bound to the subject" in refused.json()["message"]


@pytest.mark.usefixtures("store_engine")
def test_one_review_per_payment_even_two_at_once(world: World) -> None:
    _, entry = world.pay()
    url = world.write_url(entry)
    nonce = EasClient(world.network).nonce_of(world.devnet.state.accounts[PAYER].address)
    bodies = [world.signed_body(entry, PAYER, rating=r, nonce=nonce) for r in (5, 1)]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda b: httpx.post(url, content=b, timeout=60), bodies))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()["uid"]
    third = httpx.post(url, content=world.signed_body(entry, PAYER, rating=3), timeout=60)
    assert (third.status_code, third.json()["code"], third.json()["uid"]) == (409, "ALREADY_REVIEWED", winner)


def test_the_agent_refuses_links_it_should_not_follow(world: World) -> None:
    outbox, entry = world.pay()
    with pytest.raises(InputError, match="not on the allowlist"):
        send_via_provider(
            entry.digest, PROVIDER, EasClient(world.network, world.signer(PAYER)), world.signer(PAYER),
            allowlist={"elsewhere.example"}, outbox=outbox,
        )  # fmt: skip
    assert entry.review_links is not None
    spoofed = {"providers": [{**entry.review_links.providers[0].to_json(), "provider": "evil.localhost"}]}
    with outbox._database.transaction() as db:
        db.execute("UPDATE entries SET review_links = ? WHERE digest = ?", (json.dumps(spoofed), entry.digest))
    with pytest.raises(InputError, match="lists no write link at evil.localhost"):
        send_via_provider(
            entry.digest, "evil.localhost", EasClient(world.network, world.signer(PAYER)), world.signer(PAYER),
            allowlist={"evil.localhost"}, outbox=outbox,
        )  # fmt: skip
    # A transaction that is not this wallet's payment is never signed for.
    with outbox._database.transaction() as db:
        db.execute(
            "UPDATE entries SET review_links = ? WHERE digest = ?", (entry.review_links.to_json_text(), entry.digest)
        )
    _other_outbox, other_entry = world.pay(OTHER)
    with outbox._database.transaction() as db:
        db.execute("UPDATE entries SET payment_tx = ? WHERE digest = ?", (other_entry.payment_tx, entry.digest))
    with pytest.raises(InputError, match="is not this wallet's payment"):
        world.send(outbox, entry)


def test_a_read_link_that_redirects_elsewhere_is_not_followed(world: World) -> None:
    resource = f"{world.devserver}/paid"
    with http_server({"/reviews": Reply(302, b"", headers={"Location": f"{world.provider_url}/reviews"})}) as evil:
        overrides = {**world.overrides, "redirecting.localhost": evil.base_url}
        policy = DEFAULT_POLICY.model_copy(update={"own_providers": ["https://redirecting.localhost"]})
        gate = Gate(None, policy, resolver=DidWebResolver(fetcher=SafeFetcher(overrides=overrides)))
        unpaid = httpx.get(resource)
        decision = gate.decide(resource, unpaid.status_code, dict(unpaid.headers), unpaid.content)
    assert any("redirecting.localhost could not be read: refusing the redirect" in r for r in decision.reasons), (
        decision.reasons
    )


def test_the_relay_endpoints_serve_omareviews_own_relay_client(world: World, cli_env: dict[str, str]) -> None:
    _, entry = world.pay()
    attester = world.devnet.state.accounts[PAYER].address
    receipt = world.tmp / "receipt.json"
    receipt.write_text(json.dumps(entry.receipt))
    nonce = httpx.get(f"{world.provider_url}/v1/nonce", params={"attester": attester}).json()
    assert nonce["chainId"] == 31337 and "elapsed" in nonce
    args = ["review", "submit", "--receipt", str(receipt), "--rating", "5", "--dev-account", str(PAYER), "--json"]
    args += ["--delegated", "--relay"]
    env = {**cli_env, "OMAREVIEW_DID_WEB_OVERRIDES": ",".join(f"{h}={u}" for h, u in world.overrides.items())}
    result = run_cli(*args, world.provider_url, env=env)
    assert result.code == 0, result.stderr
    uid = result.json()["uid"]
    (onchain,) = EasClient(world.network).attestations([uid])
    assert onchain.attester == attester
    again = run_cli(*args, world.provider_url, "--allow-duplicate", env=env)
    assert again.code == 1 and "ALREADY_REVIEWED" in again.stderr, "one payment, one review, on the relay path too"
    reused = httpx.post(f"{world.provider_url}/v1/delegated-attest", content=b"{}", timeout=10)
    assert (reused.status_code, reused.json()["code"]) == (400, "BAD_REQUEST")


def test_the_relay_spends_no_gas_on_an_unpaid_review(world: World, cli_env: dict[str, str]) -> None:
    """Fresh keys with no funds and no payment, one naming a stranger's payment: nothing is relayed."""
    _, entry = world.pay()
    relayer = world.devnet.state.accounts[RELAYER].address
    before = int(world.provider.index.rpc.call("eth_getTransactionCount", [relayer, "latest"]), 16)
    left = world.provider.budget.left()
    stranger = signer_from_key(os.urandom(32))
    paid = review_job(
        entry.model_copy(update={"draft": ReviewDraft(5, "mine now")}),
        world.signer(PAYER),
        VerifyOptions(authorize=False),
    ).review
    unpaid = new_review(subject=paid.subject, rating_value=5, review_body="great")
    client = EasClient(world.network)
    for review in (unpaid, paid):
        delegated = client.sign_delegated(review_request(review.recipient, review.encode()), stranger, nonce=0)
        answer = httpx.post(
            f"{world.provider_url}/v1/delegated-attest", json=delegated.relay_body().to_json(), timeout=30
        )
        assert answer.status_code == 422 and answer.json()["code"] == "NOT_PAYMENT_BACKED", answer.text
    after = int(world.provider.index.rpc.call("eth_getTransactionCount", [relayer, "latest"]), 16)
    assert after == before and world.provider.budget.left() == left, "no gas spent, none reserved"


def test_the_page_renders_in_a_real_browser_and_runs_no_script(world: World, tmp_path: Path) -> None:
    outbox, entry = world.pay()
    assert world.send(outbox, entry).status == "done"
    second_outbox, second = world.pay(OTHER)
    assert world.send(second_outbox, second, OTHER).status == "done"
    from playwright.sync_api import sync_playwright

    url = f"{world.provider_url}/reviews?resource={quote(world.devserver + '/paid', safe='')}"
    profile = tmp_path / "chromium-profile"
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(profile),
            executable_path="/usr/bin/chromium",
            headless=True,
            viewport={"width": 390, "height": 844},
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            response = page.goto(url)
            assert response is not None and response.status == 200
            text = page.inner_text("body")
            assert "Reviews of localhost" in text, "the heading names the subject, not the URL asked with"
            assert "payment-backed" in text and "4.0" in text and "paid 10000 units" in text
            assert "<script>document.title='pwned'</script>" in text, "the hostile body is shown as text"
            assert page.title().startswith("Reviews of") and dialogs == []
            assert page.evaluate("document.scripts.length") == 0
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, "it fits a phone's width"
            # The counted average's history, drawn on the server as inline SVG: one point per counted review.
            chart = page.locator("figure.history svg")
            assert chart.count() == 1 and "The counted average over time" in page.inner_text("figure.history")
            points = (page.get_attribute("svg.history polyline", "points") or "").split()
            assert len(points) == 2, points
            box = chart.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 40, box
            assert page.locator("svg.history circle.now").count() == 1
            assert page.locator(".histogram .bar").count() == 5, "the histogram as bars"
            assert page.locator(".badge.paid").count() >= 2, "each review's badge"
            shot = tmp_path / "reviews-page.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()


def test_the_serve_command_and_outbox_review_via(world: World, cli_env: dict[str, str]) -> None:
    home = Path(cli_env["OMAREVIEW_HOME"])
    env = {
        **os.environ,
        **cli_env,
        "OMAREVIEW_DID_WEB_OVERRIDES": ",".join(f"{h}={u}" for h, u in world.overrides.items()),
    }
    port = free_port()
    command = [sys.executable, "-m", "omareview", "serve", "--port", str(port), "--relayer-dev-account", str(RELAYER)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if not answers(f"http://127.0.0.1:{port}/healthz"):
            raise AssertionError(proc.stderr.read() if proc.stderr else "serve did not start")
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=15)
    relayer = world.devnet.state.accounts[RELAYER].address
    assert f"serving reviews of devnet on http://127.0.0.1:{port}, relaying from {relayer}" in stderr
    assert '"GET /healthz HTTP/1.1" 200' in stdout, "uvicorn's access log"
    assert "synced to block" in stderr and "httpx" not in stderr
    assert world.devnet.state.accounts[RELAYER].private_key.get_secret_value()[2:] not in stderr + stdout

    _, entry = world.pay(outbox=Outbox(home / "outbox.sqlite3"))
    refused = run_cli(
        "outbox", "review", entry.digest[:20], "--rating", "5", "--via", PROVIDER, "--dev-account", "1", env=env
    )
    assert refused.code == 1
    assert refused.error_line == (
        f"error: review provider {PROVIDER} is not on the allowlist; add it to review_providers in policy.toml "
        "(or pass --policy FILE)"
    )
    policy = home / "policy.toml"
    policy.write_text(f'review_providers = ["{PROVIDER}"]\n')
    via = ("outbox", "review", entry.digest[:20], "--rating", "5", "--via", PROVIDER, "--json")
    outbox = Outbox(home / "outbox.sqlite3")
    not_theirs = run_cli(*via, "--dev-account", str(OTHER), env=env)
    assert not_theirs.code == 1 and not_theirs.error_line.startswith(f"error: {entry.digest[:18]}… was paid by ")
    assert "not by the signing wallet" in not_theirs.error_line
    assert outbox.get(entry.digest) == entry, "another wallet's --via leaves the entry untouched"
    sent = run_cli(*via, "--dev-account", str(PAYER), env=env)
    assert sent.code == 0, sent.stderr
    assert sent.json()["status"] == "done" and sent.json()["uid"].startswith("0x")
    assert (outbox.get(entry.digest) or entry).draft == ReviewDraft(5), "drafted as the CLI was told"
    again = run_cli(*via, "--dev-account", str(PAYER), env=env)
    assert again.code == 0, again.stderr
    assert again.json()["uid"] == sent.json()["uid"], "a repeated --via answers the review it wrote"


def test_an_exported_receipt_is_the_file_review_submit_takes(world: World, cli_env: dict[str, str]) -> None:
    """`outbox show` and `outbox export`: the receipt as a file, which `receipt verify` and `review submit
    --receipt` take as they are."""
    home = Path(cli_env["OMAREVIEW_HOME"])
    env = {**cli_env, "OMAREVIEW_DID_WEB_OVERRIDES": ",".join(f"{h}={u}" for h, u in world.overrides.items())}
    _, entry = world.pay(outbox=Outbox(home / "outbox.sqlite3"))
    listed = run_cli("outbox", "list", env=env)
    assert entry.payer and f"{entry.payer[:6]}…{entry.payer[-4:]}" in listed.stdout, "the list shows the payer"
    shown = run_cli("outbox", "show", entry.digest[:12], "--json", env=env).json()
    assert shown["receipt"] == entry.receipt and shown["payer"] == entry.payer
    assert shown["paymentTx"] == entry.payment_tx and shown["offer"] == entry.offer
    assert (
        f"settlement  {entry.payment_network}:{entry.payment_tx}"
        in run_cli("outbox", "show", entry.digest, env=env).stdout
    )
    exported = run_cli("outbox", "export", entry.digest[:12], env=env)
    assert exported.code == 0 and json.loads(exported.stdout) == entry.receipt
    receipt = home / "receipt.json"
    receipt.write_text(exported.stdout)
    verified = run_cli("receipt", "verify", str(receipt), "--json", env=env)
    assert verified.code == 0 and verified.json()["level"] == "verified", verified.stderr
    submitted = run_cli(
        "review", "submit", "--receipt", str(receipt), "--rating", "5", "--dev-account", str(PAYER), "--json", env=env
    )
    assert submitted.code == 0, submitted.stderr
    assert submitted.json()["attester"] == entry.payer
    missing = run_cli("outbox", "export", "0xdead", env=env)
    assert (
        missing.code == 1 and missing.error_line == "error: no outbox entries match '0xdead'; give more of the digest"
    )


def test_an_eas_sdk_client_uses_the_provider_as_its_relay(world: World, devnet_key: Callable[[int], str]) -> None:
    """The OMATrust way of relaying: eas-sdk signs the delegated Attest of a paid review, the client posts
    the relay body."""
    _, entry = world.pay()
    drafted = entry.model_copy(update={"draft": ReviewDraft(4, "signed by eas-sdk")})
    review = review_job(drafted, world.signer(PAYER), VerifyOptions(authorize=False)).review
    deadline = int(time.time()) + 600
    request = {
        "schema": world.network.schema_uid(),
        "recipient": review.recipient,
        "data": "0x" + review.encode().hex(),
        "deadline": deadline,
    }
    signed = run_node(
        "eas_reference.mjs",
        {
            "action": "sign-delegated",
            "rpcUrl": world.network.rpc_url,
            "easAddress": world.network.eas_address,
            "privateKey": devnet_key(PAYER),
            "request": request,
        },
    )
    body = {
        "attester": signed["attester"],
        "signature": signed["signature"],
        "prepared": {
            "delegatedRequest": {
                "schema": request["schema"],
                "attester": signed["attester"],
                "easContractAddress": world.network.eas_address,
                "chainId": world.network.chain_id,
                "recipient": review.recipient,
                "expirationTime": "0",
                "revocable": False,
                "refUID": "0x" + "00" * 32,
                "data": request["data"],
                "value": "0",
                "nonce": signed["nonce"],
                "deadline": str(deadline),
            },
            "typedData": {"domain": signed["domain"], "types": {}, "message": {}},
        },
    }
    answer = httpx.post(f"{world.provider_url}/v1/delegated-attest", json=body, timeout=60)
    assert answer.status_code == 200 and answer.json()["success"], answer.text
    (onchain,) = EasClient(world.network).attestations([answer.json()["uid"]])
    assert onchain.attester == world.devnet.state.accounts[PAYER].address
    again = httpx.post(f"{world.provider_url}/v1/delegated-attest", json=body, timeout=60)
    assert (again.status_code, again.json()["code"]) == (400, "INVALID_SIGNATURE"), "a used nonce is never sent twice"
    assert "stale EAS nonce" in again.json()["message"]


def test_the_provider_judges_at_the_chain_s_time_as_the_index_will(world: World, w3: Any) -> None:
    """The chain's clock lags the wall clock by more than the freshness window: a receipt issued "now" is
    in the chain's future, so the index would read its review `invalid`. The provider refuses it before any
    gas is spent; once the chain's clock has caught up, the same payment's review is written and the index
    reads the level the provider judged."""
    outbox, entry = world.pay()
    relayer = world.devnet.state.accounts[RELAYER].address
    w3.provider.make_request("anvil_setTime", [int(time.time()) - 400])
    w3.provider.make_request("evm_mine", [])
    balance = w3.eth.get_balance(relayer)
    refused = httpx.post(world.write_url(entry), content=world.signed_body(entry, PAYER), timeout=60)
    assert refused.status_code == 422 and refused.json()["code"] == "NOT_PAYMENT_BACKED", refused.text
    assert "(invalid)" in refused.json()["message"], "judged as the index would read it: invalid"
    with pytest.raises(InputError, match="in the future"):
        world.send(outbox, entry)  # the payer's own check judges at the chain's time too
    assert w3.eth.get_balance(relayer) == balance, "a refusal spends no gas"
    w3.provider.make_request("anvil_setTime", [int(time.time())])
    w3.provider.make_request("evm_mine", [])
    written = world.send(outbox, entry)
    assert written.status == "done" and written.uid, written
    world.provider.sync()
    listed = world.provider.index.reviews("did:web:localhost", rejudge=True)
    (review,) = [r for r in listed.reviews if r.uid == written.uid]
    assert review.level == "paid"


def test_the_relayer_s_lost_send_answer_is_settled_not_signed_around(world: World, w3: Any) -> None:
    """The provider's node forwards the relayer's transaction, then resets the connection unanswered (a
    resend would hear `nonce too low`). The write still ends with the one review, sent in one transaction:
    no second transaction is signed around the first, so no gas goes to a copy that can only revert."""
    from tests.rpc_proxy import rpc_proxy

    _, entry = world.pay()
    relayer = world.devnet.state.accounts[RELAYER].address
    sent_before = w3.eth.get_transaction_count(relayer)
    reset = lambda m, n: "reset-after-forward" if m == "eth_sendRawTransaction" and n % 2 else None  # noqa: E731
    with rpc_proxy(world.network.rpc_url, faults=reset) as (url, stats):
        proxied = world.network.model_copy(update={"rpc_url": url})
        judge = world.provider.index.judge_context
        index = ReviewIndex(proxied, home=world.tmp / "relayer-behind-a-lossy-node", judge_context=judge)
        provider = ReviewProvider(ProviderConfig(proxied, world.signer(RELAYER), index=index))
        written = provider.write(f"{entry.payment_network}:{entry.payment_tx}", world.signed_body(entry, PAYER))
        assert stats.failed == 1
    assert w3.eth.get_transaction_count(relayer) == sent_before + 1, "one transaction, not one per answer lost"
    (onchain,) = EasClient(world.network).attestations([written.uid])
    assert onchain.attester == world.devnet.state.accounts[PAYER].address


def test_a_dead_writer_s_payment_claim_is_taken_over_at_once_and_a_sent_review_is_the_answer(world: World) -> None:
    """A writer killed between claiming a payment and recording its review (simulated: its claim is in the
    store under the name of a process that has exited) holds the payment for no lease: the next write
    takes the claim over, and a retry after a review was sent gets that review's UID."""
    pid = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{socket.gethostname()}:{pid.stdout.strip()}:0badc0de"
    _, entry = world.pay()
    key = f"{entry.payment_network}:{entry.payment_tx}"
    payer = world.devnet.state.accounts[PAYER].address
    assert world.provider.store.payments.claim(key, payer, dead, int(time.time()), CLAIM_LEASE_S).claimed
    written = httpx.post(world.write_url(entry), content=world.signed_body(entry, PAYER), timeout=60)
    assert written.status_code == 200, written.text
    uid = written.json()["uid"]
    with world.provider.store.transaction() as tx:
        tx.execute("UPDATE payment_reviews SET state = 'sending', uid = NULL, owner = ? WHERE payment = ?", (dead, key))
    again = httpx.post(world.write_url(entry), content=world.signed_body(entry, PAYER), timeout=60)
    assert (again.status_code, again.json().get("uid")) == (409, uid), again.text


@pytest.mark.parametrize("query", ["", "?q=" + "a" * 2100, "?q=" + "%F0%9F%98%80" * 400])
def test_every_reviews_block_the_dev_server_emits_is_valid_even_for_over_long_urls(world: World, query: str) -> None:
    """The 402's `read` block is validated against the extension's published JSON Schema; a resource URL
    too long for a 2,048-character link is named by its subject instead of the block going out empty."""
    from jsonschema import Draft202012Validator

    from omareview.x402.reviews import READ_SCHEMA, validate_reviews_info

    answer = httpx.get(f"{world.devserver}/paid{query}", timeout=30)
    assert answer.status_code == 402
    message = json.loads(base64.b64decode(answer.headers["payment-required"]))
    block = message["extensions"]["reviews"]
    Draft202012Validator(READ_SCHEMA).validate(block["info"])
    assert validate_reviews_info(block["info"], "read") == []
    (provider,) = block["info"]["providers"]
    resource = quote(f"{world.devserver}/paid{query}", safe="")
    expected = resource if len(resource) < 1900 else quote(subject_did(world.devserver), safe="")
    assert provider["read"] == f"https://{PROVIDER}/reviews?resource={expected}"


def test_the_page_heading_names_the_subject_not_the_url_asked_with(world: World) -> None:
    spoof = "https://trusted-bank.example@localhost/\u202egnp.exe"
    answer = httpx.get(f"{world.provider_url}/reviews", params={"resource": spoof}, headers={"Accept": "text/html"})
    assert answer.status_code == 200
    assert "trusted-bank" not in answer.text and "\u202e" not in answer.text
    assert "<h1>Reviews of localhost</h1>" in answer.text
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
