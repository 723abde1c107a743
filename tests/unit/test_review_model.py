import json

import pytest

from omareview.errors import InputError
from omareview.review import Proof, check_payer_is_attester, new_review, parse_proof, review_from_receipt
from tests.reviews import SERVER, artifact, receipt_for

PAYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
BASE = {"subject": "did:web:api.example.com", "rating_value": 5}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rating_value": 0}, "the rating must be a whole number from 1 to 5, not 0"),
        ({"rating_value": 6}, "not 6"),
        ({"rating_value": True}, "not True"),
        ({"rating_value": "5"}, "not '5'"),
        ({"review_body": "x" * 501}, "the review body is 501 characters; at most 500 are allowed"),
        ({"screenshot_urls": ("https://s.example/a.png",) * 11}, "11 screenshot URLs given; at most 10 are allowed"),
        ({"screenshot_urls": ("https://s.example/" + "a" * 250,)}, "is longer than 256 characters"),
        ({"screenshot_urls": ("ftp://s.example/a",)}, "is not an http(s) URL"),
        ({"version": "v1"}, "version 'v1' must look like 1, 1.2 or 1.2.3"),
        ({"version": "1.2.3.4"}, "must look like"),
        ({"subject": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}, "not did:key"),
        ({"subject": "did:"}, "is not a DID"),
        ({"surprise": 1}, "surprise: extra inputs are not permitted"),
    ],
)
def test_limits_are_enforced_with_clear_messages(change: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        new_review(**{**BASE, **change})


def test_limits_at_their_edges_are_accepted() -> None:
    review = new_review(
        **BASE,
        review_body="x" * 500,
        screenshot_urls=tuple(f"https://s.example/{i}.png" for i in range(10)),
        version="1.2.3",
    )
    assert review.subject == "did:web:api.example.com"
    assert new_review(**{**BASE, "subject": "https://WWW.api.example.com/x"}).subject == "did:web:api.example.com"


def test_proof_text_keeps_the_receipt_exactly() -> None:
    receipt = {"format": "eip712", "payload": {"z": 1, "a": "é", "n": 10**20}, "signature": "0x"}
    text = Proof.wrap("x402-receipt", receipt).to_text()
    assert (
        text
        == '{"proofType":"x402-receipt","proofPurpose":"commercial-tx","proofObject":{"format":"eip712","payload":{"z":1,"a":"é","n":100000000000000000000},"signature":"0x"}}'
    )
    parsed = parse_proof(text)
    assert parsed is not None and parsed.proof_object == receipt
    assert parse_proof("not json") is None and parse_proof("[1]") is None and parse_proof('{"proofType":1}') is None


def test_building_from_a_receipt() -> None:
    receipt = artifact(receipt_for(PAYER))
    review, result = review_from_receipt(receipt, PAYER.lower(), rating=4, body="ok")
    assert review.subject == "did:web:api.example.com" and result.signer is not None
    assert json.loads(review.proofs[0])["proofObject"] == receipt.envelope


def test_payer_must_be_the_attester_and_the_message_says_which_is_which() -> None:
    with pytest.raises(InputError, match=f"the receipt's payer is {PAYER} but the signing wallet is {OTHER}"):
        review_from_receipt(artifact(receipt_for(PAYER)), OTHER, rating=5)
    with pytest.raises(InputError, match="payer is not-an-address"):
        check_payer_is_attester("not-an-address", OTHER)


def test_an_invalid_receipt_or_mismatched_offer_is_refused() -> None:
    tampered = receipt_for(PAYER)
    tampered["payload"] = {**tampered["payload"], "version": 2}
    with pytest.raises(InputError, match="the receipt does not verify: payload version must be 1"):
        review_from_receipt(artifact(tampered), PAYER, rating=5)
    offer = SERVER.sign_offer(
        {
            "version": 1,
            "resourceUrl": "https://other.example/x",
            "scheme": "exact",
            "network": "eip155:31337",
            "asset": "0x0",
            "payTo": PAYER,
            "amount": "1",
        }
    )
    with pytest.raises(
        InputError, match="the offer is for did:web:other.example, the receipt for did:web:api.example.com"
    ):
        review_from_receipt(artifact(receipt_for(PAYER)), PAYER, rating=5, offer=artifact(offer))
