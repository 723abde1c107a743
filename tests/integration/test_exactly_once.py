"""Exactly once under every crash and race, on a devnet with interval mining (pending transactions exist).

Each crash trial starts a real submitter process, kills it with SIGKILL at a random moment, retries at
once, and then counts the reviews on-chain: every receipt must be reviewed exactly once, none lost. Trials
run four at a time, each with its own dev account and home.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from omareview._devnet_state import network_of
from omareview.devnet.node import Devnet, start_devnet
from omareview.eas.client import EasClient
from omareview.eas.scanner import LogScanner
from omareview.hooks import ReceiptCapture, ReviewDraft, Submitter
from omareview.networks import Network
from omareview.review.duplicates import receipt_digests_of
from omareview.review.outbox import Outbox
from omareview.signers import signer_from_key
from omareview.x402 import encode_header
from omareview.x402.verify import artifact_digest
from tests.reviews import artifact, receipt_for
from tests.rpc_proxy import rpc_proxy

pytestmark = pytest.mark.devnet

BLOCK_TIME_S = "0.5"
TRIALS = int(os.environ.get("OMAREVIEW_CRASH_TRIALS", "50"))
WORKERS = 4
RECEIPTS_PER_TRIAL = 3
ACCOUNTS = [2, 3, 5, 6]


@pytest.fixture(scope="module")
def interval_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devnet]:
    home = tmp_path_factory.mktemp("interval-devnet")
    with start_devnet(home=home, anvil_args=["--block-time", BLOCK_TIME_S]) as devnet:
        yield devnet


@pytest.fixture(scope="module")
def chain(interval_devnet: Devnet) -> Network:
    return network_of(interval_devnet.state)


def _home(devnet: Devnet, folder: Path) -> dict[str, str]:
    (folder / "devnet").mkdir(parents=True, exist_ok=True)
    (folder / "devnet" / "state.json").write_text(devnet.state.model_dump_json(by_alias=True))
    return {**os.environ, "OMAREVIEW_HOME": str(folder)}


def _address(devnet: Devnet, account: int) -> str:
    return devnet.state.accounts[account].address


def review_counts(network: Network, attester: str) -> Counter[str]:
    """How many on-chain reviews by `attester` carry each receipt digest."""
    client = EasClient(network)
    head = client.rpc.block_number()
    scanner = LogScanner(client.rpc, client.eas_address)
    uids = [
        log.uid for chunk in scanner.scan(0, head, schemas=[network.schema_uid()], attester=attester) for log in chunk
    ]
    counts: Counter[str] = Counter()
    for attestation in client.attestations(uids):
        counts.update(receipt_digests_of(attestation.data))
    return counts


_serial = iter(range(10_000, 10**9))


def _receipts(payer: str, count: int) -> list[dict[str, Any]]:
    return [receipt_for(payer, n=next(_serial)) for _ in range(count)]


def _digests(receipts: list[dict[str, Any]]) -> set[str]:
    return {artifact_digest(artifact(r)) for r in receipts}


def _wait_until_mined(network: Network, attester: str, digests: set[str], timeout: float = 30) -> Counter[str]:
    deadline = time.monotonic() + timeout
    while True:
        counts = review_counts(network, attester)
        if digests <= set(counts) or time.monotonic() > deadline:
            return counts
        time.sleep(0.25)


def _wallet(devnet: Devnet, folder: Path, account: int, count: int = 12) -> tuple[dict[str, str], str, list[Any]]:
    """A home for the CLI, the dev account's address, and `count` fresh receipts it paid for."""
    payer = _address(devnet, account)
    return _home(devnet, folder), payer, _receipts(payer, count)


def _capture(outbox: Outbox, receipts: list[dict[str, Any]], draft: ReviewDraft) -> None:
    """The agent hook's capture of each receipt's settlement, with the agent's draft."""
    capture = ReceiptCapture(outbox, rating_policy=lambda response, receipt: draft)
    for receipt in receipts:
        settle = encode_header({"success": True, "extensions": {"offer-receipt": {"info": {"receipt": receipt}}}})
        capture.observe("https://api.example.com/premium-data", 200, {"PAYMENT-RESPONSE": settle}, None)


def _submit_many_command(path: Path, account: int) -> list[str]:
    return [sys.executable, "-m", "omareview", "review", "submit-many", str(path), "--dev-account", str(account)]


def _outbox_command(account: int) -> list[str]:
    return [sys.executable, "-m", "omareview", "outbox", "submit", "--dev-account", str(account), "--no-authorize"]


def _kill_then_retry(command: list[str], env: dict[str, str], rng: random.Random) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.0, 2.5))
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=180, check=False)


def _submit_many_trial(devnet: Devnet, network: Network, folder: Path, account: int, seed: int) -> str | None:
    rng = random.Random(seed)
    env, payer, receipts = _wallet(devnet, folder, account, RECEIPTS_PER_TRIAL)
    jsonl = folder / "reviews.jsonl"
    jsonl.write_text("".join(json.dumps({"receipt": r, "ratingValue": 4}) + "\n" for r in receipts))
    retry = _kill_then_retry([*_submit_many_command(jsonl, account), "--no-authorize", "--json"], env, rng)
    if retry.returncode not in (0, 1):
        return f"trial {seed}: the retry failed: {retry.stderr.strip()}"
    counts = _wait_until_mined(network, payer, _digests(receipts))
    wrong = {d[:10]: counts[d] for d in _digests(receipts) if counts[d] != 1}
    return f"trial {seed}: reviews per receipt {wrong}" if wrong else None


def _outbox_trial(devnet: Devnet, network: Network, folder: Path, account: int, seed: int) -> str | None:
    rng = random.Random(seed)
    env, payer, receipts = _wallet(devnet, folder, account, RECEIPTS_PER_TRIAL)
    outbox = Outbox(folder / "outbox.sqlite3")
    _capture(outbox, receipts, ReviewDraft(5, "crash trial"))
    outbox.close()
    retry = _kill_then_retry([*_outbox_command(account), "--json"], env, rng)
    if retry.returncode != 0:
        return f"trial {seed}: the retry failed ({retry.returncode}): {retry.stderr.strip() or retry.stdout}"
    counts = _wait_until_mined(network, payer, _digests(receipts))
    wrong = {d[:10]: counts[d] for d in _digests(receipts) if counts[d] != 1}
    return f"trial {seed}: reviews per receipt {wrong}" if wrong else None


def _run_trials(
    trial: Callable[[Devnet, Network, Path, int, int], str | None], devnet: Devnet, network: Network, base: Path
) -> None:
    def worker(slot: int) -> list[str]:
        failures = []
        for seed in range(slot, TRIALS, WORKERS):
            failure = trial(devnet, network, base / f"trial-{seed}", ACCOUNTS[slot], seed)
            if failure:
                failures.append(failure)
        return failures

    with ThreadPoolExecutor(WORKERS) as pool:
        failures = [f for found in pool.map(worker, range(WORKERS)) for f in found]
    assert not failures, "\n".join(failures)


def test_submit_many_killed_at_random_moments_reviews_each_receipt_once(
    interval_devnet: Devnet, chain: Network, tmp_path: Path
) -> None:
    _run_trials(_submit_many_trial, interval_devnet, chain, tmp_path)


def test_outbox_submit_killed_at_random_moments_reviews_each_receipt_once(
    interval_devnet: Devnet, chain: Network, tmp_path: Path
) -> None:
    _run_trials(_outbox_trial, interval_devnet, chain, tmp_path)


@pytest.mark.parametrize("submitters", [2, 4])
def test_concurrent_submit_many_on_one_file_reviews_each_receipt_once(
    interval_devnet: Devnet, chain: Network, tmp_path: Path, submitters: int
) -> None:
    account = 7 if submitters == 2 else 8
    env, payer, receipts = _wallet(interval_devnet, tmp_path, account)
    jsonl = tmp_path / "reviews.jsonl"
    jsonl.write_text("".join(json.dumps({"receipt": r, "ratingValue": 3}) + "\n" for r in receipts))
    command = [*_submit_many_command(jsonl, account), "--no-authorize", "--json"]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(submitters)
    ]
    results = [proc.communicate(timeout=240) for proc in procs]
    assert all(proc.returncode in (0, 1) for proc in procs), [err for _, err in results]
    counts = _wait_until_mined(chain, payer, _digests(receipts))
    assert {counts[d] for d in _digests(receipts)} == {1}
    written = [json.loads(line) for out, _ in results for line in out.splitlines()]
    assert sum(1 for row in written if row.get("ok")) == len(receipts), "each receipt is reported written once"


@pytest.mark.parametrize("submitters", [2, 4])
def test_concurrent_outbox_submitters_review_each_receipt_once(
    interval_devnet: Devnet, chain: Network, tmp_path: Path, submitters: int
) -> None:
    account = 9 if submitters == 2 else 4
    env, payer, receipts = _wallet(interval_devnet, tmp_path, account)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    _capture(outbox, receipts, ReviewDraft(4))
    command = [*_outbox_command(account), "--json"]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(submitters)
    ]
    for proc in procs:
        proc.communicate(timeout=240)
    counts = _wait_until_mined(chain, payer, _digests(receipts))
    assert {counts[d] for d in _digests(receipts)} == {1}
    assert {e.status for e in outbox.entries()} == {"done"}


@pytest.mark.parametrize(
    ("method", "fault"),
    [
        ("eth_estimateGas", "http-500"),
        ("eth_estimateGas", "garbage"),
        ("eth_sendRawTransaction", "lost-reply"),
        ("eth_sendRawTransaction", "http-500"),
        ("eth_getTransactionReceipt", "garbage"),
    ],
)
def test_rpc_faults_lose_nothing_and_double_nothing(
    interval_devnet: Devnet, chain: Network, tmp_path: Path, method: str, fault: str
) -> None:
    """One fault while sizing, sending or awaiting a batch: nothing is rejected, and a retry through a
    healthy node finishes the job with each receipt reviewed once."""
    key = interval_devnet.state.accounts[1].private_key.get_secret_value()
    signer = signer_from_key(key)
    receipts = _receipts(signer.address, 5)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    _capture(outbox, receipts, ReviewDraft(2, "faulty node"))
    from omareview.x402.verify import VerifyOptions

    options = VerifyOptions(authorize=False)
    with rpc_proxy(chain.rpc_url, faults=lambda m, n: fault if (m, n) == (method, 1) else None) as (url, stats):
        faulty = Submitter(
            EasClient(chain.model_copy(update={"rpc_url": url}), signer), signer, outbox, verify_options=options
        )
        try:
            faulty.run(attempts=1)
        except Exception as exc:
            assert getattr(exc, "reason", "").startswith(("rpc", "chain", "transaction")), repr(exc)
        assert stats.failed == 1
    assert "rejected" not in {e.status for e in outbox.entries()}, "a node's fault is never a verdict"
    Submitter(EasClient(chain, signer), signer, outbox, verify_options=options).run(attempts=3)
    counts = _wait_until_mined(chain, signer.address, _digests(receipts))
    assert {counts[d] for d in _digests(receipts)} == {1}
    assert {e.status for e in outbox.entries()} == {"done"}


# Every fault the proxy can inject, at every JSON-RPC method a sending path calls: a fault before the send
# (sizing, fees, the duplicate scan), at the send itself, and while settling or awaiting it.
FAULTS = ["lost-reply", "reset-after-forward", "reset-before-forward", "http-500", "garbage-after-forward", "stall"]
SEND_METHODS = [
    "eth_estimateGas",
    "eth_getBlockByNumber",
    "eth_getLogs",
    "eth_sendRawTransaction",
    "eth_getTransactionByHash",
    "eth_getTransactionCount",
    "eth_getTransactionReceipt",
]


def _twice_at(method: str, fault: str) -> Callable[[str, int], str | None]:
    """`fault` on the first two calls of `method` (the second hits a resend or the settling look-up)."""
    return lambda m, n: fault if m == method and n <= 2 else None


def _faulty_then_clean(network: Network, signer: Any, outbox: Outbox, faults: Callable[[str, int], str | None]) -> None:
    from omareview.x402.verify import VerifyOptions

    options = VerifyOptions(authorize=False)
    with rpc_proxy(network.rpc_url, faults=faults, stall_s=1.5) as (url, _):
        faulty = Submitter(
            EasClient(network.model_copy(update={"rpc_url": url}), signer), signer, outbox, verify_options=options
        )
        try:
            faulty.run(attempts=2, backoff_s=0.1)
        except Exception as exc:
            assert getattr(exc, "reason", "").startswith(("rpc", "chain", "transaction")), repr(exc)
    assert "rejected" not in {e.status for e in outbox.entries()}, "a node's fault is never a verdict"
    Submitter(EasClient(network, signer), signer, outbox, verify_options=options).run(attempts=3, backoff_s=0.1)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("method", SEND_METHODS)
def test_every_fault_at_every_method_then_a_clean_run_reviews_each_receipt_once(
    interval_devnet: Devnet, chain: Network, tmp_path: Path, method: str, fault: str
) -> None:
    """Interval mining, keep-alive connections: whatever the node's answers do, every receipt ends reviewed
    exactly once and none is lost."""
    signer = signer_from_key(interval_devnet.state.accounts[1].private_key.get_secret_value())
    receipts = _receipts(signer.address, 3)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    _capture(outbox, receipts, ReviewDraft(3, "faults"))
    _faulty_then_clean(chain, signer, outbox, _twice_at(method, fault))
    counts = _wait_until_mined(chain, signer.address, _digests(receipts))
    assert {counts[d] for d in _digests(receipts)} == {1}, {d[:10]: counts[d] for d in _digests(receipts)}
    assert {e.status for e in outbox.entries()} == {"done"}


@pytest.mark.chain_isolated
@pytest.mark.parametrize("fault", FAULTS)
def test_a_lost_send_answer_on_instant_mining_reviews_each_receipt_once(
    devnet: Devnet, network: Network, tmp_path: Path, fault: str
) -> None:
    """Instant mining: the first copy is mined before the client hears anything, so a resend is answered
    `nonce too low`: that is settled by the transaction's hash, never read as a clash to sign around."""
    signer = signer_from_key(devnet.state.accounts[4].private_key.get_secret_value())
    receipts = _receipts(signer.address, 3)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    _capture(outbox, receipts, ReviewDraft(4, "instant"))
    _faulty_then_clean(network, signer, outbox, _twice_at("eth_sendRawTransaction", fault))
    counts = review_counts(network, signer.address)
    assert {counts[d] for d in _digests(receipts)} == {1}, {d[:10]: counts[d] for d in _digests(receipts)}


def _node(request: pytest.FixtureRequest, mining: str, interval_devnet: Devnet) -> Devnet:
    """The devnet of `mining`: the session's (instant mining; what the test writes is undone after it by
    the `isolated_chain` fixture) or this module's interval-mining one."""
    if mining == "interval":
        return interval_devnet
    request.getfixturevalue("isolated_chain")
    devnet: Devnet = request.getfixturevalue("devnet")
    return devnet


@pytest.mark.parametrize("mining", ["instant", "interval"])
def test_outbox_submit_whose_send_answers_are_reset_then_a_clean_run_writes_each_receipt_once(
    request: pytest.FixtureRequest, interval_devnet: Devnet, tmp_path: Path, mining: str
) -> None:
    """The reported case, through the real command: an `eth_sendRawTransaction` is forwarded to the node,
    then the connection is reset unanswered (a resend would hear `nonce too low` or `already known`); a
    clean `outbox submit` follows."""
    node = _node(request, mining, interval_devnet)
    network = network_of(node.state)
    account = 3 if mining == "instant" else 6
    env, payer, receipts = _wallet(node, tmp_path, account, 5)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    _capture(outbox, receipts, ReviewDraft(5, "reset answers"))
    outbox.close()
    # Each first copy is answered by a reset; a copy sent again gets the node's real answer.
    reset = lambda m, n: "reset-after-forward" if m == "eth_sendRawTransaction" and n % 2 else None  # noqa: E731
    with rpc_proxy(network.rpc_url, faults=reset) as (url, stats):
        faulty = subprocess.run(
            [sys.executable, "-m", "omareview", "--rpc-url", url, *_outbox_command(account)[3:], "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert stats.failed >= 1, faulty.stderr
    assert "Traceback" not in faulty.stderr
    clean = subprocess.run(
        [*_outbox_command(account), "--json"], env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert clean.returncode == 0, clean.stderr
    counts = _wait_until_mined(network, payer, _digests(receipts))
    assert {counts[d] for d in _digests(receipts)} == {1}, {d[:10]: counts[d] for d in _digests(receipts)}


def test_submit_many_through_a_node_that_mixes_every_fault_then_a_clean_rerun_writes_each_once(
    interval_devnet: Devnet, chain: Network, tmp_path: Path
) -> None:
    """`review submit-many` through a proxy that loses, resets, garbles and stalls answers at random."""
    rng = random.Random(24)
    env, payer, receipts = _wallet(interval_devnet, tmp_path, 5, 30)
    jsonl = tmp_path / "reviews.jsonl"
    jsonl.write_text("".join(json.dumps({"receipt": r, "ratingValue": 4}) + "\n" for r in receipts))
    command = [*_submit_many_command(jsonl, 5), "--no-authorize", "--json"]
    mixed = lambda m, n: rng.choice([*FAULTS, None, None, None, None]) if m != "eth_chainId" else None  # noqa: E731
    with rpc_proxy(chain.rpc_url, faults=mixed, stall_s=1.0) as (url, _):
        for _ in range(3):
            run = subprocess.run(
                [sys.executable, "-m", "omareview", "--rpc-url", url, *command[3:]],
                env=env,
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
            assert "Traceback" not in run.stderr, run.stderr
    clean = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert clean.returncode in (0, 1), clean.stderr
    counts = _wait_until_mined(chain, payer, _digests(receipts))
    assert {counts[d] for d in _digests(receipts)} == {1}, {d[:10]: counts[d] for d in _digests(receipts)}


@pytest.mark.parametrize("mining", ["instant", "interval"])
def test_a_relay_whose_answer_is_lost_writes_each_delegated_review_once(
    request: pytest.FixtureRequest, interval_devnet: Devnet, tmp_path: Path, mining: str
) -> None:
    """Delegated submission: the relay sends the attestation, then drops the connection; and the relayer's
    own node loses its send answer. The retry signs nothing that could land beside the first."""
    from omareview.review.submit import ReviewJob, submit_reviews
    from omareview.x402.verify import VerifyOptions
    from tests.relay_server import relay_server

    node = _node(request, mining, interval_devnet)
    network = network_of(node.state)
    payer = signer_from_key(node.state.accounts[7 if mining == "instant" else 9].private_key.get_secret_value())
    relayer = signer_from_key(node.state.accounts[8].private_key.get_secret_value())
    receipts = _receipts(payer.address, 2)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    _capture(outbox, receipts, ReviewDraft(5, "relayed"))
    from omareview.hooks.submitter import review_job

    jobs: list[ReviewJob] = [review_job(e, payer, VerifyOptions(authorize=False)) for e in outbox.entries() if e.draft]
    lossy = lambda m, n: "reset-after-forward" if m == "eth_sendRawTransaction" and n == 1 else None  # noqa: E731
    with rpc_proxy(network.rpc_url, faults=lossy) as (rpc_url, _):
        relay_client = EasClient(network.model_copy(update={"rpc_url": rpc_url}), relayer)
        with relay_server(relay_client, lose_answers=1) as (relay_url, _):
            first = submit_reviews(EasClient(network), jobs, payer, outbox=outbox, mode="relay", relay_url=relay_url)
            assert any(o.error is not None for o in first), "the lost answer is reported, not guessed"
            again = submit_reviews(EasClient(network), jobs, payer, outbox=outbox, mode="relay", relay_url=relay_url)
            assert all(o.error is None or "already" in str(o.error) for o in again), [str(o.error) for o in again]
    counts = _wait_until_mined(network, payer.address, _digests(receipts))
    assert {counts[d] for d in _digests(receipts)} == {1}, {d[:10]: counts[d] for d in _digests(receipts)}


def _attestations_by(network: Network, attester: str, schema: str) -> int:
    client = EasClient(network)
    scanner = LogScanner(client.rpc, client.eas_address)
    head = client.rpc.block_number()
    return sum(len(chunk) for chunk in scanner.scan(0, head, schemas=[schema], attester=attester))


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", ["key-binding", "user-review-response"])
def test_an_identity_write_or_response_whose_send_answer_is_lost_is_written_once(
    interval_devnet: Devnet, chain: Network, tmp_path: Path, kind: str, fault: str
) -> None:
    """Identity writes and responses send through the same settle-first sender: a lost, reset, garbled or
    stalled answer to the broadcast is settled by the transaction's hash before anything is signed again.
    The command either reports the one attestation, or says the outcome is unsettled and names the
    transaction to look up; never two."""
    from omareview.eas.client import review_request
    from omareview.review import review_of_subject

    account = 8
    env = _home(interval_devnet, tmp_path)
    signer = signer_from_key(interval_devnet.state.accounts[account].private_key.get_secret_value())
    if kind == "user-review-response":
        review = review_of_subject("did:web:answered.example", rating=3, body="slow")
        uid = EasClient(chain, signer).attest(review_request(review.recipient, review.encode())).uid
        command = ["respond", uid, "--body", f"fixed ({fault})", "--dev-account", str(account), "--json"]
    else:
        env["SIGNING"] = "0x" + "5a" * 32
        subject = f"did:web:{fault}.example"
        command = [
            "identity",
            "bind-key",
            subject,
            "--signing-key-env",
            "SIGNING",
            "--dev-account",
            str(account),
            "--json",
        ]
    schema = chain.schema_uid(kind)
    before = _attestations_by(chain, signer.address, schema)
    once = lambda m, n: fault if (m, n) == ("eth_sendRawTransaction", 1) else None  # noqa: E731
    with rpc_proxy(chain.rpc_url, faults=once, stall_s=1.0) as (url, stats):
        run = subprocess.run(
            [sys.executable, "-m", "omareview", "--rpc-url", url, *command],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "eth_sendRawTransaction" in stats.methods
    assert "Traceback" not in run.stderr, run.stderr
    deadline = time.monotonic() + 10
    while _attestations_by(chain, signer.address, schema) == before and time.monotonic() < deadline:
        time.sleep(0.25)
    written = _attestations_by(chain, signer.address, schema) - before
    if run.returncode == 0:
        assert written == 1, (run.stdout, written)
        assert json.loads(run.stdout)["txHash"]
    else:
        assert written <= 1 and "look it up" in run.stderr, run.stderr
