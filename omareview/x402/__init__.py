"""x402 signed offers and receipts: load them from any carrier, verify them, and issue them.

The names below are imported on first use (`lazy_loader`, from `__init__.pyi`), so importing one module of
this package does not load the others.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
