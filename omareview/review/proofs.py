"""OMATrust proof wrappers, serialized as the compact JSON text that goes into `string[] proofs`.

The `proofObject` is kept exactly as received (key order and value types untouched); the text is what
JavaScript's `JSON.stringify` gives for it, which is how OMATrust's portal and SDK write proofs.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from omareview._json import loads_untrusted
from omareview.errors import InputError

__all__ = ["PURPOSE_OF", "Proof", "ProofPurpose", "ProofType", "parse_proof"]

ProofType = Literal["x402-receipt", "x402-offer", "tx-interaction", "evidence-pointer"]
ProofPurpose = Literal["commercial-tx", "shared-control"]
PURPOSE_OF: dict[str, ProofPurpose] = {
    "x402-receipt": "commercial-tx",
    "x402-offer": "commercial-tx",
    "tx-interaction": "commercial-tx",
    "evidence-pointer": "shared-control",
}


class Proof(BaseModel):
    """One proof wrapper: `{"proofType", "proofPurpose", "proofObject"}`.

    Attributes:
        proof_type: `x402-receipt`, `x402-offer`, `tx-interaction` or `evidence-pointer`.
        proof_purpose: `commercial-tx` or `shared-control`.
        proof_object: the proof itself, exactly as received.
    """

    model_config = ConfigDict(defer_build=True, populate_by_name=True, frozen=True)

    proof_type: str = Field(alias="proofType")
    proof_purpose: str | None = Field(default=None, alias="proofPurpose")
    proof_object: Any = Field(alias="proofObject")

    @classmethod
    def wrap(cls, proof_type: ProofType, proof_object: Any) -> Proof:
        return cls(proof_type=proof_type, proof_purpose=PURPOSE_OF[proof_type], proof_object=proof_object)

    def to_text(self) -> str:
        wrapper: dict[str, Any] = {"proofType": self.proof_type}
        if self.proof_purpose is not None:
            wrapper["proofPurpose"] = self.proof_purpose
        wrapper["proofObject"] = self.proof_object
        return json.dumps(wrapper, separators=(",", ":"), ensure_ascii=False)


def parse_proof(text: str) -> Proof | None:
    """A proof read back from chain: JSON text of a wrapper (or an object already). None when unreadable."""
    if not isinstance(text, str | bytes):
        return None
    try:
        value = loads_untrusted(text, what="a proof")
    except InputError:
        return None
    if not isinstance(value, dict) or "proofType" not in value or "proofObject" not in value:
        return None
    try:
        return Proof.model_validate(value)
    except ValueError:
        return None
