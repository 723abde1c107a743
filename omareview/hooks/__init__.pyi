from .attach import (
    McpSessionAdapter as McpSessionAdapter,
)
from .attach import (
    attach as attach,
)
from .attach import (
    paying_session as paying_session,
)
from .capture import (
    CaptureEvent as CaptureEvent,
)
from .capture import (
    ReceiptCapture as ReceiptCapture,
)
from .capture import (
    ReviewDraft as ReviewDraft,
)
from .httpx_hook import (
    AsyncCapturingTransport as AsyncCapturingTransport,
)
from .httpx_hook import (
    CapturingTransport as CapturingTransport,
)
from .httpx_hook import (
    install_hook as install_hook,
)
from .httpx_hook import (
    paying_client as paying_client,
)
from .submitter import (
    AsyncSubmitter as AsyncSubmitter,
)
from .submitter import (
    SubmitReport as SubmitReport,
)
from .submitter import (
    Submitter as Submitter,
)
from .submitter import (
    review_job as review_job,
)
from .via_provider import (
    send_via_provider as send_via_provider,
)
