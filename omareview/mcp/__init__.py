"""omareview as an MCP server: tools an LLM agent can call to check a service, read its proven reviews, list
the receipts it captured and review what it paid for.

The names below are imported on first use (`lazy_loader`, from `__init__.pyi`), so importing one module of
this package does not load the others.
"""

import lazy_loader as _lazy

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
