"""Scanning EAS `Attested` logs, and fetching attestation bodies in JSON-RPC batches.

Block ranges adapt and are learned: a range the node refuses (too wide, too many results; providers word it
in many ways) sets a ceiling, and the next range is the limit the refusal states when it states one, else
half; ranges grow again while answers come quickly, but never back to a size the node refused, so a long scan
stays just under the node's limit instead of being refused every other call; a range that held many logs
shrinks the next one to about `TARGET_LOGS`. A reply is parsed as it streams in and handed on in pieces at
block boundaries, so memory does not grow with a range's density (a node that sets no result limit can
answer a dense range with a hundred thousand logs). Transient failures are retried with backoff, from the
first block not yet handed on. Only logs emitted by the EAS contract itself count (a resolver could emit
look-alike events).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from omareview.eas.abi import (
    ATTESTED_TOPIC,
    GET_ATTESTATION,
    REVOKED_TOPIC,
    Attestation,
    decode_attestation,
    encode_call,
)
from omareview.eas.rpc import RpcClient
from omareview.errors import ChainError

__all__ = [
    "BATCH_SIZE",
    "FAST_ANSWER_S",
    "INITIAL_RANGE",
    "MAX_RANGE",
    "MAX_TRANSIENT_RETRIES",
    "TARGET_LOGS",
    "YIELD_LOGS",
    "AttestedLog",
    "LogScanner",
    "address_topic",
    "attested_logs",
    "attested_topics",
    "fetch_attestations",
    "parse_attested_log",
    "topic_address",
]

INITIAL_RANGE = 50_000
MAX_RANGE = 2_000_000
FAST_ANSWER_S = 1.0
MAX_TRANSIENT_RETRIES = 6
BATCH_SIZE = 200
# A range's logs are handed on in pieces of about this many (at block boundaries) as its reply streams in.
YIELD_LOGS = 2_000
# A range that held more logs than this is shrunk to hold about this many at the same density.
TARGET_LOGS = 10_000
_RANGE_REFUSAL = re.compile(
    r"range|too many|more than|limit|exceed|too large|too big|response size|timeout|timed out|max.*block",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AttestedLog:
    uid: str
    recipient: str
    attester: str
    schema: str
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    revoked: bool = False

    @property
    def key(self) -> str:
        """What the log is about: the attestation's UID, or `revoked:<uid>` for its revocation."""
        return f"revoked:{self.uid}" if self.revoked else self.uid


def address_topic(address: str) -> str:
    """An address as an indexed log topic (left-padded to 32 bytes)."""
    return "0x" + "00" * 12 + address.lower().removeprefix("0x")


def topic_address(topic: object) -> str:
    """The address an indexed log topic carries, lowercase."""
    return "0x" + str(topic)[-40:].lower()


def parse_attested_log(log: dict[str, object]) -> AttestedLog:
    topics = log.get("topics")
    if not isinstance(topics, list) or len(topics) < 4:
        raise ChainError("the node answered an Attested log without its four topics", reason="scan-failed")
    return AttestedLog(
        uid=str(log["data"])[:66].lower(),
        recipient=topic_address(topics[1]),
        attester=topic_address(topics[2]),
        schema=str(topics[3]).lower(),
        block_number=int(str(log["blockNumber"]), 16),
        block_hash=str(log["blockHash"]).lower(),
        tx_hash=str(log["transactionHash"]).lower(),
        log_index=int(str(log["logIndex"]), 16),
        revoked=str(topics[0]).lower() == REVOKED_TOPIC,
    )


def attested_topics(
    schemas: Sequence[str] | None = None,
    recipient: str | None = None,
    attester: str | None = None,
    *,
    revocations: bool = False,
) -> list[object]:
    """The `eth_getLogs` topic filter for `Attested` (topic1 recipient, topic2 attester, topic3 schema), and
    `Revoked` too (same layout) with `revocations`."""
    return [
        [ATTESTED_TOPIC, REVOKED_TOPIC] if revocations else ATTESTED_TOPIC,
        address_topic(recipient) if recipient else None,
        address_topic(attester) if attester else None,
        [s.lower() for s in schemas] if schemas else None,
    ]


def _emitted_by(log: dict[str, object], eas: str) -> bool:
    """The log was emitted by the EAS contract itself (lowercase `eas`) and not removed by a reorg."""
    return str(log.get("address", "")).lower() == eas and not log.get("removed")


def _in_block_order(logs: Sequence[AttestedLog]) -> list[AttestedLog]:
    return sorted(logs, key=lambda log: (log.block_number, log.log_index))


def attested_logs(raw: Sequence[dict[str, object]], eas_address: str) -> list[AttestedLog]:
    """The logs the EAS contract itself emitted (not removed by a reorg), parsed, in block order."""
    eas = eas_address.lower()
    return _in_block_order([parse_attested_log(log) for log in raw if _emitted_by(log, eas)])


class LogScanner:
    """Walks a block interval in adaptive chunks; reports progress as (done_to_block, to_block)."""

    def __init__(
        self,
        rpc: RpcClient,
        eas_address: str,
        *,
        initial_range: int = INITIAL_RANGE,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.rpc = rpc
        self.eas_address = eas_address.lower()
        self.range = initial_range
        self.progress = progress
        self.ceiling: int | None = None  # the smallest range the node refused

    def _stream_logs(self, start: int, end: int, topics: list[object]) -> Iterator[AttestedLog]:
        """The EAS contract's own logs of [start, end], parsed as the reply arrives."""
        params = {"address": self.eas_address, "fromBlock": hex(start), "toBlock": hex(end), "topics": topics}
        for raw in self.rpc.stream_result("eth_getLogs", [params]):
            if not isinstance(raw, dict):
                raise ChainError("eth_getLogs returned something other than log objects", reason="scan-failed")
            if _emitted_by(raw, self.eas_address):
                yield parse_attested_log(raw)

    def _refused(self, size: int, message: str) -> None:
        """Learn from a refused range: the limit the message states, else half of what was refused; ranges
        never grow back past what the node refused."""
        stated = [int(n) for n in re.findall(r"\d+", message) if 0 < int(n) < size]
        self.range = max(stated) if stated else max(1, size // 2)
        self.ceiling = min(self.ceiling or size, self.range + 1)

    def scan(
        self,
        from_block: int,
        to_block: int,
        *,
        schemas: Sequence[str] | None = None,
        recipient: str | None = None,
        attester: str | None = None,
    ) -> Iterator[list[AttestedLog]]:
        """Yield the matching `Attested` logs chunk by chunk, in block order."""
        for _, logs in self.scan_through(from_block, to_block, schemas=schemas, recipient=recipient, attester=attester):
            yield logs

    def scan_through(
        self,
        from_block: int,
        to_block: int,
        *,
        schemas: Sequence[str] | None = None,
        recipient: str | None = None,
        attester: str | None = None,
        revocations: bool = False,
    ) -> Iterator[tuple[int, list[AttestedLog]]]:
        """As `scan`, each chunk with the last block it covers (every block up to it has been read); with
        `revocations`, `Revoked` logs too."""
        topics = attested_topics(schemas, recipient, attester, revocations=revocations)
        start, failures = from_block, 0
        while start <= to_block:
            end = min(start + self.range - 1, to_block)
            began, first = time.monotonic(), start
            count, pending = 0, list[AttestedLog]()
            try:
                for log in self._stream_logs(start, end, topics):
                    count += 1
                    if len(pending) >= YIELD_LOGS and log.block_number > pending[-1].block_number:
                        # Every block before this log's is complete: hand them on, so a dense range costs
                        # the memory of a few thousand logs, not of its whole reply.
                        through = log.block_number - 1
                        yield through, _in_block_order(pending)
                        pending, start = [], through + 1
                    pending.append(log)
            except ChainError as exc:
                failures += 1
                if failures > MAX_TRANSIENT_RETRIES:
                    raise ChainError(
                        f"scanning blocks {start}-{end} kept failing: {exc}", reason="scan-failed"
                    ) from exc
                if _RANGE_REFUSAL.search(str(exc)) or failures > 2:
                    self._refused(end - start + 1, str(exc))
                time.sleep(min(0.05 * failures, 0.5))
                continue
            failures = 0
            size = end - first + 1
            if count > TARGET_LOGS:
                # A dense stretch: the next range is sized to hold about TARGET_LOGS at this density.
                self.range = max(1, min(self.range, size * TARGET_LOGS // count))
            elif time.monotonic() - began < FAST_ANSWER_S:
                self.range = min(self.range * 2, MAX_RANGE, (self.ceiling or MAX_RANGE + 1) - 1)
            yield end, _in_block_order(pending)
            if self.progress is not None:
                self.progress(end, to_block)
            start = end + 1


def fetch_attestations(rpc: RpcClient, eas_address: str, uids: Sequence[str]) -> list[Attestation]:
    """`getAttestation` for many UIDs, `BATCH_SIZE` per JSON-RPC batch request, in UID order."""
    found: list[Attestation] = []
    for offset in range(0, len(uids), BATCH_SIZE):
        chunk = uids[offset : offset + BATCH_SIZE]
        calls = [
            (
                "eth_call",
                [
                    {"to": eas_address, "data": "0x" + encode_call(GET_ATTESTATION, [bytes.fromhex(u[2:])]).hex()},
                    "latest",
                ],
            )
            for u in chunk
        ]
        for result in _batch_with_retry(rpc, calls):
            found.append(decode_attestation(bytes.fromhex(str(result).removeprefix("0x"))))
    return found


def _batch_with_retry(rpc: RpcClient, calls: Sequence[tuple[str, Sequence[object]]]) -> list[object]:
    for attempt in range(1, MAX_TRANSIENT_RETRIES + 1):
        try:
            return rpc.batch(calls)
        except ChainError:
            if attempt == MAX_TRANSIENT_RETRIES:
                raise
            time.sleep(min(0.05 * attempt, 0.5))
    raise AssertionError("unreachable")
