"""Identity: subject DIDs and DID addresses, keys from DIDs, safe did:web resolution, signer authorization."""

from omareview.identity.authorization import Authorization, authorize_signer, default_resolver, evm_address_of_key
from omareview.identity.dids import (
    did_address,
    did_hash,
    normalize_did,
    normalize_domain,
    subject_did,
    subject_did_from_url,
    web_domain,
)
from omareview.identity.didweb import DidWebResolver, did_web_url, find_verification_method, method_public_key
from omareview.identity.dns_txt import ControllerRecords, lookup_controllers, parse_controller_record
from omareview.identity.fetch import FetchError, SafeFetcher, parse_overrides
from omareview.identity.keys import (
    PublicKey,
    address_from_did_pkh,
    did_jwk_from_key,
    did_key_from_key,
    did_pkh_from_address,
    jwk_to_public_key,
    key_from_did,
    key_from_multibase,
    keys_equal,
    public_key_to_jwk,
)

__all__ = [
    "Authorization",
    "ControllerRecords",
    "DidWebResolver",
    "FetchError",
    "PublicKey",
    "SafeFetcher",
    "address_from_did_pkh",
    "authorize_signer",
    "default_resolver",
    "did_address",
    "did_hash",
    "did_jwk_from_key",
    "did_key_from_key",
    "did_pkh_from_address",
    "did_web_url",
    "evm_address_of_key",
    "find_verification_method",
    "jwk_to_public_key",
    "key_from_did",
    "key_from_multibase",
    "keys_equal",
    "lookup_controllers",
    "method_public_key",
    "normalize_did",
    "normalize_domain",
    "parse_controller_record",
    "parse_overrides",
    "public_key_to_jwk",
    "subject_did",
    "subject_did_from_url",
    "web_domain",
]
