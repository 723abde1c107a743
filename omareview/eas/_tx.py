"""Sending transactions: simulate first (so reverts come back decoded), sign locally, journal, send, wait.

Account nonces are handed out by one process-wide tracker per (endpoint, sender), so concurrent sends
from one key never reuse a nonce; a journal (the outbox) also raises the floor to one past the nonces it
holds in flight, across processes. A signed transaction goes to the journal *before* it is broadcast.

Settle first: whenever a broadcast gets no clear answer (a lost or malformed reply, a timeout, or a refusal
such as `nonce too low`, `already imported` or `replacement underpriced`, which a node also gives when an
earlier copy of the same transaction reached it), the transaction's fate is looked up by its hash and the
account's mined nonce before anything is signed again (`TxSender.fate`). A transaction the node knows
(pending or mined) is the send's result; one whose nonce the node still has open is broadcast again, byte
for byte; only one that can never be mined (its nonce mined by another transaction, or refused outright
while unknown to the node) is written off, and only then is the work signed into a new transaction. When
the fate cannot be looked up, the transaction stays in the journal and the error says so: the next run
settles it the same way.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from omareview._hashing import keccak
from omareview._json import JsonObject
from omareview.eas.abi import decode_revert
from omareview.eas.rpc import RpcClient, RpcError
from omareview.errors import ChainError
from omareview.signers import Eip1559Transaction, Signer

__all__ = [
    "GAS_MARGIN",
    "RECEIPT_TIMEOUT_S",
    "TX_GAS_CAP",
    "NonceTracker",
    "Receipt",
    "SendJournal",
    "SignedTx",
    "TxFate",
    "TxSender",
    "is_nonce_clash",
]

TX_GAS_CAP = 16_777_216
GAS_MARGIN = 1.2
RECEIPT_TIMEOUT_S = 120.0
_POLL_S = 0.02
#: How often one send broadcasts the same bytes again while the node has not got them.
_REBROADCASTS = 3

#: What became of a signed transaction: the node has it (pending or mined); it is unknown and its nonce is
#: still open (its bytes may be broadcast again); or it can never be mined.
TxFate = Literal["known", "open", "dead"]


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    logs: list[JsonObject]


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction: its hash, its bytes and its nonce."""

    tx_hash: str
    raw: bytes
    nonce: int


class SendJournal(Protocol):
    """Where signed transactions are recorded before they are broadcast (the outbox, for reviews)."""

    def nonce_floor(self, sender: str) -> int:
        """The lowest nonce not held by a journalled transaction that may still be mined."""
        ...

    def record(self, sender: str, signed: SignedTx) -> None:
        """Record `signed` durably; called before broadcast."""
        ...

    def void(self, tx_hash: str) -> None:
        """The node refused `tx_hash`: it can never be mined from there."""
        ...


_CLASH_MARKERS = ("nonce", "replacement", "underpriced", "already imported")


def is_nonce_clash(message: str) -> bool:
    """A refusal because the nonce is taken or out of order: another nonce will do."""
    lowered = message.lower()
    return any(marker in lowered for marker in _CLASH_MARKERS)


class NonceTracker:
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _next: ClassVar[dict[tuple[str, str], int]] = {}

    @classmethod
    def reserve(cls, rpc: RpcClient, address: str, floor: int = 0) -> int:
        key = (rpc.url, address)
        with cls._lock:
            if key not in cls._next:
                cls._next[key] = int(rpc.call("eth_getTransactionCount", [address, "pending"]), 16)
            nonce = max(cls._next[key], floor)
            cls._next[key] = nonce + 1
            return nonce

    @classmethod
    def reset(cls) -> None:
        """Forget every tracked nonce (after the chain was rewound, e.g. by evm_revert)."""
        with cls._lock:
            cls._next.clear()

    @classmethod
    def forget(cls, rpc: RpcClient, address: str) -> None:
        with cls._lock:
            cls._next.pop((rpc.url, address), None)


class TxSender:
    def __init__(self, rpc: RpcClient, signer: Signer, chain_id: int) -> None:
        self.rpc = rpc
        self.signer = signer
        self.chain_id = chain_id

    def estimate_gas(self, to: str, data: bytes, what: str) -> int:
        """Gas the call needs; a revert is raised as a decoded EasRevertError."""
        call = {"from": self.signer.address, "to": to, "data": "0x" + data.hex()}
        try:
            return int(self.rpc.call("eth_estimateGas", [call]), 16)
        except RpcError as exc:
            if exc.data is not None or "revert" in exc.rpc_message.lower():
                raise decode_revert(exc.data, what) from None
            raise

    def _fees(self) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas): twice the base fee plus the node's suggested tip."""
        block = self.rpc.call("eth_getBlockByNumber", ["latest", False])
        base_fee = int(block.get("baseFeePerGas") or "0x0", 16)
        try:
            priority = int(self.rpc.call("eth_maxPriorityFeePerGas"), 16)
        except RpcError:
            priority = 10**9
        return 2 * base_fee + priority, priority

    def broadcast(self, raw: bytes) -> None:
        """Send signed bytes; an `already known` answer means the node has them, which is success."""
        try:
            self.rpc.call("eth_sendRawTransaction", ["0x" + raw.hex()])
        except RpcError as exc:
            if "already known" not in exc.rpc_message.lower():
                raise

    def fate(self, tx_hash: str, nonce: int) -> TxFate:
        """What became of a transaction of this sender's whose broadcast had no clear answer, from its hash
        and the account's mined nonce; ChainError when the node cannot tell now."""
        if self.rpc.call("eth_getTransactionByHash", [tx_hash]) is not None:
            return "known"
        mined = int(self.rpc.call("eth_getTransactionCount", [self.signer.address, "latest"]), 16)
        if mined <= nonce:
            return "open"
        # The nonce is spent: by this transaction, mined since the first look, or by another one.
        return "known" if self.rpc.call("eth_getTransactionByHash", [tx_hash]) is not None else "dead"

    def send(
        self, to: str, data: bytes, what: str, gas: int | None = None, *, journal: SendJournal | None = None
    ) -> str:
        """Simulate, sign, journal and send; returns the transaction hash. Exactly once: see the module."""
        needed = gas if gas is not None else self.estimate_gas(to, data, what)
        limit = min(int(needed * GAS_MARGIN), TX_GAS_CAP) if needed <= TX_GAS_CAP else needed
        max_fee, tip = self._fees()
        address = self.signer.address
        attempts = 5
        for attempt in range(attempts):
            floor = journal.nonce_floor(address) if journal is not None else 0
            tx: Eip1559Transaction = {
                "chainId": self.chain_id,
                "nonce": NonceTracker.reserve(self.rpc, address, floor),
                "maxPriorityFeePerGas": tip,
                "maxFeePerGas": max_fee,
                "gas": limit,
                "to": to,
                "value": 0,
                "data": data,
            }
            raw = self.signer.sign_transaction(tx)
            signed = SignedTx("0x" + keccak(raw).hex(), raw, tx["nonce"])
            if journal is not None:
                journal.record(address, signed)
            refusal = self._deliver(signed, what, journal is not None)
            if refusal is None:
                return signed.tx_hash
            # It can never be mined: written off, and the work signed anew only when another nonce will do.
            if journal is not None:
                journal.void(signed.tx_hash)
            NonceTracker.forget(self.rpc, address)
            if not (refusal == "dead" or is_nonce_clash(refusal)) or attempt == attempts - 1:
                why = "its nonce went to another transaction" if refusal == "dead" else refusal
                raise ChainError(f"{what}: the node refused the transaction ({why})", reason="transaction-failed")
        raise AssertionError("unreachable")

    def _deliver(self, signed: SignedTx, what: str, journalled: bool) -> str | None:
        """Broadcast `signed` until the node has it (None) or it provably never can be mined (the node's
        refusal, or `dead`: its nonce went to another transaction). An outcome that cannot be settled now
        raises ChainError (`transaction-unsettled`), the journal keeping the transaction."""
        later = (
            "it is recorded, and the next attempt settles it before signing anything again"
            if journalled
            else "look it up before sending the same work again"
        )
        lost: ChainError | None = None
        for _ in range(_REBROADCASTS):
            try:
                self.broadcast(signed.raw)
                return None
            except RpcError as exc:
                refusal = exc.rpc_message
            except ChainError as exc:
                refusal = None
                lost = exc
            try:
                fate = self.fate(signed.tx_hash, signed.nonce)
            except ChainError as exc:
                NonceTracker.forget(self.rpc, self.signer.address)
                raise ChainError(
                    f"{what}: transaction {signed.tx_hash} was sent, but the node could not say what became of it "
                    f"({later})",
                    reason="transaction-unsettled",
                ) from exc
            if fate == "known":
                return None
            if fate == "dead":
                return "dead"
            if refusal is not None:
                return refusal  # refused outright and unknown to the node: nobody else holds these bytes
        NonceTracker.forget(self.rpc, self.signer.address)
        raise ChainError(
            f"{what}: transaction {signed.tx_hash} could not be delivered ({later})",
            reason="transaction-unsettled",
        ) from lost

    def wait(self, tx_hash: str, what: str, timeout_s: float = RECEIPT_TIMEOUT_S) -> Receipt:
        deadline = time.monotonic() + timeout_s
        glitches = 0
        while True:
            try:
                receipt = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
            except RpcError:
                raise
            except ChainError:
                # A lost or garbled answer to a read says nothing of the transaction: ask again, a few times.
                glitches += 1
                if glitches > _REBROADCASTS or time.monotonic() > deadline:
                    raise
                time.sleep(_POLL_S)
                continue
            if receipt is not None:
                break
            if time.monotonic() > deadline:
                raise ChainError(
                    f"{what}: transaction {tx_hash} was not mined within {timeout_s:.0f} s", reason="transaction-failed"
                )
            time.sleep(_POLL_S)
        if int(receipt["status"], 16) != 1:
            raise self._revert_reason(tx_hash, receipt, what)
        return Receipt(
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"], 16),
            block_hash=str(receipt["blockHash"]),
            gas_used=int(receipt["gasUsed"], 16),
            logs=list(receipt["logs"]),
        )

    def _revert_reason(self, tx_hash: str, receipt: JsonObject, what: str) -> Exception:
        tx = self.rpc.call("eth_getTransactionByHash", [tx_hash])
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
        try:
            self.rpc.call("eth_call", [call, receipt["blockNumber"]])
        except RpcError as exc:
            return decode_revert(exc.data, what)
        return ChainError(f"{what}: transaction {tx_hash} failed (status 0)")
