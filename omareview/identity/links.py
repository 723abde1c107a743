"""Which Linked Identifier binds a reviewer's wallet to the account that paid: both sides must have signed
a proof of shared control naming the other. Apart from the graph, which only holds attestations, so that
reading the index loads no proof code."""

from __future__ import annotations

from omareview._hashing import is_address
from omareview.errors import InputError
from omareview.identity.dids import normalize_did
from omareview.identity.graph import IdentityAttestation, IdentityGraph
from omareview.identity.keys import key_from_did
from omareview.identity.pop import denotes, proves

__all__ = ["link_between"]


def _mutually_proved(attestation: IdentityAttestation, one: str, other: str, at: int) -> bool:
    """Each of the two DIDs signed a proof of shared control naming the other (holding at `at`)."""
    proofs = attestation.texts("proofs")
    return any(proves(p, one, other, at) for p in proofs) and any(proves(p, other, one, at) for p in proofs)


def link_between(graph: IdentityGraph, attester: str, payer: str, at: int) -> IdentityAttestation | None:
    """The Linked Identifier, written by `attester` and holding at `at`, that binds the EVM wallet `attester`
    to the account `payer` (an EVM address or a Solana address), both sides having signed a proof of shared
    control; None when there is none."""
    evm = is_address(payer)
    for link in sorted(graph.by(attester, "linked-identifier"), key=lambda a: a.time, reverse=True):
        if not link.holds_at(at):
            continue
        subject, linked = link.text("subject"), link.text("linkedId")
        for own, other in ((subject, linked), (linked, subject)):
            if not denotes(own, address=attester):
                continue
            if not _names_account(other, payer, evm):
                continue
            if _mutually_proved(link, own, other, link.time):
                return link
    return None


def _names_account(did: str, account: str, evm: bool) -> bool:
    """Whether `did` is the DID of `account`: its eip155 `did:pkh` (any chain) for an EVM address, its
    solana `did:pkh` for a Solana address (a `did:jwk`/`did:key` is matched through the proof's key)."""
    try:
        parts = normalize_did(did).split(":")
    except InputError:
        return False
    if parts[1] == "pkh" and len(parts) == 5:
        if evm:
            return parts[2] == "eip155" and parts[4] == account.lower()
        return parts[2] == "solana" and parts[4] == account
    if not evm and parts[1] in ("jwk", "key"):
        try:
            return denotes(f"did:pkh:solana:any:{account}", key=key_from_did(did))
        except InputError:
            return False
    return False
