"""Payment evidence: whether the money moved, checked on the payment network.

A review is **payment-backed** (the x402 `reviews` extension's term; level `paid` here) when its settlement
transaction is final and successful on the payment network and moved at least the offered amount of the
offered asset from the reviewer's wallet (the receipt's payer) to a `payTo` bound to the subject, and no
transfer of that asset went back from that `payTo` to the payer afterwards (else: `refunded`).

The transfer is read from the asset's ERC-20 `Transfer` logs in the transaction receipt, which covers
EIP-3009 `transferWithAuthorization` and Permit2 settlements alike. A claim that names no transaction
(an x402 receipt is privacy-minimal by default, and a review need carry no pointer) is settled by
searching: the payer's `Transfer` of the asset to a bound `payTo` in the blocks from SETTLED_WITHIN_S
before the receipt's `issuedAt` to CLOCK_SKEW_S after it (a receipt is signed once the settlement is in),
found by searching block times, every claim of a network in the same batches; each transfer backs one
claim. Which `payTo` is bound to the subject is
the caller's judgement (`PaymentClaim.pay_to`); an address with no binding proves nothing, since anyone can
pay a wallet of their own.

Checks are batched per network: the receipts of every claimed transaction and the finality marker in one
JSON-RPC batch, then every refund look-up in a second; answers are cached per transaction. A network that
cannot be asked yields `unavailable` and a transaction not yet final `pending`: neither is a verdict, and
the caller judges again later. Only EVM networks (`eip155:*`) are read; others are `unsupported-network`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from omareview._hashing import keccak, to_checksum_address
from omareview.eas.rpc import RpcClient, RpcError
from omareview.eas.scanner import address_topic, topic_address
from omareview.errors import ChainError, InputError
from omareview.networks import DEFAULT_CONFIRMATIONS, PaymentNetwork
from omareview.review.evidence import PaymentEvidence, PaymentStatus

__all__ = [
    "TRANSFER_TOPIC",
    "EvmPaymentChecker",
    "FundingCheck",
    "PaidPayment",
    "PaymentChecker",
    "PaymentClaim",
    "PaymentEvidence",
    "PaymentStatus",
    "PaymentVerifier",
    "parse_payment_tx",
]

TRANSFER_TOPIC = "0x" + keccak(b"Transfer(address,address,uint256)").hex()
#: How long before a receipt's `issuedAt` its settlement is looked for, and how far after (clock skew).
SETTLED_WITHIN_S = 900
CLOCK_SKEW_S = 120
#: A block-time search stops once a range is this narrow, or after this many rounds (the window then reads a
#: wider range); matches are checked by their block's time either way.
_NARROW_BLOCKS = 512
_MAX_SEARCH_ROUNDS = 48
#: Claims whose windows are this close share one log query (a span stays well inside nodes' range limits).
_SPAN_S = 1800
_TX_HASH = re.compile(r"0x[0-9a-fA-F]{64}")


def parse_payment_tx(value: str) -> tuple[str, str]:
    """`<CAIP-2 network>:<transaction hash>` (as `eip155:8453:0xabc…`) → (network, hash)."""
    network, sep, tx_hash = value.strip().rpartition(":")
    if not sep or network.count(":") != 1 or not _TX_HASH.fullmatch(tx_hash):
        raise InputError(
            f"{value!r} is not <network>:<transaction>, e.g. eip155:8453:0x followed by 64 hex digits",
            reason="bad-payment-tx",
        )
    return network, tx_hash.lower()


@dataclass(frozen=True)
class PaymentClaim:
    """What a review says was paid, with the subject's bound `payTo` addresses.

    Parameters:
        network: the payment's CAIP-2 network.
        tx_hash: the settlement transaction (None: search for it around `issued_at`).
        payer: the wallet that must have paid (the receipt's payer, the review's attester).
        asset: the offered asset (None: any asset counts, for a claim without terms).
        amount: the offered amount in atomic units (None: any amount).
        pay_to: the addresses bound to the subject, lowercase (None: any recipient, for a payer checking
            that a transaction is its own payment).
        issued_at: the receipt's `issuedAt`, around which a settlement not named is searched for.
    """

    network: str
    tx_hash: str | None
    payer: str
    asset: str | None
    amount: int | None
    pay_to: frozenset[str] | None
    issued_at: int | None = None


@dataclass(frozen=True)
class PaidPayment:
    """A payment judged `paid`, watched for a refund.

    Parameters:
        uid: the review it backs.
        network: the payment's CAIP-2 network.
        asset: the asset that moved.
        pay_to: where it went.
        payer: who paid (the review's attester).
        block_number: the settlement's block.
    """

    uid: str
    network: str
    asset: str
    pay_to: str
    payer: str
    block_number: int


@dataclass(frozen=True)
class FundingCheck:
    """Whether a payer received the payment asset from one of `funders` shortly before it paid.

    Parameters:
        network: the payment's CAIP-2 network.
        asset: the payment asset.
        funders: the addresses whose transfers count (the `payTo`, lowercase).
        payer: who paid, lowercase.
        block_number: the payment's block.
        window_s: how long before the payment a transfer counts.
        hops: how many transfers may lie between the funders and the payer (1: a direct transfer).
    """

    network: str
    asset: str
    funders: frozenset[str]
    payer: str
    block_number: int
    window_s: float
    hops: int = 1


class PaymentChecker(Protocol):
    """Reads the payments of one family of networks (a CAIP-2 namespace, as `eip155`); another family
    (Solana, say) is added by giving `PaymentVerifier` a checker for its namespace."""

    def check(self, network: str, claims: Sequence[PaymentClaim]) -> list[PaymentEvidence]:
        """Evidence for each claim on `network`, in order. Raises ChainError when the network cannot be asked."""
        ...

    def refunded(self, network: str, paid: Sequence[PaidPayment]) -> list[str]:
        """The UIDs among `paid` (all on `network`) whose money went back to the payer after it was paid.
        Raises ChainError when the network cannot be asked."""
        ...

    def funded(self, network: str, checks: Sequence[FundingCheck]) -> list[bool]:
        """For each check (all on `network`), whether the payer was funded by one of its funders in its
        window. Raises ChainError when the network cannot be asked."""
        ...


class PaymentVerifier:
    """Checks claimed payments, each on its own network, through the checker of the network's namespace.

    Parameters:
        networks: CAIP-2 network → how to read it, for the EVM checker.
        checkers: namespace → checker, added to (or replacing) the EVM one.
    """

    def __init__(
        self, networks: Mapping[str, PaymentNetwork], checkers: Mapping[str, PaymentChecker] | None = None
    ) -> None:
        self.checkers: dict[str, PaymentChecker] = {"eip155": EvmPaymentChecker(networks), **(checkers or {})}

    def verify(self, claims: Sequence[PaymentClaim]) -> list[PaymentEvidence]:
        """Evidence for each claim, in order; a network that cannot be asked yields `unavailable`."""
        results: list[PaymentEvidence | None] = [None] * len(claims)
        by_network: dict[str, list[int]] = {}
        for index, claim in enumerate(claims):
            if claim.network.split(":", 1)[0] not in self.checkers:
                results[index] = PaymentEvidence(
                    status="unsupported-network",
                    network=claim.network,
                    tx_hash=claim.tx_hash,
                    reason=f"payments on {claim.network} are not read here",
                )
            else:
                by_network.setdefault(claim.network, []).append(index)
        for network, indexes in by_network.items():
            checker = self.checkers[network.split(":", 1)[0]]
            try:
                judged = checker.check(network, [claims[i] for i in indexes])
            except ChainError as exc:
                judged = [
                    PaymentEvidence(
                        status="unavailable",
                        network=network,
                        tx_hash=claims[i].tx_hash,
                        reason=f"the payment network could not be asked ({exc})",
                    )
                    for i in indexes
                ]
            for index, evidence in zip(indexes, judged, strict=True):
                results[index] = evidence
        return [evidence for evidence in results if evidence is not None]

    def funded(self, checks: Sequence[FundingCheck]) -> list[bool]:
        """For each check, whether the payer was funded by one of its funders in its window (False when the
        network cannot be asked now: the judgement is made again later)."""
        results = [False] * len(checks)
        by_network: dict[str, list[int]] = {}
        for index, check in enumerate(checks):
            if check.network.split(":", 1)[0] in self.checkers:
                by_network.setdefault(check.network, []).append(index)
        for network, indexes in by_network.items():
            try:
                answers = self.checkers[network.split(":", 1)[0]].funded(network, [checks[i] for i in indexes])
            except ChainError:
                continue
            for index, answer in zip(indexes, answers, strict=True):
                results[index] = answer
        return results

    def refunded(self, paid: Sequence[PaidPayment]) -> list[str]:
        """The UIDs among `paid` whose money went back to the payer since; a network that cannot be asked
        now is skipped (asked again at the next watch)."""
        by_network: dict[str, list[PaidPayment]] = {}
        for payment in paid:
            if payment.network.split(":", 1)[0] in self.checkers:
                by_network.setdefault(payment.network, []).append(payment)
        found: list[str] = []
        for network, payments in by_network.items():
            try:
                found += self.checkers[network.split(":", 1)[0]].refunded(network, payments)
            except ChainError:
                continue
        return found


class EvmPaymentChecker:
    """EVM payments: the asset's ERC-20 `Transfer` logs in the settlement's receipt, two batches a network.

    Parameters:
        networks: CAIP-2 network → how to read it; a network not listed yields `unavailable`.
    """

    def __init__(self, networks: Mapping[str, PaymentNetwork]) -> None:
        self.networks = dict(networks)
        self._rpc: dict[str, RpcClient] = {}
        self._receipts: dict[tuple[str, str], dict[str, Any]] = {}
        self._times: dict[str, dict[int, int]] = {}

    def _client(self, network: str) -> RpcClient:
        if network not in self._rpc:
            self._rpc[network] = RpcClient(self.networks[network].rpc_url)
        return self._rpc[network]

    def check(self, network: str, claims: Sequence[PaymentClaim]) -> list[PaymentEvidence]:
        if network not in self.networks:
            reason = f"no RPC is configured for the payment network {network}"
            return [
                PaymentEvidence(status="unavailable", network=network, tx_hash=c.tx_hash, reason=reason) for c in claims
            ]
        return self._verify_on(network, claims)

    def _final_block(self, network: str, head: int, finalized: dict[str, Any] | None) -> int:
        finality = self.networks[network].finality
        if isinstance(finality, int):
            return head - max(finality, 1) + 1
        if finalized is not None:
            return int(finalized["number"], 16)
        return head - DEFAULT_CONFIRMATIONS + 1

    def _verify_on(self, network: str, claims: Sequence[PaymentClaim]) -> list[PaymentEvidence]:
        rpc = self._client(network)
        unnamed = [i for i, c in enumerate(claims) if c.tx_hash is None]
        if unnamed:
            found = self._find_settlements(rpc, network, [claims[i] for i in unnamed])
            claims = list(claims)
            for i, tx_hash in zip(unnamed, found, strict=True):
                claims[i] = dataclasses.replace(claims[i], tx_hash=tx_hash)
        wanted = sorted(
            {c.tx_hash.lower() for c in claims if c.tx_hash and (network, c.tx_hash.lower()) not in self._receipts}
        )
        receipt_calls: list[tuple[str, Sequence[Any]]] = [("eth_getTransactionReceipt", [tx]) for tx in wanted]
        asks_finalized = self.networks[network].finality == "finalized"
        finalized: dict[str, Any] | None = None
        try:
            if asks_finalized:
                head_hex, finalized, *receipts = rpc.batch(
                    [("eth_blockNumber", []), ("eth_getBlockByNumber", ["finalized", False]), *receipt_calls]
                )
        except RpcError:
            # A node without a `finalized` block: ask again without it, and count confirmations instead.
            asks_finalized = False
        if not asks_finalized:
            head_hex, *receipts = rpc.batch([("eth_blockNumber", []), *receipt_calls])
        head = int(head_hex, 16)
        for tx, receipt in zip(wanted, receipts, strict=True):
            if receipt is not None:  # a transaction not found yet may appear: ask again next time
                self._receipts[(network, tx)] = receipt
        final_block = self._final_block(network, head, finalized)
        judged = [self._judge(network, claim, final_block) for claim in claims]
        self._check_refunds(rpc, network, claims, judged)
        return judged

    def _judge(self, network: str, claim: PaymentClaim, final_block: int) -> PaymentEvidence:
        base = {"network": network, "tx_hash": claim.tx_hash, "payer": claim.payer.lower(), "paid_at": claim.issued_at}
        if claim.tx_hash is None:
            return PaymentEvidence(
                status="unpaid",
                reason=f"no transfer from the payer to a bound payTo on {network} around the receipt's issuedAt",
                **base,
            )
        receipt = self._receipts.get((network, claim.tx_hash.lower()))
        if receipt is None:
            return PaymentEvidence(status="unpaid", reason=f"no such transaction on {network}", **base)
        block = int(receipt["blockNumber"], 16)
        if int(receipt.get("status") or "0x0", 16) != 1:
            return PaymentEvidence(status="unpaid", block_number=block, reason="the transaction reverted", **base)
        payer = claim.payer.lower()
        transfers = [
            (str(log["address"]).lower(), topic_address(log["topics"][2]), int(str(log["data"]), 16))
            for log in receipt.get("logs") or []
            if len(log.get("topics") or []) == 3
            and str(log["topics"][0]).lower() == TRANSFER_TOPIC
            and topic_address(log["topics"][1]) == payer
            and str(log.get("data") or "0x") not in ("0x", "")
        ]
        if not transfers:
            return PaymentEvidence(
                status="unpaid", block_number=block, reason="the transaction moved nothing from the payer", **base
            )
        asset = claim.asset.lower() if claim.asset else None
        in_asset = [t for t in transfers if asset is None or t[0] == asset]
        if not in_asset:
            return PaymentEvidence(
                status="unpaid", block_number=block, reason=f"the payer moved another asset than {claim.asset}", **base
            )
        bound = [t for t in in_asset if claim.pay_to is None or t[1] in claim.pay_to]
        if not bound:
            return PaymentEvidence(
                status="unpaid",
                block_number=block,
                reason=f"the payer paid {in_asset[0][1]}, which is not bound to the subject",
                **base,
            )
        token, pay_to, moved = max(bound, key=lambda t: t[2])
        shown = {
            "asset": to_checksum_address(token),
            "amount": str(moved),
            "pay_to": to_checksum_address(pay_to),
            "block_number": block,
            **base,
        }
        if claim.amount is not None and moved < claim.amount:
            return PaymentEvidence(
                status="unpaid", reason=f"it moved {moved}, less than the offered {claim.amount}", **shown
            )
        if block > final_block:
            return PaymentEvidence(status="pending", reason="the payment is not final yet", **shown)
        return PaymentEvidence(status="paid", **shown)

    def _find_settlements(self, rpc: RpcClient, network: str, claims: Sequence[PaymentClaim]) -> list[str | None]:
        """The settlement of each claim that names none: the payer's transfer of the asset to a bound `payTo`
        in the blocks around its `issuedAt`. Claims whose windows lie close together share one `eth_getLogs`
        (every payer and `payTo` of the span in its topic lists), all spans in one batch, then the times of
        the blocks holding a match in one more. Each transfer backs one claim, receipts taken in the order
        they were issued: the first one in the last second before the receipt was issued that is not taken,
        else the first one after (within the clock skew)."""
        searchable = [i for i, c in enumerate(claims) if c.issued_at is not None and c.pay_to]
        found: list[str | None] = [None] * len(claims)
        if not searchable:
            return found
        spans = _spans([claims[i] for i in searchable])
        head_block = rpc.call("eth_getBlockByNumber", ["latest", False])
        head = int(head_block["number"], 16)
        times = self._times.setdefault(network, {})
        times[head] = int(head_block["timestamp"], 16)
        bounds = self._block_bounds(rpc, network, sorted({t for span in spans for t in span[:2]}), head)
        calls: list[tuple[str, Sequence[Any]]] = []
        for begin, finish, members in spans:
            log_filter: dict[str, Any] = {
                "fromBlock": hex(bounds[begin][0]),
                "toBlock": hex(min(bounds[finish][1], head)),
                "topics": [
                    TRANSFER_TOPIC,
                    sorted({address_topic(c.payer) for c in members}),
                    sorted({address_topic(p) for c in members for p in c.pay_to or ()}),
                ],
            }
            assets = {c.asset.lower() for c in members if c.asset}
            if assets and all(c.asset for c in members):
                log_filter["address"] = sorted(assets)
            calls.append(("eth_getLogs", [log_filter]))
        logs = [log for answer in rpc.batch(calls) for log in answer or [] if str(log.get("data") or "0x") != "0x"]
        self._learn_times(rpc, network, {int(log["blockNumber"], 16) for log in logs})
        taken: set[str] = set()
        for i in sorted(searchable, key=lambda i: claims[i].issued_at or 0):
            claim = claims[i]
            start, end = _window(claim)
            candidates = [
                log
                for log in logs
                if str(log["transactionHash"]).lower() not in taken
                and topic_address(log["topics"][1]) == claim.payer.lower()
                and topic_address(log["topics"][2]) in (claim.pay_to or ())
                and (claim.asset is None or str(log["address"]).lower() == claim.asset.lower())
                and (claim.amount is None or int(str(log["data"]), 16) >= claim.amount)
                and start <= times[int(log["blockNumber"], 16)] <= end
            ]
            before = [log for log in candidates if times[int(log["blockNumber"], 16)] <= (claim.issued_at or 0)]
            if candidates:
                # The last second before the receipt, and in it the first transfer: a receipt follows its
                # own settlement, and blocks of one second cannot be told apart by a receipt's time.
                best = (
                    min(before, key=lambda log: (-times[int(log["blockNumber"], 16)], *_log_position(log)))
                    if before
                    else min(candidates, key=_log_position)
                )
                found[i] = str(best["transactionHash"]).lower()
                taken.add(str(found[i]))
        return found

    def _learn_times(self, rpc: RpcClient, network: str, blocks: set[int]) -> None:
        """Read the times of these blocks (one batch), keeping them for later searches."""
        times = self._times.setdefault(network, {})
        missing = sorted(b for b in blocks if b not in times)
        if missing:
            answers = rpc.batch([("eth_getBlockByNumber", [hex(b), False]) for b in missing])
            for number, block in zip(missing, answers, strict=True):
                if block is not None:
                    times[number] = int(block["timestamp"], 16)

    def _block_bounds(
        self, rpc: RpcClient, network: str, targets: Sequence[int], head: int
    ) -> dict[int, tuple[int, int]]:
        """For each time t, blocks (lo, hi) with lo's time before t (or lo = 0) and hi at or after it (head +
        1: none yet), at most `_NARROW_BLOCKS` apart: a window from t may start at lo, one to t end at hi
        (the blocks between cost a wider log query, not a wrong answer: matches are checked by their block's
        time). Found by interpolating on block times, every target in the same batches; a round that did
        not halve a range bisects it next, so the search ends within about twice log2(head) rounds."""
        times = self._times.setdefault(network, {})
        self._learn_times(rpc, network, {0, head})
        bounds = {t: (0, head + 1) for t in targets}
        bisect: set[int] = set()
        for _ in range(_MAX_SEARCH_ROUNDS):
            wanted: dict[int, int] = {}
            for t, (lo, hi) in bounds.items():
                if hi - lo <= _NARROW_BLOCKS or times[lo] >= t:
                    continue
                top = times.get(hi, times[head] + 1)
                guess = lo + (t - times[lo]) * (hi - lo) // max(top - times[lo], 1)
                if t in bisect:
                    guess = (lo + hi) // 2
                wanted[t] = min(max(guess, lo + 1), hi - 1)
            if not wanted:
                break
            self._learn_times(rpc, network, set(wanted.values()))
            bisect.clear()
            for t, guess in wanted.items():
                lo, hi = bounds[t]
                bounds[t] = (guess, hi) if guess in times and times[guess] < t else (lo, guess)
                if bounds[t][1] - bounds[t][0] > (hi - lo) // 2:
                    bisect.add(t)
        return bounds

    def funded(self, network: str, checks: Sequence[FundingCheck]) -> list[bool]:
        """One `eth_getLogs` per asset and set of funders (every payer in one topic list), from about the
        longest window before the first payment to the last one, all in one batch; the window is turned
        into blocks by the chain's average block time, and each match's own block time is checked after."""
        if network not in self.networks or not checks:
            return [False] * len(checks)
        rpc = self._client(network)
        head = rpc.block_number()
        self._learn_times(rpc, network, {0, head, *(c.block_number for c in checks)})
        times = self._times[network]
        per_block = max((times[head] - times[0]) / max(head, 1), 1e-3)
        groups: dict[tuple[str, frozenset[str]], list[FundingCheck]] = {}
        for check in checks:
            groups.setdefault((check.asset.lower(), check.funders), []).append(check)
        reach = self._reach(rpc, groups, per_block)
        calls: list[tuple[str, Sequence[Any]]] = []
        for (asset, funders), members in groups.items():
            log_filter = {
                "address": asset,
                **_funding_blocks(members, per_block),
                "topics": [
                    TRANSFER_TOPIC,
                    sorted(address_topic(f) for f in reach[(asset, funders)]),
                    sorted({address_topic(c.payer) for c in members}),
                ],
            }
            calls.append(("eth_getLogs", [log_filter]))
        answers = rpc.batch(calls)
        self._learn_times(rpc, network, {int(log["blockNumber"], 16) for logs in answers for log in logs or []})
        received: dict[tuple[str, frozenset[str], str], list[int]] = {}
        for (asset, funders), logs in zip(groups, answers, strict=True):
            for log in logs or []:
                received.setdefault((asset, funders, topic_address(log["topics"][2])), []).append(
                    int(log["blockNumber"], 16)
                )
        return [
            any(
                block <= check.block_number and times[check.block_number] - check.window_s <= times[block]
                for block in received.get((check.asset.lower(), check.funders, check.payer), [])
            )
            for check in checks
        ]

    def _reach(
        self, rpc: RpcClient, groups: Mapping[tuple[str, frozenset[str]], Sequence[FundingCheck]], per_block: float
    ) -> dict[tuple[str, frozenset[str]], set[str]]:
        """The wallets each group's funders reach in `hops - 1` transfers of the asset (the funders
        themselves included): one batch of log queries per extra hop."""
        reach = {key: set(key[1]) for key in groups}
        hops = max((c.hops for members in groups.values() for c in members), default=1)
        for _ in range(hops - 1):
            calls: list[tuple[str, Sequence[Any]]] = []
            for (asset, funders), members in groups.items():
                log_filter = {
                    "address": asset,
                    **_funding_blocks(members, per_block),
                    "topics": [TRANSFER_TOPIC, sorted(address_topic(f) for f in reach[(asset, funders)])],
                }
                calls.append(("eth_getLogs", [log_filter]))
            for key, logs in zip(groups, rpc.batch(calls), strict=True):
                reach[key] |= {topic_address(log["topics"][2]) for log in logs or [] if len(log["topics"]) == 3}
        return reach

    def refunded(self, network: str, paid: Sequence[PaidPayment]) -> list[str]:
        if network not in self.networks or not paid:
            return []
        groups: dict[tuple[str, str], list[PaidPayment]] = {}
        for payment in paid:
            groups.setdefault((payment.asset.lower(), payment.pay_to.lower()), []).append(payment)
        members = list(groups.values())
        refunds = _refund_blocks(
            self._client(network),
            [
                (asset, pay_to, [p.payer for p in group], min(p.block_number for p in group))
                for (asset, pay_to), group in groups.items()
            ],
        )
        return [
            payment.uid
            for group, back in zip(members, refunds, strict=True)
            for payment in group
            if back.get(payment.payer.lower(), -1) >= payment.block_number
        ]

    def _check_refunds(
        self, rpc: RpcClient, network: str, claims: Sequence[PaymentClaim], judged: list[PaymentEvidence]
    ) -> None:
        """Any transfer of the asset from `payTo` back to the payer after the payment turns `paid` (or
        `pending`) into `refunded`."""
        candidates = [i for i, e in enumerate(judged) if e.status in ("paid", "pending")]
        groups: dict[tuple[str, str], list[int]] = {}
        for i in candidates:
            evidence = judged[i]
            if evidence.asset is not None and evidence.pay_to is not None:
                groups.setdefault((evidence.asset, evidence.pay_to), []).append(i)
        if not groups:
            return
        asked = [
            (asset, pay_to, [claims[i].payer for i in members], min(judged[i].block_number or 0 for i in members))
            for (asset, pay_to), members in groups.items()
        ]
        for members, refunds in zip(groups.values(), _refund_blocks(rpc, asked), strict=True):
            for i in members:
                if refunds.get(claims[i].payer.lower(), -1) >= (judged[i].block_number or 0):
                    judged[i] = judged[i].model_copy(
                        update={"status": "refunded", "refunded": True, "reason": "the payment went back to the payer"}
                    )


def _funding_blocks(checks: Sequence[FundingCheck], per_block: float) -> dict[str, str]:
    """The block range a group's funding transfers are looked for in: from about its longest window (twice
    over, at the chain's average block time) before its first payment, to its last payment."""
    back = int(max(c.window_s for c in checks) / per_block * 2) + 1
    first, last = min(c.block_number for c in checks), max(c.block_number for c in checks)
    return {"fromBlock": hex(max(first - back, 0)), "toBlock": hex(last)}


def _log_position(log: Mapping[str, Any]) -> tuple[int, int]:
    return int(log["blockNumber"], 16), int(log["logIndex"], 16)


def _spans(claims: Sequence[PaymentClaim]) -> list[tuple[int, int, list[PaymentClaim]]]:
    """The claims' windows merged into spans of at most `_SPAN_S`: (first time, last time, its claims)."""
    spans: list[tuple[int, int, list[PaymentClaim]]] = []
    for claim in sorted(claims, key=lambda c: _window(c)[0]):
        start, end = _window(claim)
        if spans and start <= spans[-1][1] and end - spans[-1][0] <= _SPAN_S:
            begin, finish, members = spans[-1]
            spans[-1] = (begin, max(finish, end), [*members, claim])
        else:
            spans.append((start, end, [claim]))
    return spans


def _window(claim: PaymentClaim) -> tuple[int, int]:
    """The times a claim's settlement is looked for in: before its receipt was issued, and a skew after."""
    issued = claim.issued_at or 0
    return max(issued - SETTLED_WITHIN_S, 0), issued + CLOCK_SKEW_S


def _refund_blocks(rpc: RpcClient, groups: Sequence[tuple[str, str, Sequence[str], int]]) -> list[dict[str, int]]:
    """For each (asset, payTo, payers, first block): payer → the latest block in which that asset went from
    `payTo` back to the payer. One `eth_getLogs` per group, every payer in one topic list, all in one batch."""
    calls: list[tuple[str, Sequence[Any]]] = []
    for asset, pay_to, payers, first in groups:
        topics = [TRANSFER_TOPIC, address_topic(pay_to), sorted({address_topic(p) for p in payers})]
        calls.append(
            ("eth_getLogs", [{"address": asset, "fromBlock": hex(first), "toBlock": "latest", "topics": topics}])
        )
    found: list[dict[str, int]] = []
    for logs in rpc.batch(calls):
        refunds: dict[str, int] = {}
        for log in logs or []:
            back_to = topic_address(log["topics"][2])
            refunds[back_to] = max(refunds.get(back_to, 0), int(log["blockNumber"], 16))
        found.append(refunds)
    return found
