"""Sending transactions: simulate first (so reverts come back decoded), sign locally, send, wait.

Account nonces are handed out by one process-wide tracker per (endpoint, sender), so concurrent sends
from one key never reuse a nonce; a nonce error resynchronises from the node and retries once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from omareview.eas.abi import decode_revert
from omareview.eas.rpc import RpcClient, RpcError
from omareview.errors import ChainError
from omareview.keys import Signer

__all__ = ["GAS_MARGIN", "RECEIPT_TIMEOUT_S", "TX_GAS_CAP", "NonceTracker", "Receipt", "TxSender"]

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


class NonceTracker:
    _lock: ClassVar[threading.Lock] = threading.Lock()
    _next: ClassVar[dict[tuple[str, str], int]] = {}

    @classmethod
    def reserve(cls, rpc: RpcClient, address: str) -> int:
        key = (rpc.url, address)
        with cls._lock:
            if key not in cls._next:
                cls._next[key] = int(rpc.call("eth_getTransactionCount", [address, "pending"]), 16)
            nonce = cls._next[key]
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

    def send(self, to: str, data: bytes, what: str, gas: int | None = None) -> str:
        """Simulate, sign and send; returns the transaction hash."""
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
        for attempt in (1, 2):
            tx["nonce"] = NonceTracker.reserve(self.rpc, self.signer.address)
            raw = self.signer.sign_transaction(tx)
            try:
                return str(self.rpc.call("eth_sendRawTransaction", ["0x" + raw.hex()]))
            except RpcError as exc:
                if "nonce" in exc.rpc_message.lower() and attempt == 1:
                    NonceTracker.forget(self.rpc, self.signer.address)
                    continue
                NonceTracker.forget(self.rpc, self.signer.address)
                raise ChainError(
                    f"{what}: the node refused the transaction ({exc.rpc_message})", reason="transaction-failed"
                ) from exc
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
