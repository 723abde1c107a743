"""OMATrust cross-implementation vectors (`tests/vectors/omatrust.json`): subject DIDs and their hashes, the
User Review encoding, proof wrappers, and Key Binding and Linked Identifier proofs in every form the spec
and OMATrust's SDK write, checked without a devnet."""

from __future__ import annotations

import json
from typing import Any

import pytest

from omareview.errors import InputError
from omareview.identity import did_address, did_hash, subject_did
from omareview.identity.graph import IdentityAttestation, ListGraph
from omareview.identity.links import link_between
from omareview.identity.pop import read_pop
from omareview.review.model import decode_user_review, new_review
from omareview.review.proofs import Proof, parse_proof
from tests.vectors import load

VECTORS = load("omatrust")
PROOFS: dict[str, Any] = VECTORS["identityProofs"]


@pytest.mark.parametrize("case", VECTORS["subjectDids"], ids=lambda c: c["input"])
def test_subject_dids_and_their_addresses(case: dict[str, str]) -> None:
    assert subject_did(case["input"]) == case["did"]
    assert did_hash(case["input"]) == case["hash"]
    assert did_address(case["did"]) == case["recipient"]


def test_the_user_review_encoding_both_ways() -> None:
    vector = VECTORS["userReview"]
    fields = vector["fields"]
    review = new_review(
        subject=fields["subject"],
        version=fields["version"],
        rating_value=fields["ratingValue"],
        review_body=fields["reviewBody"],
        screenshot_urls=tuple(fields["screenshotUrls"]),
        proofs=tuple(fields["proofs"]),
    )
    assert "0x" + review.encode().hex() == vector["data"]
    decoded = decode_user_review(bytes.fromhex(vector["data"][2:]))
    assert decoded["subject"] == fields["subject"] and decoded["ratingValue"] == fields["ratingValue"]
    assert list(decoded["proofs"]) == fields["proofs"]


@pytest.mark.parametrize("wrapper", VECTORS["proofWrappers"], ids=lambda w: w["proofType"])
def test_proof_wrappers_carry_the_spec_s_purpose(wrapper: dict[str, str]) -> None:
    written = json.loads(Proof.wrap(wrapper["proofType"], {}).to_text())  # type: ignore[arg-type]
    assert (written["proofType"], written["proofPurpose"]) == (wrapper["proofType"], wrapper["proofPurpose"])
    parsed = parse_proof(json.dumps({**wrapper, "proofObject": {}}))
    assert parsed is not None and parsed.proof_type == wrapper["proofType"]


@pytest.mark.parametrize("case", PROOFS["keyBinding"]["subjectSide"], ids=lambda c: c["form"])
def test_key_binding_subject_side_proofs_in_every_form(case: dict[str, Any]) -> None:
    """Each recovers the controller that signed it and names the key, so a binding it is in counts."""
    read = read_pop(case["proof"], expected_signer=PROOFS["signer"])
    assert read.address == PROOFS["signer"]
    assert read.audience == PROOFS["keyBinding"]["keyId"]
    assert read.holds_at(PROOFS["at"])


@pytest.mark.parametrize("case", PROOFS["linkedIdentifier"]["proofs"], ids=lambda c: c["form"])
def test_linked_identifier_proofs_in_every_form(case: dict[str, Any]) -> None:
    read = read_pop(case["proof"])
    assert read.address == PROOFS["signer"]
    assert read.audience == PROOFS["linkedIdentifier"]["linkedId"]


def test_a_tampered_vector_proves_nothing() -> None:
    case = PROOFS["keyBinding"]["subjectSide"][0]["proof"]
    tampered = json.loads(json.dumps(case))
    tampered["proofObject"]["message"]["authorizedEntity"] = "did:pkh:eip155:1:0x" + "cc" * 20
    with pytest.raises(InputError, match="not the signer.s"):
        read_pop(tampered)


def test_a_one_sided_link_from_the_vectors_does_not_hold() -> None:
    link = PROOFS["linkedIdentifier"]
    fields = {
        "subject": link["subject"],
        "linkedId": link["linkedId"],
        "proofs": [json.dumps(link["proofs"][0]["proof"])],
        "issuedAt": PROOFS["at"] - 60,
    }
    attestation = IdentityAttestation(
        "0x1", "linked-identifier", PROOFS["signer"].lower(), PROOFS["at"] - 60, 0, fields
    )
    linked = "0x" + "bb" * 20
    assert link_between(ListGraph([attestation]), PROOFS["signer"], linked, PROOFS["at"]) is None
