"""Sending transactions: simulate first (so reverts come back decoded), sign locally, journal, send, wait.

Account nonces are handed out by one process-wide tracker per (endpoint, sender), so concurrent sends
from one key never reuse a nonce; a journal (the outbox) also raises the floor to one past the nonces it
holds in flight, across processes. A signed transaction goes to the journal *before* it is broadcast. When
the node refuses it (it answered, so the transaction is not in its pool and can never be mined from there),
the journal writes it off and a nonce clash is retried with a fresh nonce; when the node cannot be reached,
the transaction may have left, so it stays in the journal for the next run to look for.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from omareview._hashing import keccak
from omareview.eas.abi import decode_revert
from omareview.eas.rpc import RpcClient, RpcError
from omareview.errors import ChainError
from omareview.keys import Signer

__all__ = [
    "GAS_MARGIN",
    "RECEIPT_TIMEOUT_S",
    "TX_GAS_CAP",
    "NonceTracker",
    "Receipt",
    "SendJournal",
    "SignedTx",
    "TxSender",
    "is_nonce_clash",
]

TX_GAS_CAP = 16_777_216
GAS_MARGIN = 1.2
RECEIPT_TIMEOUT_S = 120.0
_POLL_S = 0.02


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int
    logs: list[dict[str, Any]]


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

    def _fees(self) -> dict[str, int]:
        block = self.rpc.call("eth_getBlockByNumber", ["latest", False])
        base_fee = int(block.get("baseFeePerGas") or "0x0", 16)
        try:
            priority = int(self.rpc.call("eth_maxPriorityFeePerGas"), 16)
        except RpcError:
            priority = 10**9
        return {"maxFeePerGas": 2 * base_fee + priority, "maxPriorityFeePerGas": priority}

    def broadcast(self, raw: bytes) -> None:
        """Send signed bytes; an `already known` answer means the node has them, which is success."""
        try:
            self.rpc.call("eth_sendRawTransaction", ["0x" + raw.hex()])
        except RpcError as exc:
            if "already known" not in exc.rpc_message.lower():
                raise

    def send(
        self, to: str, data: bytes, what: str, gas: int | None = None, *, journal: SendJournal | None = None
    ) -> str:
        """Simulate, sign, journal and send; returns the transaction hash."""
        needed = gas if gas is not None else self.estimate_gas(to, data, what)
        limit = min(int(needed * GAS_MARGIN), TX_GAS_CAP) if needed <= TX_GAS_CAP else needed
        tx: dict[str, Any] = {
            "to": to,
            "data": data,
            "value": 0,
            "gas": limit,
            "chainId": self.chain_id,
            **self._fees(),
        }
        address = self.signer.address
        attempts = 5
        for attempt in range(attempts):
            floor = journal.nonce_floor(address) if journal is not None else 0
            tx["nonce"] = NonceTracker.reserve(self.rpc, address, floor)
            raw = self.signer.sign_transaction(tx)
            signed = SignedTx("0x" + keccak(raw).hex(), raw, tx["nonce"])
            if journal is not None:
                journal.record(address, signed)
            try:
                self.broadcast(raw)
            except RpcError as exc:
                if journal is not None:
                    journal.void(signed.tx_hash)
                NonceTracker.forget(self.rpc, address)
                if is_nonce_clash(exc.rpc_message) and attempt < attempts - 1:
                    continue
                raise ChainError(
                    f"{what}: the node refused the transaction ({exc.rpc_message})", reason="transaction-failed"
                ) from exc
            except ChainError:
                NonceTracker.forget(self.rpc, address)
                raise
            return signed.tx_hash
        raise AssertionError("unreachable")

    def wait(self, tx_hash: str, what: str, timeout_s: float = RECEIPT_TIMEOUT_S) -> Receipt:
        deadline = time.monotonic() + timeout_s
        while True:
            receipt = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
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

    def _revert_reason(self, tx_hash: str, receipt: dict[str, Any], what: str) -> Exception:
        tx = self.rpc.call("eth_getTransactionByHash", [tx_hash])
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
        try:
            self.rpc.call("eth_call", [call, receipt["blockNumber"]])
        except RpcError as exc:
            return decode_revert(exc.data, what)
        return ChainError(f"{what}: transaction {tx_hash} failed (status 0)")
