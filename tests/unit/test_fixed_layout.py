"""The fixed-layout decoders agree with eth_abi on every input: canonical encodings decode the same, and
anything irregular is handed to eth_abi (whose answer, or refusal, stands)."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from hypothesis import given, settings
from hypothesis import strategies as st

from omareview.eas._fixed_layout import decode_attestation_fields, decode_user_review_fields
from omareview.eas.abi import attestation_of, decode_attestation
from omareview.errors import InputError
from omareview.review.model import decode_user_review
from omareview.schemas import USER_REVIEW, get_schema

REVIEW_TYPES = ["string", "string", "uint256", "string", "string[]", "string[]"]
ATTESTATION = "(bytes32,bytes32,uint64,uint64,uint64,bytes32,address,address,bool,bytes)"
texts = st.text(max_size=80)
reviews = st.tuples(
    texts, texts, st.integers(0, 2**256 - 1), texts, st.lists(texts, max_size=4), st.lists(texts, max_size=4)
)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
attestations = st.tuples(
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.binary(min_size=32, max_size=32),
    addresses,
    addresses,
    st.booleans(),
    st.binary(max_size=300),
)


def _mutate(data: bytes, flips: list[tuple[int, int]], cut: int | None, extra: bytes) -> bytes:
    out = bytearray(data)
    for at, value in flips:
        if out:
            out[at % len(out)] = value
    if cut is not None:
        del out[cut % (len(out) + 1) :]
    return bytes(out) + extra


mutations = st.tuples(
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3),
    st.one_of(st.none(), st.integers(0, 10**6)),
    st.binary(max_size=40),
)


def _generic_review(data: bytes) -> Any:
    try:
        return tuple(abi_decode(REVIEW_TYPES, data, strict=False))
    except Exception as exc:
        return type(exc)


@settings(max_examples=300, deadline=None)
@given(reviews)
def test_canonical_review_data_decodes_like_eth_abi(fields: tuple[Any, ...]) -> None:
    data = abi_encode(REVIEW_TYPES, list(fields))
    fast = decode_user_review_fields(data)
    assert fast is not None, "the canonical encoding takes the fixed layout"
    assert fast == tuple(abi_decode(REVIEW_TYPES, data, strict=False))


@settings(max_examples=500, deadline=None)
@given(reviews, mutations)
def test_hostile_review_data_never_decodes_differently(fields: tuple[Any, ...], mutation: Any) -> None:
    data = _mutate(abi_encode(REVIEW_TYPES, list(fields)), *mutation)
    fast = decode_user_review_fields(data)
    if fast is not None:
        assert fast == _generic_review(data)
    schema = get_schema(USER_REVIEW).schema_string
    try:
        decoded: Any = decode_user_review(data)
    except InputError:
        decoded = InputError
    generic = _generic_review(data)
    if isinstance(generic, tuple):
        assert decoded == dict(zip([f.split()[-1] for f in schema.split(", ")], generic, strict=True))
    else:
        assert decoded is InputError


def _generic_attestation(raw: bytes) -> Any:
    try:
        (value,) = abi_decode([ATTESTATION], raw)
    except Exception as exc:
        return type(exc)
    return value


@settings(max_examples=300, deadline=None)
@given(attestations, mutations)
def test_attestations_decode_like_eth_abi(fields: tuple[Any, ...], mutation: Any) -> None:
    canonical = abi_encode([ATTESTATION], [fields])
    assert decode_attestation_fields(canonical) is not None
    for raw in (canonical, _mutate(canonical, *mutation)):
        generic = _generic_attestation(raw)
        try:
            ours: Any = decode_attestation(raw)
        except Exception as exc:
            ours = type(exc)
        if isinstance(generic, type):
            assert ours is generic or isinstance(ours, type)
            continue
        assert ours == attestation_of(generic)
