import json

import pytest

from omareview.schemas import EasSchema, all_schemas, data_file, get_schema, schema_by_uid, schema_uid

USER_REVIEW_UID = "0x7ab3911527e5e47eaab9f5a2c571060026532dde8cb4398185553053963b2a47"


def test_schema_uid_vectors_from_eas_reference() -> None:
    assert (
        schema_uid("string subject,uint8 rating,string comment,bytes32 contentHash,string[] tags", revocable=True)
        == "0xbd2d5113e822935244f914ff0fdddde0e97b23220a99d6657193e3a0ffeeebbd"
    )
    assert (
        schema_uid("string subject,uint8 rating", revocable=False)
        == "0x64ede2e0e5315d698a9593cf2d64a14b1a3d328be20ea950d17372f99e00b126"
    )


def test_user_review_schema_is_the_omatrust_one() -> None:
    review = get_schema("user-review")
    assert review.uid == USER_REVIEW_UID
    assert review.revocable is False
    assert review.schema_string == (
        "string subject, string version, uint256 ratingValue, string reviewBody, "
        "string[] screenshotUrls, string[] proofs"
    )
    assert review.known_uids[66238] == USER_REVIEW_UID


def test_every_current_and_legacy_schema_is_present() -> None:
    names = {s.name for s in all_schemas()}
    assert {
        "user-review",
        "user-review-response",
        "linked-identifier",
        "key-binding",
        "controller-witness",
        "security-assessment",
        "certification",
    } <= names
    legacy = [s for s in all_schemas() if s.legacy]
    assert sorted((s.kind, s.uid[:10]) for s in legacy) == [
        ("key-binding", "0x290ce7f9"),  # the prior, non-revocable Key Binding and Linked Identifier
        ("linked-identifier", "0xed79388b"),
        ("user-review", "0x21deb2c3"),
        ("user-review", "0x86891951"),
        ("user-review", "0xdcc94cf5"),
    ]
    assert all(not s.revocable for s in legacy)
    assert [s.name for s in all_schemas(include_legacy=False)] == [s.name for s in all_schemas() if not s.legacy]


def test_revocable_flags() -> None:
    assert get_schema("linked-identifier").revocable is True
    assert get_schema("key-binding").revocable is True
    assert get_schema("controller-witness").revocable is False


def test_every_listed_uid_recomputes() -> None:
    for schema in all_schemas():
        assert schema_uid(schema.schema_string, schema.resolver, schema.revocable) == schema.uid


def test_a_wrong_uid_in_the_data_is_refused() -> None:
    with pytest.raises(ValueError, match="parameters give"):
        EasSchema.model_validate(
            {"name": "x", "title": "x", "schema": "string a", "revocable": False, "uid": "0x" + "00" * 32}
        )


def test_lookup_by_uid_and_unknown_name() -> None:
    assert schema_by_uid(USER_REVIEW_UID.upper().replace("0X", "0x")) == get_schema("user-review")
    assert schema_by_uid("0x" + "11" * 32) is None
    with pytest.raises(KeyError, match="unknown OMATrust schema 'nope'"):
        get_schema("nope")


def test_user_review_input_json_schema_carries_the_limits() -> None:
    doc = json.loads(data_file("user-review.input.schema.json").read_text())
    props = doc["properties"]
    assert props["ratingValue"]["minimum"] == 1 and props["ratingValue"]["maximum"] == 5
    assert props["reviewBody"]["maxLength"] == 500
    assert props["screenshotUrls"]["maxItems"] == 10
    assert props["screenshotUrls"]["items"]["maxLength"] == 256
    assert props["version"]["pattern"] == r"^(\d+(\.\d+){0,2})?$"
