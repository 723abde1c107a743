"""omareview: verified-purchase reviews for x402 services, as OMATrust User Review attestations on EAS.

The public surface is declared once, in `__init__.pyi`, and imported on first use (`lazy_loader`), so
`import omareview` stays cheap and importing one part never loads another.
"""

import lazy_loader as _lazy

from omareview._version import __version__ as __version__

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
