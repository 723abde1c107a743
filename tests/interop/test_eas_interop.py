"""Reviews written here decode with eas-sdk's SchemaEncoder; reviews written by eas-sdk decode here."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from omareview.eas.client import EasClient, review_request
from omareview.eas.scanner import LogScanner
from omareview.networks import Network
from omareview.review import decode_user_review, review_from_receipt
from omareview.schemas import get_schema
from omareview.signers import Signer
from tests.helpers import run_node
from tests.reviews import artifact, receipt_for

SCHEMA = get_schema("user-review").schema_string
pytestmark = pytest.mark.chain_isolated


def test_reviews_written_here_decode_with_eas_sdk(network: Network, dev_signer: Callable[[int], Signer]) -> None:
    attester = dev_signer(1)
    review, _ = review_from_receipt(
        artifact(receipt_for(attester.address)),
        attester.address,
        rating=4,
        body="très bien ✓",
        screenshots=["https://s.example/a.png"],
        version="1.0",
    )
    client = EasClient(network, attester)
    submitted = client.attest(review_request(review.recipient, review.encode()))
    (onchain,) = client.attestations([submitted.uid])
    decoded = run_node("eas_reference.mjs", {"action": "decode", "schema": SCHEMA, "data": "0x" + onchain.data.hex()})
    assert {item["name"]: item["value"] for item in decoded} == {
        "subject": "did:web:api.example.com",
        "version": "1.0",
        "ratingValue": "4",
        "reviewBody": "très bien ✓",
        "screenshotUrls": ["https://s.example/a.png"],
        "proofs": list(review.proofs),
    }
    # Only proofs whose meaning OMATrust defines for what they are: the receipt, no settlement pointer.
    wrappers = [json.loads(text) for text in decoded[-1]["value"]]
    assert [w["proofType"] for w in wrappers] == ["x402-receipt"]


def test_reviews_written_by_eas_sdk_decode_here(network: Network, devnet_key: Callable[[int], str]) -> None:
    fields = [
        {"name": "subject", "type": "string", "value": "did:web:api.example.com"},
        {"name": "version", "type": "string", "value": ""},
        {"name": "ratingValue", "type": "uint256", "value": 2},
        {"name": "reviewBody", "type": "string", "value": "written by eas-sdk"},
        {"name": "screenshotUrls", "type": "string[]", "value": []},
        {"name": "proofs", "type": "string[]", "value": ['{"proofType":"x402-receipt","proofObject":{}}']},
    ]
    written = run_node(
        "eas_reference.mjs",
        {
            "action": "attest",
            "rpcUrl": network.rpc_url,
            "easAddress": network.eas_address,
            "privateKey": devnet_key(9),
            "schemaUid": network.schema_uid(),
            "schema": SCHEMA,
            "reviews": [{"recipient": "0x09a34a416806a7eba14b6b183369082602e8064b", "fields": fields}],
        },
    )
    uid = written["results"][0]["uid"]
    client = EasClient(network)
    (onchain,) = client.attestations([uid])
    assert decode_user_review(onchain.data) == {
        "subject": "did:web:api.example.com",
        "version": "",
        "ratingValue": 2,
        "reviewBody": "written by eas-sdk",
        "screenshotUrls": (),
        "proofs": ('{"proofType":"x402-receipt","proofObject":{}}',),
    }
    logs = [
        log
        for chunk in LogScanner(client.rpc, network.eas_address).scan(
            0, client.rpc.block_number(), schemas=[network.schema_uid()]
        )
        for log in chunk
    ]
    assert uid in {log.uid for log in logs}
