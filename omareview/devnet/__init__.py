"""The embedded devnet: Anvil with EAS and the OMATrust schemas, the pinned toolchain, and a dev x402 server.

A package of its own above the library: the core never imports it. The running devnet's state file is read
by `omareview._devnet_state`, below the library, so `resolve_network("devnet")` finds it.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
