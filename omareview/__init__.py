"""omareview: verified-purchase reviews for x402 services, as OMATrust User Review attestations on EAS.

The public surface is re-exported here; submodules not named below are private.
"""

from omareview.devnet import DevAccount, Devnet, DevnetState, read_state, start_devnet, stop_devnet
from omareview.eas.uids import schema_uid
from omareview.errors import ChainError, ConfigError, DevnetError, InputError, OmaReviewError, ToolchainError
from omareview.networks import Network, resolve_network
from omareview.schemas import EasSchema, all_schemas, get_schema

__all__ = [
    "ChainError",
    "ConfigError",
    "DevAccount",
    "Devnet",
    "DevnetError",
    "DevnetState",
    "EasSchema",
    "InputError",
    "Network",
    "OmaReviewError",
    "ToolchainError",
    "all_schemas",
    "get_schema",
    "read_state",
    "resolve_network",
    "schema_uid",
    "start_devnet",
    "stop_devnet",
]
