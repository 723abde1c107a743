"""The running devnet's state, as every other command reads it (defined below the library, in
`omareview._devnet_state`, so that `resolve_network("devnet")` finds it without loading the devnet)."""

from __future__ import annotations

from omareview._devnet_state import DevAccount, DevnetState, PublicDevnetState, devnet_network, read_state

__all__ = ["DevAccount", "DevnetState", "PublicDevnetState", "devnet_network", "read_state"]
