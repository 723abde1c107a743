import pytest

from omareview.errors import InputError
from omareview.identity import did_address, did_hash, normalize_did, subject_did, web_domain
from omareview.identity.didweb import did_web_url


@pytest.mark.parametrize(
    ("did", "hash_", "recipient"),
    [
        (
            "did:web:example.com",
            "0x505b0e657e7acabd2c14e517173a347faed486bb69081ef673c6e52c03f57f3e",
            "0x173a347faed486bb69081ef673c6e52c03f57f3e",
        ),
        (
            "did:web:api.example.com",
            "0xbb3fc58320074965f25f254509a34a416806a7eba14b6b183369082602e8064b",
            "0x09a34a416806a7eba14b6b183369082602e8064b",
        ),
    ],
)
def test_omatrust_did_vectors(did: str, hash_: str, recipient: str) -> None:
    assert did_hash(did) == hash_
    assert did_address(did) == recipient


def test_omatrust_did_pkh_vector() -> None:
    did = "did:pkh:eip155:1:0x857b06519E91e3A54538791bDbb0E22373e36b66"
    assert normalize_did(did) == "did:pkh:eip155:1:0x857b06519e91e3a54538791bdbb0e22373e36b66"
    assert did_address(did) == "0x1be6f1cdd2e30e421525b08d3308d6d04972972a"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://WWW.Example.COM:8443/x?y=1", "did:web:example.com"),
        ("https://API.Example.com/premium-data", "did:web:api.example.com"),
        ("https://www.example.com/", "did:web:example.com"),
        ("https://example.com./path", "did:web:example.com"),
        ("https://www.example.com.:443", "did:web:example.com"),
        ("https://www.www.example.com/", "did:web:example.com"),
        ("did:web:www.www.example.com", "did:web:example.com"),
        ("https://www.com/", "did:web:www.com"),
        ("http://example.com:8080/a/b?c=d#frag", "did:web:example.com"),
        ("https://bücher.example/", "did:web:xn--bcher-kva.example"),
        ("https://BÜCHER.example/", "did:web:xn--bcher-kva.example"),
        ("https://user:pw@example.com/", "did:web:example.com"),
        ("http://192.0.2.7:8402/paid", "did:web:192.0.2.7"),
        ("example.com", "did:web:example.com"),
        ("Example.com/path?q", "did:web:example.com"),
        ("did:web:WWW.Example.com.", "did:web:example.com"),
        ("DID:WEB:example.com#key-1", "did:web:example.com"),
        ("did:web:example.com/users/Alice", "did:web:example.com/users/Alice"),
        ("did:web:bücher.example", "did:web:xn--bcher-kva.example"),
        (
            "did:pkh:EIP155:8453:0xABCDEFabcdef0123456789abcdef0123456789AB",
            "did:pkh:eip155:8453:0xabcdefabcdef0123456789abcdef0123456789ab",
        ),
        # Solana addresses are base58, whose case is meaningful: kept as written.
        (
            "did:pkh:SOLANA:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV",
            "did:pkh:solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp:7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV",
        ),
        ("did:handle:Twitter:JackD", "did:handle:twitter:JackD"),
        (
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        ),
        ("  did:ethr:0xAbC  ", "did:ethr:0xAbC"),
    ],
)
def test_normalization_table(value: str, expected: str) -> None:
    assert subject_did(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "an empty string is not a DID or URL"),
        ("   ", "an empty string is not a DID or URL"),
        ("did:", "is not a DID: expected did:<method>:<identifier>"),
        ("did:web:", "is not a DID"),
        ("did::x", "is not a DID"),
        ("https://", "has no host"),
        ("https:///path", "has no host"),
        ("ftp://example.com/", "only http and https URLs name a service"),
        ("http://[::1]:80/", "an IPv6 host cannot be written as a did:web identifier"),
        ("https://example.com:99999/", "is not a valid URL"),
        ("did:pkh:eip155:0xabc", "is not a valid did:pkh DID"),
        ("did:handle:twitter", "is not a valid did:handle DID"),
        ("did:jwk:!!!", "the identifier must be one base64url string"),
        ("did:jwk:bm90IGpzb24", "the identifier is not base64url JSON"),
        ("did:jwk:eyJrdHkiOiJYIn0", "kty must be EC, OKP or RSA"),
        ("did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJFZDI1NTE5IiwieCI6ImEiLCJkIjoiYiJ9", "holds a private key"),
        ("did:jwk:eyJrdHkiOiJFQyIsImNydiI6IlAtMjU2IiwieCI6ImEifQ", "its JWK lacks y"),
        ("https://a\u200db.example/", "is not a valid internationalized domain name"),
        ("https://exa mple.com/", "is not a valid host name"),
        ("https://example..com/", "is not a valid host name"),
        ("did:web:exa mple.com", "is not a valid host name"),
        ("https://" + "a" * 64 + ".example/", "a label over 63"),
        ("did:pkh:eip155:1:0xabc", "an eip155 account is 0x and 40 hex digits"),
    ],
)
def test_bad_inputs_are_clear_errors(value: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        subject_did(value)


def test_normalize_did_reads_a_url_as_a_url() -> None:
    assert normalize_did("https://WWW.Example.com:8443/x") == "did:web:example.com"
    assert normalize_did("example.com/users/alice") == "did:web:example.com/users/alice"


def test_web_domain() -> None:
    assert web_domain("did:web:api.example.com") == "api.example.com"
    assert web_domain("did:web:example.com%3A3000:user:alice") == "example.com"
    assert web_domain("did:web:example.com/x") == "example.com"
    assert web_domain("did:pkh:eip155:1:0x857b06519e91e3a54538791bdbb0e22373e36b66") is None


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:example.com#key-1", "https://example.com/.well-known/did.json"),
    ],
)
def test_did_web_urls_follow_the_w3c_examples(did: str, url: str) -> None:
    assert did_web_url(did) == url


def test_did_web_url_refuses_other_methods_and_empty_segments() -> None:
    with pytest.raises(InputError, match="is not a did:web DID"):
        did_web_url("did:key:z6Mk")
    with pytest.raises(InputError, match="is not a valid did:web DID"):
        did_web_url("did:web:example.com::x")


@pytest.mark.parametrize(
    "value",
    ["https://www.www.example.com/", "did:web:WWW.www.Example.com", "https://www.example.com", "www.www.www.a.b"],
)
def test_normalizing_is_idempotent_so_a_did_hashes_as_it_reads(value: str) -> None:
    once = subject_did(value)
    assert normalize_did(once) == once
    assert did_address(once) == did_address(value)
