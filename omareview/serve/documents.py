"""The documents the provider answers with: what a payment's write link says, an attester's nonce, and a
review written."""

from __future__ import annotations

from omareview._wire import WireModel
from omareview.eas.delegation import RelayDomain

__all__ = ["EasTarget", "NonceDocument", "PaymentInfo", "PaymentRef", "Written"]


class PaymentRef(WireModel):
    """A settlement: its network and transaction.

    Attributes:
        network: the CAIP-2 network.
        transaction: the transaction hash.
    """

    network: str
    transaction: str


class EasTarget(WireModel):
    """Where a review of a payment is written.

    Attributes:
        chain_id: the review network's chain.
        address: its EAS contract.
        domain: the EIP-712 domain delegated attestations are signed under.
        schema_uid: the User Review schema.
    """

    chain_id: int
    address: str
    domain: RelayDomain
    schema_uid: str


class PaymentInfo(WireModel):
    """`GET /r/<payment>`: what a payer needs to review the payment.

    Attributes:
        payment: the payment the link names.
        reviewed: the UID of its review, once written (None: none yet).
        eas: where and how to sign it.
        nonce: where the payer's delegation nonce is read.
        write: what to POST.
    """

    payment: PaymentRef
    reviewed: str | None
    eas: EasTarget
    nonce: str = "/v1/nonce?attester=<payer>"
    write: str = "POST this URL the OMATrust delegated-attest body, signed by the wallet that paid"


class NonceDocument(WireModel):
    """`GET /v1/nonce`: an attester's next EAS delegation nonce.

    Attributes:
        nonce: the nonce, as a decimal string.
        chain: the review network's name.
        chain_id: its chain.
        eas_address: its EAS contract.
    """

    nonce: str
    chain: str
    chain_id: int
    eas_address: str


class Written(WireModel):
    """A review the provider put on-chain.

    Attributes:
        uid: the attestation UID.
        tx_hash: the relayer's transaction.
        block_number: its block.
        attester: the payer, recorded as attester.
        subject: the reviewed subject DID.
        success: always true (the OMATrust relay's answer has it).
    """

    uid: str
    tx_hash: str
    block_number: int
    attester: str
    subject: str
    success: bool = True
