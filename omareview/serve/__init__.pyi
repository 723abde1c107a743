from .app import (
    REFUSALS as REFUSALS,
)
from .app import (
    create_app as create_app,
)
from .documents import (
    Written as Written,
)
from .limits import (
    GasBudget as GasBudget,
)
from .limits import (
    RateLimiter as RateLimiter,
)
from .metrics import (
    Metrics as Metrics,
)
from .page import (
    render_reviews_page as render_reviews_page,
)
from .provider import (
    ProviderConfig as ProviderConfig,
)
from .provider import (
    ReviewProvider as ReviewProvider,
)
from .server import (
    ServerOptions as ServerOptions,
)
from .server import (
    run_server as run_server,
)
