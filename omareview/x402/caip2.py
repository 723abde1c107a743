"""x402 v1 network names → CAIP-2 (the table the reference offer-receipt issuer uses)."""

from __future__ import annotations

import re

from omareview.errors import InputError

__all__ = ["V1_EVM_CHAIN_IDS", "V1_SOLANA", "to_caip2"]

V1_EVM_CHAIN_IDS = {
    "ethereum": 1,
    "sepolia": 11155111,
    "abstract": 2741,
    "abstract-testnet": 11124,
    "base-sepolia": 84532,
    "base": 8453,
    "avalanche-fuji": 43113,
    "avalanche": 43114,
    "iotex": 4689,
    "sei": 1329,
    "sei-testnet": 1328,
    "polygon": 137,
    "polygon-amoy": 80002,
    "peaq": 3338,
    "story": 1514,
    "educhain": 41923,
    "skale-base-sepolia": 324705682,
}
V1_SOLANA = {
    "solana": "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp",
    "solana-devnet": "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1",
    "solana-testnet": "solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z",
}
_CAIP2 = re.compile(r"^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$")


def to_caip2(network: str) -> str:
    """A CAIP-2 id for a v2 id (returned as is) or a v1 name; unknown names are refused, not guessed."""
    if _CAIP2.match(network):
        return network
    if network in V1_EVM_CHAIN_IDS:
        return f"eip155:{V1_EVM_CHAIN_IDS[network]}"
    if network in V1_SOLANA:
        return V1_SOLANA[network]
    raise InputError(f"unknown x402 network {network!r}: not CAIP-2 and not a known v1 name", reason="bad-network")
