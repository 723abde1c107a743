"""Hostile input: deep JSON never crashes an agent, the CLI or a listing; each refusal is one line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omareview._json import MAX_DEPTH, loads_untrusted
from omareview.devnet.node import Devnet
from omareview.eas.client import EasClient, review_request
from omareview.eas.schema_codec import encode_data
from omareview.errors import InputError
from omareview.identity import did_address
from omareview.networks import Network
from omareview.schemas import USER_REVIEW, get_schema
from omareview.signers import Signer
from omareview.x402 import load_artifacts
from tests.helpers import run_cli
from tests.servers import Reply, http_server

DEEP = "[" * 100_000 + "]" * 100_000
AGENT = textwrap.dedent(
    """
    import logging, sys
    from pathlib import Path

    import eth_account  # noqa: F401  (py_ecc raises the recursion limit to 100000 on import)
    import httpx

    from omareview.hooks import ReceiptCapture, install_hook
    from omareview.review.outbox import Outbox

    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s", stream=sys.stderr)
    print("recursion limit", sys.getrecursionlimit())
    capture = ReceiptCapture(Outbox(Path(sys.argv[2])))
    with httpx.Client() as client:
        install_hook(client, capture)
        response = client.get(sys.argv[1])
    print("survived", response.status_code)
    """
)


def test_an_agent_with_eth_account_survives_a_deep_402_and_logs_one_line(tmp_path: Path) -> None:
    reply = Reply(402, DEEP.encode(), {"Content-Type": "application/json"})
    with http_server({"/paid": reply}) as server:
        done = subprocess.run(
            [sys.executable, "-c", AGENT, f"{server.base_url}/paid", str(tmp_path / "outbox.sqlite3")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "recursion limit 100000" in done.stdout, "the agent must run with eth-account's raised limit"
    assert "survived 402" in done.stdout
    logged = [line for line in done.stderr.splitlines() if line.startswith("omareview")]
    assert len(logged) == 1 and "nested 100000 levels deep" in logged[0], done.stderr[-2000:]


@pytest.mark.parametrize(
    "args",
    [
        ("receipt", "verify"),
        ("offer", "verify"),
        ("--network", "omachain-testnet", "review", "build", "--offline", "--rating", "5", "--receipt"),
    ],
)
def test_the_cli_refuses_deep_json_in_one_line_with_a_key_loaded(args: tuple[str, ...], tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text(DEEP)
    result = run_cli(*args, str(deep), env={"OMAREVIEW_PRIVATE_KEY": "0x" + "11" * 32})
    assert result.code == 1
    assert "nested 100000 levels deep; at most 64 are allowed" in result.error_line


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 65 + "]" * 65, "too-deep"),
        ('{"a": "\\ud800"}', "bad-json"),
        ("1" * 4301, "bad-json"),
        ('{"x": NaN}', "bad-json"),
        ('{"x": Infinity}', "bad-json"),
        (b"\xff\xfe", "bad-json"),
        ("{" * 3, "bad-json"),
    ],
)
def test_the_loader_refuses_in_one_error(text: str | bytes, reason: str) -> None:
    with pytest.raises(InputError) as refused:
        loads_untrusted(text)
    assert refused.value.reason == reason
    assert "\n" not in str(refused.value)


def test_depth_is_counted_outside_strings() -> None:
    assert loads_untrusted(json.dumps({"a": "[" * 500})) == {"a": "[" * 500}
    assert loads_untrusted("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400) | st.binary(max_size=400).map(lambda b: b.decode("latin-1")))
def test_fuzzed_text_is_loaded_or_refused_with_an_input_error(text: str) -> None:
    try:
        load_artifacts(text)
    except InputError as exc:
        assert exc.reason and "\n" not in str(exc)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=30,
    )
)
def test_fuzzed_json_documents_are_loaded_or_refused_with_an_input_error(value: object) -> None:
    try:
        load_artifacts(json.dumps(value))
    except InputError as exc:
        assert exc.reason


@pytest.mark.devnet
@pytest.mark.chain_isolated
def test_a_review_with_a_3000_deep_proof_is_invalid_and_the_listing_still_works(
    use_devnet: Devnet, network: Network, dev_signer: object, cli_env: dict[str, str]
) -> None:
    assert callable(dev_signer)
    signer: Signer = dev_signer(6)
    subject = "did:web:poisoned.example"
    deep_proof = "[" * 3000 + "]" * 3000
    data = encode_data(get_schema(USER_REVIEW).schema_string, [subject, "", 4, "poison", [], [deep_proof]])
    EasClient(network, signer).attest(review_request(did_address(subject), data))
    listing = run_cli("reviews", subject, "--json", env=cli_env)
    assert listing.code == 0, listing.stderr
    document = listing.json()
    assert document["count"] == 1 and document["byLevel"]["invalid"] == 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("alice@example.com", "carries user information"),
        ("https://evil.com\\@good.com", "holds a backslash"),
        ("https://ex%61mple.com/", "percent-encoded host"),
    ],
)
def test_ambiguous_subjects_are_refused_in_one_line(value: str, message: str) -> None:
    result = run_cli("subject", value)
    assert result.code == 1 and message in result.error_line


def test_a_device_is_not_read_as_input(tmp_path: Path) -> None:
    result = run_cli("receipt", "verify", "/dev/zero", timeout=30)
    assert result.code == 1 and "/dev/zero is not a regular file" in result.error_line


@pytest.mark.parametrize("content", ["{}", "[]", '{"crypto": 5}'])
def test_a_keystore_of_the_wrong_shape_is_one_line(tmp_path: Path, content: str) -> None:
    keystore = tmp_path / "key.json"
    keystore.write_text(content)
    result = run_cli(
        "--network",
        "omachain-testnet",
        "review",
        "build",
        "--offline",
        "--subject",
        "did:web:x.example",
        "--rating",
        "3",
        "--keystore",
        str(keystore),
        env={"OMAREVIEW_KEYSTORE_PASSWORD": "x"},
    )
    assert result.code == 1 and "is not an Ethereum keystore" in result.error_line


def test_state_is_private_to_its_owner(tmp_path: Path) -> None:
    from omareview._home import home_dir
    from omareview.review.outbox import Outbox

    home = home_dir()
    outbox = Outbox()
    outbox.add("0x01", {"format": "eip712"})
    assert home.stat().st_mode & 0o777 == 0o700
    assert outbox.path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("rating", ["true", '"5"', "4.0"])
def test_submit_many_ratings_must_be_integers(tmp_path: Path, rating: str) -> None:
    lines = tmp_path / "reviews.jsonl"
    lines.write_text('{"subject": "did:web:x.example", "ratingValue": ' + rating + "}\n")
    result = run_cli(
        "--network",
        "omachain-testnet",
        "review",
        "submit-many",
        str(lines),
        env={"OMAREVIEW_PRIVATE_KEY": "0x" + "11" * 32},
    )
    assert result.code == 1 and "line 1: ratingValue: Input should be a valid integer" in result.error_line


@pytest.mark.devnet
def test_an_eas_address_without_code_is_refused_before_anything_is_sent(
    cli_env: dict[str, str], use_devnet: Devnet
) -> None:
    nowhere = use_devnet.state.accounts[3].address
    listing = run_cli("--eas-address", nowhere, "reviews", "did:web:x.example", env=cli_env)
    assert listing.code == 2 and f"no contract is deployed at {nowhere}" in listing.error_line
    submit = run_cli(
        "--eas-address",
        nowhere,
        "review",
        "submit",
        "--subject",
        "did:web:x.example",
        "--rating",
        "4",
        "--dev-account",
        "3",
        env=cli_env,
    )
    assert submit.code == 2 and "no contract is deployed" in submit.error_line


def test_an_absurd_issued_at_is_shown_not_crashed_on(tmp_path: Path) -> None:
    from omareview.x402 import Eip712Issuer, receipt_payload

    payload = receipt_payload("https://api.example.com/x", "0x857b06519E91e3A54538791bDbb0E22373e36b66", "eip155:8453")
    receipt = Eip712Issuer("0x" + "42" * 32).sign_receipt({**payload, "issuedAt": 2**255})
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt))
    result = run_cli("receipt", "verify", str(path), "--no-authorize")
    assert result.code == 1 and "s in the future" in result.error_line
    assert "not a representable time" in result.stdout


@pytest.mark.parametrize("accepts", ["5", "[5]", '["x", {}]'])
def test_a_402_whose_accepts_are_not_objects_is_one_error(accepts: str) -> None:
    from omareview.gate import Gate

    with pytest.raises(InputError, match="accepts"):
        Gate().decide("https://x.example/p", 402, {}, ('{"x402Version": 2, "accepts": ' + accepts + "}").encode())


def test_a_partial_policy_overrides_the_default_and_a_typo_is_named(omareview_home: Path) -> None:
    from omareview.errors import ConfigError
    from omareview.gate import DEFAULT_POLICY, load_policy

    policy_file = omareview_home / "policy.toml"
    policy_file.write_text("refuse_below_average = 3.5\n")
    policy = load_policy()
    assert policy.refuse_below_average == 3.5 and policy.tiers == DEFAULT_POLICY.tiers
    policy_file.write_text("refuse_below_averag = 3.5\n")
    with pytest.raises(ConfigError, match="refuse_below_averag: Extra inputs are not permitted"):
        load_policy()


def test_config_toml_names_an_unknown_key(omareview_home: Path) -> None:
    (omareview_home / "config.toml").write_text('[netwroks.mine]\nrpc-url = "http://127.0.0.1:1"\n')
    result = run_cli("--network", "mine", "reviews", "did:web:x.example")
    assert result.code == 2 and "unknown key 'netwroks'" in result.error_line


def test_an_attester_that_is_not_the_key_is_refused() -> None:
    result = run_cli(
        *("--network", "omachain-testnet", "review", "build", "--offline", "--subject", "did:web:x.example"),
        *("--rating", "4", "--attester", "0x" + "12" * 20),
        env={"OMAREVIEW_PRIVATE_KEY": "0x" + "11" * 32},
    )
    assert result.code == 2 and "is not the signing key's address" in result.error_line


def test_a_header_value_receipt_is_read_inline_not_as_a_file_name() -> None:
    """The same path serves `--receipt` and submit-many's `receipt` field."""
    from omareview.x402 import encode_header
    from tests.reviews import receipt_for

    key_address = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"  # the address of key 0x11…11
    settle = encode_header(
        {"success": True, "extensions": {"offer-receipt": {"info": {"receipt": receipt_for(key_address)}}}}
    )
    result = run_cli(
        *("--network", "omachain-testnet", "review", "build", "--offline"),
        *("--receipt", settle, "--rating", "5", "--no-authorize", "--json"),
        env={"OMAREVIEW_PRIVATE_KEY": "0x" + "11" * 32},
    )
    assert result.code == 0, result.stderr
    assert result.json()["subject"] == "did:web:api.example.com"


def test_check_gives_up_on_a_dripping_server_at_its_total_bound() -> None:
    import socket as sockets
    import threading
    import time

    listener = sockets.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def drip() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(4096)
            for byte in b"HTTP/1.1 402 Payment Required\r\nX-Padding: " + b"x" * 200:
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.05)

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    result = run_cli("check", f"http://127.0.0.1:{listener.getsockname()[1]}/paid", "--timeout", "1", timeout=30)
    listener.close()
    assert result.code == 3 and "did not answer within 1 s" in result.error_line
    assert time.monotonic() - started < 5, "the bound is total, not per byte"


def test_check_refuses_an_answer_past_its_size_bound_plain_or_compressed() -> None:
    """A URL a person typed that answers more than `check` reads (1 MiB), as is or once inflated, is the
    service's failure: one line, exit 3, whichever way it came."""
    import gzip

    from tests.servers import Reply, http_server

    huge = b"x" * (2 * 1024 * 1024)
    routes = {
        "/plain": Reply(402, huge),
        "/bomb": Reply(402, gzip.compress(huge), headers={"Content-Encoding": "gzip"}),
    }
    with http_server(routes) as server:
        plain = run_cli("check", f"{server.base_url}/plain", "--timeout", "5", timeout=60)
        bomb = run_cli("check", f"{server.base_url}/bomb", "--timeout", "5", timeout=60)
    assert plain.code == 3 and plain.error_line.endswith("answered more than 1024 KiB"), plain.stderr
    assert bomb.code == 3 and bomb.error_line.endswith("inflates to more than 1024 KiB"), bomb.stderr


def test_a_402_whose_accepts_is_a_number_is_refused_in_one_line_by_every_command(tmp_path: Path) -> None:
    from omareview.x402 import encode_header
    from omareview.x402.issue import offer_payload, offer_receipt_extension
    from tests.reviews import RESOURCE, SERVER

    accepts = {"scheme": "exact", "network": "eip155:1", "asset": "0x" + "33" * 20, "payTo": "0x" + "44" * 20}
    offer = SERVER.sign_offer(offer_payload(RESOURCE, {**accepts, "amount": "1"}), accept_index=0)
    message = {"x402Version": 2, "accepts": 5, "extensions": offer_receipt_extension(offers=[offer])}
    path = tmp_path / "402.json"
    path.write_text(json.dumps(message))
    lines = tmp_path / "reviews.jsonl"
    lines.write_text(json.dumps({"receipt": message, "ratingValue": 5}) + "\n")
    for args in (
        ("offer", "verify", str(path)),
        ("receipt", "verify", encode_header(message)),
        ("review", "build", "--receipt", str(path), "--rating", "5", "--attester", "0x" + "11" * 20, "--offline"),
        ("review", "submit-many", str(lines), "--rpc-url", "http://127.0.0.1:9", "--eas-address", "0x" + "22" * 20),
    ):
        result = run_cli(*args, env={"OMAREVIEW_PRIVATE_KEY": "0x" + "01" * 32})
        assert result.code in (1, 2), (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: "), result.stderr
        assert "TypeError" not in result.stderr and "unexpected" not in result.stderr, result.stderr


def test_a_malformed_eas_address_is_one_line_not_a_validation_dump() -> None:
    result = run_cli("--eas-address", "0x12", "--rpc-url", "http://127.0.0.1:9", "reviews", "https://a.example")
    assert result.code == 2, result.stderr
    assert result.stderr.strip() == "error: the EAS address '0x12' is not an address", result.stderr
