from .server import (
    UNTRUSTED_NOTICE as UNTRUSTED_NOTICE,
)
from .server import (
    ReviewTools as ReviewTools,
)
from .server import (
    create_server as create_server,
)
