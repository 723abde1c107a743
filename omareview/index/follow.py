"""Following the chain: `omareview index follow` keeps one network's index current for as long as it runs.

Each round reads the head, syncs (the same incremental sync and reorg handling as `index sync`), and judges
what is new or was left undecided (a payment not final yet, a network that was down). RPC failures back off
exponentially; a stop request ends the round cleanly. Only one follower writes a store: it holds the store's
`follower` lock (an advisory lock in PostgreSQL, a lock row in SQLite) and a second one waits for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from omareview.errors import ChainError
from omareview.index.query import ReviewIndex

__all__ = ["FOLLOWER_LOCK", "FollowRound", "Follower"]

FOLLOWER_LOCK = "follower"


@dataclass(frozen=True)
class FollowRound:
    """What one round did.

    Parameters:
        head: the chain's head when the round began.
        lag: how many blocks the index was behind the head when the round began.
        to_block: the block the index is synced to now.
        added: reviews added.
        removed: reviews removed by a reorg.
        judged: subjects judged.
        seconds: how long the round took.
    """

    head: int
    lag: int
    to_block: int
    added: int
    removed: int
    judged: int
    seconds: float


class Follower:
    """Syncs one index round after round until stopped.

    Parameters:
        index: the index to keep current.
        interval_s: seconds between rounds.
        max_backoff_s: the longest wait after repeated RPC failures.
        progress: called with a line for a person (a round that changed something, waits, failures).
        on_round: called with each round, for metrics.
    """

    def __init__(
        self,
        index: ReviewIndex,
        *,
        interval_s: float = 2.0,
        max_backoff_s: float = 60.0,
        progress: Callable[[str], None] | None = None,
        on_round: Callable[[FollowRound], None] | None = None,
    ) -> None:
        self.index = index
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.progress = progress or (lambda line: None)
        self.on_round = on_round

    def _round(self) -> FollowRound:
        started = time.monotonic()
        head = self.index.rpc.block_number()
        before = self.index.synced_to()
        result = self.index.sync()
        judged = self.index.judge_pending()
        return FollowRound(
            head=head,
            lag=max(0, head - before) if before is not None else head,
            to_block=result.to_block,
            added=result.added,
            removed=result.removed,
            judged=judged,
            seconds=time.monotonic() - started,
        )

    def run(self, stop: threading.Event) -> None:
        """Follow until `stop` is set: take the lock (waiting while another follower holds it), then sync
        round after round."""
        engine = self.index.store.engine
        told = False
        while not engine.try_lock(FOLLOWER_LOCK):
            if not told:
                self.progress("another follower holds this store's lock; waiting for it")
                told = True
            if stop.wait(self.interval_s):
                return
        try:
            synced = self.index.synced_to()
            start = (
                f"block {synced}" if synced is not None else f"its first block, {self.index.network.deployment_block}"
            )
            self.progress(f"following {self.index.network.name} from {start}")
            backoff = self.interval_s
            while not stop.is_set():
                try:
                    done = self._round()
                except ChainError as exc:
                    self.progress(f"sync failed ({exc}); retrying in {backoff:g} s")
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self.max_backoff_s)
                    continue
                backoff = self.interval_s
                if done.added or done.removed or done.judged:
                    self.progress(
                        f"block {done.to_block}: +{done.added} -{done.removed} review(s), "
                        f"{done.judged} subject(s) judged, lag was {done.lag} ({done.seconds:.2f} s)"
                    )
                if self.on_round is not None:
                    self.on_round(done)
                stop.wait(self.interval_s)
        finally:
            engine.unlock(FOLLOWER_LOCK)
