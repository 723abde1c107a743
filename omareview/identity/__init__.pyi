from .authorization import (
    authorize_signer as authorize_signer,
)
from .authorization import (
    default_resolver as default_resolver,
)
from .dids import (
    did_address as did_address,
)
from .dids import (
    did_hash as did_hash,
)
from .dids import (
    normalize_did as normalize_did,
)
from .dids import (
    normalize_domain as normalize_domain,
)
from .dids import (
    subject_did as subject_did,
)
from .dids import (
    subject_did_from_url as subject_did_from_url,
)
from .dids import (
    web_domain as web_domain,
)
from .didweb import (
    DidWebResolver as DidWebResolver,
)
from .didweb import (
    did_web_url as did_web_url,
)
from .didweb import (
    find_verification_method as find_verification_method,
)
from .didweb import (
    method_public_key as method_public_key,
)
from .dns_txt import (
    ControllerRecords as ControllerRecords,
)
from .dns_txt import (
    lookup_controllers as lookup_controllers,
)
from .dns_txt import (
    parse_controller_record as parse_controller_record,
)
from .fetch import (
    FetchError as FetchError,
)
from .fetch import (
    FetchFailedError as FetchFailedError,
)
from .fetch import (
    FetchRefusedError as FetchRefusedError,
)
from .fetch import (
    SafeFetcher as SafeFetcher,
)
from .fetch import (
    parse_overrides as parse_overrides,
)
from .graph import (
    IdentityAttestation as IdentityAttestation,
)
from .graph import (
    IdentityGraph as IdentityGraph,
)
from .graph import (
    ListGraph as ListGraph,
)
from .graph import (
    WitnessIssuers as WitnessIssuers,
)
from .graph import (
    load_witness_issuers as load_witness_issuers,
)
from .keys import (
    PublicKey as PublicKey,
)
from .keys import (
    address_from_did_pkh as address_from_did_pkh,
)
from .keys import (
    did_jwk_from_key as did_jwk_from_key,
)
from .keys import (
    did_key_from_key as did_key_from_key,
)
from .keys import (
    did_pkh_from_address as did_pkh_from_address,
)
from .keys import (
    evm_address_of_key as evm_address_of_key,
)
from .keys import (
    jwk_to_public_key as jwk_to_public_key,
)
from .keys import (
    key_from_did as key_from_did,
)
from .keys import (
    key_from_multibase as key_from_multibase,
)
from .keys import (
    keys_equal as keys_equal,
)
from .keys import (
    public_key_to_jwk as public_key_to_jwk,
)
from .keys import (
    solana_address_of_key as solana_address_of_key,
)
from .links import (
    link_between as link_between,
)
from .pop import (
    PopProof as PopProof,
)
from .pop import (
    make_pop_eip712 as make_pop_eip712,
)
from .pop import (
    make_pop_jws as make_pop_jws,
)
from .pop import (
    proves as proves,
)
from .pop import (
    read_pop as read_pop,
)
from .verdict import (
    Authorization as Authorization,
)
from .verdict import (
    AuthorizationMethod as AuthorizationMethod,
)
