"""EAS delegation nonces handed out in this process, so two signatures made before either is sent never
share one: the next nonce is the larger of the chain's and the last one handed out here."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["DelegationNonces", "delegation_nonces"]


class DelegationNonces:
    """The next delegation nonce per (endpoint, EAS, attester)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handed_out: dict[tuple[str, str, str], int] = {}

    def next(self, key: tuple[str, str, str], on_chain: Callable[[], int]) -> int:
        """Hand out the next nonce for `key`: max(the chain's, the last handed out here + 1)."""
        with self._lock:
            nonce = max(on_chain(), self._handed_out.get(key, 0))
            self._handed_out[key] = nonce + 1
            return nonce

    def reset(self) -> None:
        """Forget what was handed out (after rewinding a chain)."""
        with self._lock:
            self._handed_out.clear()


#: The process's one record: every client of one endpoint and EAS shares it.
delegation_nonces = DelegationNonces()
