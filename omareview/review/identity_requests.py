"""Writing OMATrust's identity attestations: Key Bindings, Linked Identifiers, Controller Witnesses and
User Review Responses, each as the `RequestData` of one EAS attestation.

Each is sent to its subject's DID address, as OMATrust's SDK does. Key Bindings and Linked Identifiers are
revocable and carry their `expiresAt` as EAS's expiration too; witnesses and responses are irrevocable.
Proofs are stored as JSON text, one string per proof, as the OMATrust portal writes them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from omareview._json import JsonObject
from omareview.eas.abi import ZERO_UID, RequestData
from omareview.eas.client import EasClient
from omareview.eas.schema_codec import decode_fields, encode_data
from omareview.errors import InputError
from omareview.identity.dids import did_address, normalize_did
from omareview.identity.graph import IdentityAttestation, IdentityKind, ListGraph
from omareview.identity.links import link_between
from omareview.schemas import get_schema

__all__ = [
    "controller_witness_request",
    "fetch_identity_attestation",
    "key_binding_request",
    "linked_identifier_request",
    "payer_link_checker",
    "response_request",
]


def _request(kind: str, subject: str, values: Sequence[Any], *, expires_at: int = 0) -> RequestData:
    schema = get_schema(kind)
    data = encode_data(schema.schema_string, values)
    return RequestData(did_address(subject), expires_at, schema.revocable, ZERO_UID, data)


def _proofs(proofs: Sequence[JsonObject]) -> list[str]:
    return [json.dumps(proof, separators=(",", ":"), ensure_ascii=False) for proof in proofs]


def key_binding_request(
    subject: str,
    key_id: str,
    public_key_jwk: dict[str, str] | None,
    purposes: Sequence[str],
    proofs: Sequence[JsonObject],
    *,
    issued_at: int,
    effective_at: int = 0,
    expires_at: int = 0,
) -> RequestData:
    """A Key Binding: `subject` (a did:web) binds the key `key_id` for `purposes`."""
    did = normalize_did(subject)
    jwk = json.dumps(public_key_jwk, separators=(",", ":"), sort_keys=True) if public_key_jwk else ""
    values = [did, key_id, jwk, list(purposes), _proofs(proofs), issued_at, effective_at, expires_at]
    return _request("key-binding", did, values, expires_at=expires_at)


def linked_identifier_request(
    subject: str,
    linked_id: str,
    proofs: Sequence[JsonObject],
    *,
    issued_at: int,
    effective_at: int = 0,
    expires_at: int = 0,
) -> RequestData:
    """A Linked Identifier: `subject` and `linked_id` are controlled by one party (method `proof`)."""
    did = normalize_did(subject)
    values = [did, normalize_did(linked_id), "proof", _proofs(proofs), issued_at, effective_at, expires_at]
    return _request("linked-identifier", did, values, expires_at=expires_at)


def controller_witness_request(subject: str, controller: str, method: str, observed_at: int) -> RequestData:
    """A Controller Witness: the attester observed `controller` named by `subject`'s `method` at a time."""
    did = normalize_did(subject)
    return _request("controller-witness", did, [did, normalize_did(controller), method, observed_at])


def response_request(reviewer: str, review_uid: str, body: str) -> RequestData:
    """A User Review Response to the review `review_uid`, whose subject field is its reviewer's DID."""
    did = normalize_did(reviewer)
    return _request("user-review-response", did, [did, review_uid.lower(), body])


def fetch_identity_attestation(client: EasClient, uid: str, kind: IdentityKind) -> IdentityAttestation:
    """The identity attestation `uid` as the chain holds it now (its revocation included), decoded; an
    InputError when there is none of that kind on the client's network."""
    found = client.attestations([uid])[0]
    schema = get_schema(kind)
    if not found.time or found.schema.lower() != client.network.schema_uid(kind).lower():
        raise InputError(f"{uid} is not a {schema.title} on {client.network.name}", reason="not-found")
    fields = decode_fields(schema.schema_string, found.data)
    return IdentityAttestation(uid.lower(), kind, found.attester.lower(), found.time, found.revocation_time, fields)


def payer_link_checker(link: IdentityAttestation, attester: str, at: int) -> Callable[[str], str | None]:
    """For a receipt paid by another wallet: the link's UID when `link` binds `attester` to that payer at
    time `at` (both sides' proofs verified), else None."""
    graph = ListGraph([link])

    def linked(payer: str) -> str | None:
        found = link_between(graph, attester, payer, at)
        return found.uid if found is not None else None

    return linked
