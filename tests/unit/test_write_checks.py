"""What a relayed write must be before the chain is asked anything is a pure function of the signed request
(`serve.write_checks`): each refusal is tested here without a devnet, with a real signature."""

from __future__ import annotations

import dataclasses

import pytest

from omareview.eas.abi import RequestData
from omareview.eas.client import review_request
from omareview.eas.delegation import DelegatedAttestation, EasDomain, attest_digest
from omareview.errors import InputError
from omareview.review.model import new_review
from omareview.serve.write_checks import MAX_DATA_BYTES, checked_request
from omareview.signers import signer_from_key

SCHEMA = "0x" + "5c" * 32
DOMAIN = EasDomain("EAS", "1.3.0", 31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
NOW = 1_900_000_000
PAYER = signer_from_key("0x" + "42" * 32)


def _signed(request: RequestData, *, schema: str = SCHEMA, deadline: int = NOW + 600) -> DelegatedAttestation:
    v, r, s = PAYER.sign_hash(attest_digest(DOMAIN, PAYER.address, schema, request, 0, deadline))
    return DelegatedAttestation(DOMAIN, schema, request, PAYER.address, 0, deadline, v, r, s)


REVIEW = new_review(subject="did:web:api.example.com", rating_value=5, review_body="worth it")
REQUEST = review_request(REVIEW.recipient, REVIEW.encode())


def test_a_well_formed_signed_review_passes_and_gives_its_review() -> None:
    assert checked_request(_signed(REQUEST), SCHEMA, NOW) == REVIEW


@pytest.mark.parametrize(
    ("delegated", "reason"),
    [
        (_signed(REQUEST, deadline=NOW + 10), "signature-expired"),
        (_signed(REQUEST, schema="0x" + "77" * 32), "schema-not-subsidized"),
        (dataclasses.replace(_signed(REQUEST), attester="0x" + "11" * 20), "attester-mismatch"),
        (_signed(REQUEST._replace(revocable=True)), "bad-review"),
        (_signed(REQUEST._replace(value=1)), "bad-review"),
        (_signed(REQUEST._replace(data=REQUEST.data + b"\0" * 32)), "bad-review"),
        (_signed(REQUEST._replace(data=b"\1" * (MAX_DATA_BYTES + 1))), "too-large"),
        (_signed(REQUEST._replace(recipient="0x" + "22" * 20)), "bad-review"),
    ],
    ids=["deadline", "schema", "attester", "revocable", "value", "trailing-bytes", "size", "recipient"],
)
def test_each_refusal_names_its_reason(delegated: DelegatedAttestation, reason: str) -> None:
    with pytest.raises(InputError) as refused:
        checked_request(delegated, SCHEMA, NOW)
    assert refused.value.reason == reason
