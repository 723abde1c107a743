"""Writing attestations: one (`attest`), many (`multiAttest`, chunked under the per-transaction gas cap by
`eas._batching`), and delegated (`attestByDelegation`, signed by the attester, sent by a relayer)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from omareview._hashing import to_checksum_address
from omareview._offloop import async_face
from omareview._wire import WireModel
from omareview.eas._batching import BatchSizer
from omareview.eas._nonces import delegation_nonces
from omareview.eas._tx import GAS_MARGIN, TX_GAS_CAP, NonceTracker, Receipt, SendJournal, TxSender
from omareview.eas.abi import (
    ATTESTED_TOPIC,
    GET_NONCE,
    ZERO_UID,
    Attestation,
    RequestData,
    attest_by_delegation_call,
    attest_call,
    encode_call,
    multi_attest_call,
    revoke_call,
)
from omareview.eas.delegation import DelegatedAttestation, EasDomain, attest_digest, detect_domain
from omareview.eas.rpc import RpcClient, RpcError
from omareview.errors import ChainError, ConfigError
from omareview.networks import Network
from omareview.signers import SignerLike, as_signer

__all__ = [
    "DEFAULT_DEADLINE_S",
    "AsyncEasClient",
    "EasClient",
    "Progress",
    "Submitted",
    "reset_nonce_tracking",
    "review_request",
]

DEFAULT_DEADLINE_S = 600
Progress = Callable[[str], None]


class Submitted(WireModel):
    """One attestation on-chain.

    Attributes:
        uid: its UID.
        tx_hash: its transaction.
        block_number: its block.
        gas_used: its transaction's gas (shared by a batch).
        attester: who attested.
        recipient: the subject's DID address.
        schema_uid: the schema.
    """

    uid: str
    tx_hash: str
    block_number: int
    gas_used: int
    attester: str
    recipient: str
    schema_uid: str


def reset_nonce_tracking() -> None:
    """Forget locally tracked account and delegation nonces: call after rewinding a chain."""
    NonceTracker.reset()
    delegation_nonces.reset()


class EasClient:
    """EAS on one network: attest, attest in batches, sign and send delegated attestations, read back.

    Parameters:
        network: the chain, EAS address and schema UIDs.
        signer: who sends transactions (the attester, or the relayer for delegated ones): a `Signer`, a
            `LocalAccount`, a private key or any `HashSigner`; None to only read.
        rpc: a JSON-RPC client to reuse (None: one for `network.rpc_url`).
    """

    def __init__(self, network: Network, signer: SignerLike | None = None, *, rpc: RpcClient | None = None) -> None:
        self.network = network
        self.signer = as_signer(signer) if signer is not None else None
        self.rpc = rpc or RpcClient(network.rpc_url)
        self.eas_address = to_checksum_address(network.eas_address)
        self._chain_id = network.chain_id
        self._domain: EasDomain | None = None
        self._sizer = BatchSizer()

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.rpc.chain_id()
        return self._chain_id

    def check_chain(self) -> None:
        """Refuse to work when the node is on another chain than the network says, or EAS is not there."""
        self._chain_id = self.rpc.check_deployment(self.eas_address, self.network.chain_id, self.network.name)

    def sender(self) -> TxSender:
        """The transaction sender of this client's signer."""
        if self.signer is None:
            raise ConfigError("sending needs a signing key", reason="attestation-failed")
        return TxSender(self.rpc, self.signer, self.chain_id)

    def _uids(self, receipt: Receipt) -> list[str]:
        eas = self.eas_address.lower()
        return [
            str(log["data"])[:66].lower()
            for log in receipt.logs
            if str(log["address"]).lower() == eas and str(log["topics"][0]).lower() == ATTESTED_TOPIC
        ]

    def _submitted(
        self, receipt: Receipt, requests: Sequence[RequestData], attester: str, schema: str
    ) -> list[Submitted]:
        uids = self.uids_in(receipt, len(requests))
        return [
            Submitted(
                uid=uid,
                tx_hash=receipt.tx_hash,
                block_number=receipt.block_number,
                gas_used=receipt.gas_used,
                attester=attester,
                recipient=r.recipient.lower(),
                schema_uid=schema,
            )
            for uid, r in zip(uids, requests, strict=True)
        ]

    def attest(
        self, request: RequestData, schema_uid: str | None = None, *, journal: SendJournal | None = None
    ) -> Submitted:
        """One attestation in one transaction (recorded in `journal` before it is broadcast)."""
        schema = schema_uid or self.network.schema_uid()
        sender = self.sender()
        tx_hash = sender.send(self.eas_address, attest_call(schema, request), "attest", journal=journal)
        return self._submitted(sender.wait(tx_hash, "attest"), [request], sender.signer.address, schema)[0]

    def revoke(self, uid: str, schema_uid: str) -> str:
        """Revoke one of this signer's revocable attestations; the mined transaction's hash."""
        sender = self.sender()
        tx_hash = sender.send(self.eas_address, revoke_call(schema_uid, uid), "revoke")
        return sender.wait(tx_hash, "revoke").tx_hash

    def _gas_if_fits(self, sender: TxSender, schema: str, requests: Sequence[RequestData]) -> int | None:
        """Estimated gas of one multiAttest of `requests` (with the send margin), or None when over the cap.

        Only an out-of-gas answer means "too big"; a node that fails or garbles its answer raises ChainError,
        which is no verdict on the reviews.
        """
        try:
            gas = sender.estimate_gas(self.eas_address, multi_attest_call(schema, requests), "multiAttest")
        except RpcError as exc:
            if "gas" in exc.rpc_message.lower():
                return None
            raise
        return gas if gas * GAS_MARGIN <= TX_GAS_CAP else None

    def receipt_of(self, tx_hash: str) -> Receipt | None:
        """The mined receipt of `tx_hash` (None while it is pending or unknown); a revert is raised."""
        sender = self.sender()
        if self.rpc.call("eth_getTransactionReceipt", [tx_hash]) is None:
            return None
        return sender.wait(tx_hash, "attestation")

    def uids_in(self, receipt: Receipt, count: int) -> list[str]:
        """The UIDs a mined transaction of `count` attestations produced, in request order."""
        uids = self._uids(receipt)
        if len(uids) != count:
            raise ChainError(
                f"transaction {receipt.tx_hash} emitted {len(uids)} Attested events for {count} requests",
                reason="attestation-failed",
            )
        return uids

    def attest_many(
        self,
        requests: Sequence[RequestData],
        schema_uid: str | None = None,
        progress: Progress | None = None,
        *,
        journal: Callable[[range], SendJournal | None] | None = None,
    ) -> list[Submitted]:
        """multiAttest in as few transactions as the gas cap allows. Each batch is sized against the state
        it will meet, sent at once, and all are awaited at the end. `journal(positions)` gives the journal
        for the batch carrying the requests at those positions."""
        schema = schema_uid or self.network.schema_uid()
        sender = self.sender()
        remaining, sent = list(requests), []
        while remaining:
            size, gas = self._sizer.largest_fitting_prefix(
                remaining, lambda batch: self._gas_if_fits(sender, schema, batch)
            )
            start = len(requests) - len(remaining)
            batch, remaining = remaining[:size], remaining[size:]
            if progress is not None:
                progress(f"sending a batch of {size} ({len(requests) - len(remaining)}/{len(requests)})")
            batch_journal = journal(range(start, start + size)) if journal is not None else None
            call = multi_attest_call(schema, batch)
            sent.append((sender.send(self.eas_address, call, "multiAttest", gas=gas, journal=batch_journal), batch))
        results: list[Submitted] = []
        for tx_hash, batch in sent:
            results += self._submitted(sender.wait(tx_hash, "multiAttest"), batch, sender.signer.address, schema)
        return results

    def domain(self) -> EasDomain:
        if self._domain is None:
            self._domain = detect_domain(self.rpc, self.eas_address, self.chain_id)
        return self._domain

    def nonce_of(self, attester: str) -> int:
        raw = self.rpc.eth_call(self.eas_address, encode_call(GET_NONCE, [to_checksum_address(attester)]))
        return int.from_bytes(raw[:32], "big")

    def sign_delegated(
        self,
        request: RequestData,
        attester: SignerLike,
        *,
        schema_uid: str | None = None,
        deadline: int | None = None,
        nonce: int | None = None,
    ) -> DelegatedAttestation:
        """Sign an `Attest` for `request` as `attester`, with the next free nonce (tracked locally too)."""
        attester = as_signer(attester)
        schema = schema_uid or self.network.schema_uid()
        domain = self.domain()
        if nonce is None:
            key = (self.rpc.url, self.eas_address, attester.address)
            nonce = delegation_nonces.next(key, lambda: self.nonce_of(attester.address))
        deadline = int(time.time()) + DEFAULT_DEADLINE_S if deadline is None else deadline
        v, r, s = attester.sign_hash(attest_digest(domain, attester.address, schema, request, nonce, deadline))
        return DelegatedAttestation(domain, schema, request, attester.address, nonce, deadline, v, r, s)

    def _delegated_call(self, delegated: DelegatedAttestation) -> bytes:
        deadline = None if delegated.domain.type_set == "legacy" else delegated.deadline
        return attest_by_delegation_call(
            delegated.schema_uid, delegated.request, delegated.v, delegated.r, delegated.s, delegated.attester, deadline
        )

    def estimate_delegated(self, delegated: DelegatedAttestation) -> int:
        """The gas relaying `delegated` takes (EasRevertError when EAS would refuse it), before any is spent."""
        return self.sender().estimate_gas(self.eas_address, self._delegated_call(delegated), "attestByDelegation")

    def submit_delegated(self, delegated: DelegatedAttestation, gas: int | None = None) -> Submitted:
        """Send a delegated attestation from this client's signer (the relayer); `gas` is its estimate, when
        the caller already made one."""
        sender = self.sender()
        tx_hash = sender.send(self.eas_address, self._delegated_call(delegated), "attestByDelegation", gas)
        receipt = sender.wait(tx_hash, "attestByDelegation")
        return self._submitted(receipt, [delegated.request], delegated.attester, delegated.schema_uid)[0]

    def attestations(self, uids: Sequence[str]) -> list[Attestation]:
        from omareview.eas.scanner import fetch_attestations

        return fetch_attestations(self.rpc, self.eas_address, uids)


def review_request(recipient: str, data: bytes) -> RequestData:
    """The request OMATrust User Reviews use: no expiry, irrevocable, no reference, no value."""
    return RequestData(to_checksum_address(recipient), 0, False, ZERO_UID, data, 0)


class AsyncEasClient:
    """EAS for asyncio agents: every method of `EasClient`, with its parameters, each call run in a worker
    thread, so the event loop is never blocked on the node (`sender` and `uids_in` do no I/O: use `client`).

    Parameters:
        client: the synchronous `EasClient` whose work is run.
    """

    def __init__(self, client: EasClient) -> None:
        self.client = client

    attest = async_face(EasClient.attest, "client")
    attest_many = async_face(EasClient.attest_many, "client")
    attestations = async_face(EasClient.attestations, "client")
    check_chain = async_face(EasClient.check_chain, "client")
    domain = async_face(EasClient.domain, "client")
    estimate_delegated = async_face(EasClient.estimate_delegated, "client")
    nonce_of = async_face(EasClient.nonce_of, "client")
    receipt_of = async_face(EasClient.receipt_of, "client")
    revoke = async_face(EasClient.revoke, "client")
    sign_delegated = async_face(EasClient.sign_delegated, "client")
    submit_delegated = async_face(EasClient.submit_delegated, "client")
