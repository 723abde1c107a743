"""The review provider: `omareview serve`, an HTTP service over the index that reads a service's reviews
(JSON and a page) and writes payment-backed ones for the wallets that paid, plus an OMATrust-compatible
relay. Needs the `serve` extra (Starlette, uvicorn, Jinja2).

The names below are imported on first use (`lazy_loader`, from `__init__.pyi`).
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
