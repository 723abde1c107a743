"""The signing wallet: `OMAREVIEW_PRIVATE_KEY`, an Ethereum keystore file, or a devnet dev account.

A key is never printed, logged, or put in an exception message; `Signer` shows only its address.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from omareview._files import read_regular
from omareview._json import loads_untrusted
from omareview.errors import ConfigError, InputError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount
    from eth_typing import Hash32

__all__ = [
    "KEYSTORE_PASSWORD_ENV",
    "PRIVATE_KEY_ENV",
    "Signer",
    "signer_from_environment",
    "signer_from_key",
    "signer_from_keystore",
]

PRIVATE_KEY_ENV = "OMAREVIEW_PRIVATE_KEY"
_MAX_KEYSTORE_BYTES = 64 * 1024
KEYSTORE_PASSWORD_ENV = "OMAREVIEW_KEYSTORE_PASSWORD"


class Signer:
    """An EVM account that signs transactions and EIP-712 digests. `repr` shows the address only.

    Parameters:
        account: an eth-account `LocalAccount`.
    """

    def __init__(self, account: LocalAccount) -> None:
        self._account = account
        self.address: str = account.address

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        return bytes(self._account.sign_transaction(tx).raw_transaction)

    def sign_hash(self, message_digest: bytes) -> tuple[int, bytes, bytes]:
        """Sign a 32-byte digest (an EIP-712 digest from `omareview._eip712`); returns v (27/28), r, s."""
        signed = self._account.unsafe_sign_hash(cast("Hash32", message_digest))
        return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")


def signer_from_key(private_key: str | bytes, *, what: str = "the private key") -> Signer:
    from eth_account import Account

    try:
        return Signer(Account.from_key(private_key))
    except (ValueError, TypeError):
        raise InputError(f"{what} is not a 32-byte hex private key", reason="bad-key") from None


def signer_from_keystore(path: Path, password: str | None = None) -> Signer:
    keystore = loads_untrusted(read_regular(path, _MAX_KEYSTORE_BYTES, f"keystore {path}"), what=f"keystore {path}")
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
