from .abi import (
    EasRevertError as EasRevertError,
)
from .client import (
    AsyncEasClient as AsyncEasClient,
)
from .client import (
    EasClient as EasClient,
)
from .client import (
    Submitted as Submitted,
)
from .client import (
    review_request as review_request,
)
from .delegation import (
    DelegatedAttestation as DelegatedAttestation,
)
from .relay import (
    relay_delegated as relay_delegated,
)
from .rpc import (
    RpcClient as RpcClient,
)
from .rpc import (
    RpcError as RpcError,
)
from .scanner import (
    AttestedLog as AttestedLog,
)
from .scanner import (
    LogScanner as LogScanner,
)
from .scanner import (
    fetch_attestations as fetch_attestations,
)
from .uids import (
    attestation_uid as attestation_uid,
)
