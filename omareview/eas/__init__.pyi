from .abi import (
    EasRevertError as EasRevertError,
)
from .client import (
    AsyncEasClient as AsyncEasClient,
    DelegatedAttestation as DelegatedAttestation,
)
from .client import (
    AsyncEasClient as AsyncEasClient,
    EasClient as EasClient,
)
from .client import (
    AsyncEasClient as AsyncEasClient,
    Submitted as Submitted,
)
from .client import (
    AsyncEasClient as AsyncEasClient,
    review_request as review_request,
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
