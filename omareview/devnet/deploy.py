"""Deploys SchemaRegistry → EAS → Indexer from the pinned eas-contracts artifacts and registers schemas."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.types import TxReceipt

from omareview.devnet.toolchain import eas_artifact, project_artifact
from omareview.errors import ChainError
from omareview.schemas import EasSchema, schema_uid

__all__ = [
    "REGISTERED_TOPIC",
    "TEST_TOKEN",
    "TEST_TOKEN_MINT",
    "EasDeployment",
    "Progress",
    "deploy_eas",
    "deploy_test_token",
    "register_schemas",
]

Progress = Callable[[str], None]

REGISTERED_TOPIC = "0xd0b86852e21f9e5fa4bc3b0cff9757ffe243d50c4b43968a42202153d651ea5e"


@dataclass(frozen=True)
class EasDeployment:
    schema_registry: ChecksumAddress
    eas: ChecksumAddress
    indexer: ChecksumAddress
    block_number: int


def _mined(w3: Web3, tx_hash: HexBytes, what: str) -> TxReceipt:
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    if receipt["status"] != 1:
        raise ChainError(f"{what} reverted (transaction {tx_hash.to_0x_hex()})", reason="deployment-failed")
    return receipt


def _deploy(w3: Web3, deployer: ChecksumAddress, contract: str, *args: object) -> TxReceipt:
    artifact = eas_artifact(contract)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx_hash = factory.constructor(*args).transact({"from": deployer})
    return _mined(w3, tx_hash, f"deploying {contract}")


def deploy_eas(w3: Web3, deployer: ChecksumAddress, progress: Progress = lambda _: None) -> EasDeployment:
    """Deploy the three contracts from an unlocked account (Anvil's dev accounts are)."""
    progress("deploying SchemaRegistry")
    registry = _deploy(w3, deployer, "SchemaRegistry")
    registry_address = registry["contractAddress"]
    progress("deploying EAS")
    eas = _deploy(w3, deployer, "EAS", registry_address)
    progress("deploying Indexer")
    indexer = _deploy(w3, deployer, "Indexer", eas["contractAddress"])
    if registry_address is None or eas["contractAddress"] is None or indexer["contractAddress"] is None:
        raise ChainError("a contract deployment returned no contract address", reason="deployment-failed")
    return EasDeployment(
        schema_registry=registry_address,
        eas=eas["contractAddress"],
        indexer=indexer["contractAddress"],
        block_number=registry["blockNumber"],
    )


def register_schemas(
    w3: Web3,
    registry_address: ChecksumAddress,
    deployer: ChecksumAddress,
    schemas: Sequence[EasSchema],
    progress: Progress = lambda _: None,
) -> dict[str, str]:
    """Register each schema and check that the UID the registry reports is the one computed locally."""
    registry = w3.eth.contract(address=registry_address, abi=eas_artifact("SchemaRegistry")["abi"])
    uids: dict[str, str] = {}
    for schema in schemas:
        progress(f"registering schema {schema.name}")
        tx_hash = registry.functions.register(schema.schema_string, schema.resolver, schema.revocable).transact(
            {"from": deployer}
        )
        receipt = _mined(w3, tx_hash, f"registering schema {schema.name}")
        logged = [
            log["topics"][1].to_0x_hex()
            for log in receipt["logs"]
            if log["address"] == registry_address and log["topics"][0].to_0x_hex() == REGISTERED_TOPIC
        ]
        expected = schema_uid(schema.schema_string, schema.resolver, schema.revocable)
        if logged != [expected]:
            raise ChainError(
                f"schema {schema.name} registered as {logged} but its parameters give {expected}",
                reason="deployment-failed",
            )
        uids[schema.name] = expected
    return uids


TEST_TOKEN = "TestUSDC"
TEST_TOKEN_MINT = 1_000_000 * 10**6


def deploy_test_token(
    w3: Web3, deployer: ChecksumAddress, holders: Sequence[ChecksumAddress], progress: Progress = lambda _: None
) -> ChecksumAddress:
    """Deploy the EIP-3009 test stablecoin and mint a million of it to each holder."""
    progress(f"deploying {TEST_TOKEN} and minting to {len(holders)} accounts")
    artifact = project_artifact(TEST_TOKEN)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = _mined(w3, factory.constructor().transact({"from": deployer}), f"deploying {TEST_TOKEN}")
    address = receipt["contractAddress"]
    if address is None:
        raise ChainError(f"deploying {TEST_TOKEN} returned no contract address", reason="deployment-failed")
    token = w3.eth.contract(address=address, abi=artifact["abi"])
    hashes = [token.functions.mint(holder, TEST_TOKEN_MINT).transact({"from": deployer}) for holder in holders]
    for tx_hash in hashes:
        _mined(w3, tx_hash, f"minting {TEST_TOKEN}")
    return address
