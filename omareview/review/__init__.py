"""OMATrust User Reviews: the model, proofs, building from a verified receipt, submission and its ledger.

The names below are imported on first use (`lazy_loader`, from `__init__.pyi`), so importing one module of
this package does not load the others.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
