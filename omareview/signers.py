"""The signing wallet: `OMAREVIEW_PRIVATE_KEY`, an Ethereum keystore file, or a devnet dev account.

A key is never printed, logged, or put in an exception message; `Signer` shows only its address.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, Protocol, TypedDict, cast

from omareview._hashing import address_of_point, keccak
from omareview._json import load_untrusted_file
from omareview.errors import ConfigError, InputError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from eth_typing import Hash32

__all__ = [
    "KEYSTORE_PASSWORD_ENV",
    "PRIVATE_KEY_ENV",
    "Eip1559Transaction",
    "HashSigner",
    "Signer",
    "SignerLike",
    "as_signer",
    "signer_from_environment",
    "signer_from_key",
    "signer_from_keystore",
]

PRIVATE_KEY_ENV = "OMAREVIEW_PRIVATE_KEY"
_MAX_KEYSTORE_BYTES = 64 * 1024
KEYSTORE_PASSWORD_ENV = "OMAREVIEW_KEYSTORE_PASSWORD"


class Eip1559Transaction(TypedDict):
    """The fields of an EIP-1559 transaction, as eth-account names them: exactly what is signed."""

    chainId: int
    nonce: int
    maxPriorityFeePerGas: int
    maxFeePerGas: int
    gas: int
    to: str
    value: NotRequired[int]
    data: NotRequired[bytes]


class HashSigner(Protocol):
    """Anything that signs a 32-byte digest for an address: a hardware wallet or a KMS behind a function.
    omareview signs transactions and EIP-712 messages through this one operation."""

    address: str

    def sign_hash(self, message_digest: bytes) -> tuple[int, bytes, bytes]:
        """The signature of `message_digest`: v (27/28), r, s."""
        ...


class Signer:
    """An EVM account that signs transactions and EIP-712 digests. `repr` shows the address only.

    Parameters:
        account: an eth-account `LocalAccount` (web3.py's too), or any `HashSigner`.
    """

    def __init__(self, account: LocalAccount | HashSigner) -> None:
        self._account = account
        self.address: str = str(account.address)

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    def sign_hash(self, message_digest: bytes) -> tuple[int, bytes, bytes]:
        """Sign a 32-byte digest (an EIP-712 digest from `omareview._eip712`); returns v (27/28), r, s."""
        sign = getattr(self._account, "unsafe_sign_hash", None)
        if isinstance(self._account, _KeyAccount):
            return self._account.sign_hash(message_digest)
        if sign is None:
            return self._checked(message_digest, *self._account.sign_hash(message_digest))  # type: ignore[union-attr]
        signed = sign(cast("Hash32", message_digest))
        return int(signed.v), int(signed.r).to_bytes(32, "big"), int(signed.s).to_bytes(32, "big")

    def _checked(self, message_digest: bytes, v: int, r: bytes, s: bytes) -> tuple[int, bytes, bytes]:
        """An external signer's signature made canonical and checked: s in the lower half of the curve's
        order (nodes refuse a transaction with a high s, EIP-2), and recovering this signer's address (a
        KMS or a device configured for another key fails here, not at the node)."""
        from omareview._eip712 import recover_signer

        v = v + 27 if v in (0, 1) else v
        number = int.from_bytes(s, "big")
        if number > _SECP256K1_N // 2:
            s, v = (_SECP256K1_N - number).to_bytes(32, "big"), 55 - v
        signature = "0x" + r.rjust(32, b"\0").hex() + s.hex() + bytes([v]).hex()
        try:
            recovered = recover_signer(message_digest, signature)
        except InputError as exc:
            raise InputError(f"the signer for {self.address} returned a malformed signature ({exc})") from exc
        if recovered.lower() != self.address.lower():
            raise InputError(
                f"the signer for {self.address} signed as {recovered}: it holds another key", reason="wrong-signer"
            )
        return v, r.rjust(32, b"\0"), s

    def sign_transaction(self, tx: Eip1559Transaction) -> bytes:
        """The signed, encoded EIP-1559 transaction (`0x02 ‖ rlp(...)`), built on `sign_hash` so any signer
        can send."""
        to = bytes.fromhex(tx["to"].removeprefix("0x"))
        data = tx.get("data", b"")
        fields: list[Any] = [
            tx["chainId"],
            tx["nonce"],
            tx["maxPriorityFeePerGas"],
            tx["maxFeePerGas"],
            tx["gas"],
            to,
            tx.get("value", 0),
            data if isinstance(data, bytes) else bytes.fromhex(str(data).removeprefix("0x")),
            [],
        ]
        v, r, s = self.sign_hash(keccak(b"\x02" + _rlp(fields)))
        parity = v - 27 if v >= 27 else v
        return b"\x02" + _rlp([*fields, parity, int.from_bytes(r, "big"), int.from_bytes(s, "big")])


def _rlp(item: bytes | int | list[Any]) -> bytes:
    """Recursive-length prefix encoding of what a transaction holds (byte strings, unsigned integers as their
    shortest big-endian bytes, lists). Written out because the `rlp` package loads eth-utils (about 100 ms)
    for these fifteen lines; a hypothesis test holds the transactions it builds equal to eth-account's."""
    if isinstance(item, list):
        payload = b"".join(_rlp(element) for element in item)
        return _rlp_length(len(payload), 0xC0) + payload
    data = item.to_bytes((item.bit_length() + 7) // 8, "big") if isinstance(item, int) else item
    if len(data) == 1 and data[0] < 0x80:
        return data
    return _rlp_length(len(data), 0x80) + data


def _rlp_length(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(encoded)]) + encoded


SignerLike = Signer | HashSigner | str | bytes


def as_signer(value: Any) -> Signer:
    """A `Signer` from what a user has: a Signer, an eth-account or web3.py `LocalAccount`, a hex private key,
    or any `HashSigner` (an object with `address` and `sign_hash`)."""
    if isinstance(value, Signer):
        return value
    if isinstance(value, str | bytes):
        return signer_from_key(value)
    if isinstance(getattr(value, "address", None), str) and (
        callable(getattr(value, "unsafe_sign_hash", None)) or callable(getattr(value, "sign_hash", None))
    ):
        return Signer(value)
    raise InputError(
        f"{type(value).__name__} cannot sign: give a LocalAccount, a private key, or an object with address "
        "and sign_hash(digest) -> (v, r, s)",
        reason="bad-key",
    )


class _KeyAccount:
    """A private key held in memory, signing with libsecp256k1 (coincurve): no eth-account import on the way
    to a transaction. The key never leaves this object and is never shown."""

    def __init__(self, key: bytes) -> None:
        import coincurve

        self._key = coincurve.PrivateKey(key)
        self.address = address_of_point(self._key.public_key.format(compressed=False))

    def __repr__(self) -> str:
        return f"_KeyAccount({self.address})"

    def sign_hash(self, message_digest: bytes) -> tuple[int, bytes, bytes]:
        signature = self._key.sign_recoverable(message_digest, hasher=None)
        return signature[64] + 27, signature[:32], signature[32:64]


_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def signer_from_key(private_key: str | bytes, *, what: str = "the private key") -> Signer:
    """A signer for a 32-byte private key (hex, with or without 0x, or bytes)."""
    try:
        raw = private_key if isinstance(private_key, bytes) else bytes.fromhex(private_key.strip().removeprefix("0x"))
    except (ValueError, AttributeError):
        raw = b""
    if len(raw) != 32 or not 0 < int.from_bytes(raw, "big") < _SECP256K1_N:
        raise InputError(f"{what} is not a 32-byte hex private key", reason="bad-key")
    return Signer(_KeyAccount(raw))


def signer_from_keystore(path: Path, password: str | None = None) -> Signer:
    keystore = load_untrusted_file(path, _MAX_KEYSTORE_BYTES, f"keystore {path}")
    if not isinstance(keystore, dict) or not isinstance(keystore.get("crypto") or keystore.get("Crypto"), dict):
        raise InputError(f"keystore {path} is not an Ethereum keystore (it has no crypto section)", reason="bad-key")
    if password is None:
        password = os.environ.get(KEYSTORE_PASSWORD_ENV)
    from eth_account import Account

    if password is None:
        if not os.isatty(0):
            raise ConfigError(
                f"the keystore needs a password: set {KEYSTORE_PASSWORD_ENV} (no terminal to ask on)", reason="bad-key"
            )
        import getpass

        password = getpass.getpass(f"password for {path.name}: ")
    try:
        key = Account.decrypt(keystore, password)
    except ValueError:
        raise InputError(f"keystore {path}: wrong password, or not an Ethereum keystore", reason="bad-key") from None
    return signer_from_key(key)


def signer_from_environment(keystore: Path | None = None) -> Signer:
    """`--keystore FILE` when given, else `OMAREVIEW_PRIVATE_KEY`."""
    if keystore is not None:
        return signer_from_keystore(keystore)
    key = os.environ.get(PRIVATE_KEY_ENV)
    if not key:
        raise ConfigError("no signing key", reason="no-signing-key")
    return signer_from_key(key.strip(), what=PRIVATE_KEY_ENV)
