"""The pre-payment trust gate: read a service's proven reviews and signed offers before paying its 402."""

from omareview.gate.attestseal import SealResult, sign_seal, verify_seal
from omareview.gate.decide import Decision, Gate, PaymentNotApprovedError
from omareview.gate.policy import DEFAULT_POLICY, AttestSealPolicy, Policy, Tier, load_policy

__all__ = [
    "DEFAULT_POLICY",
    "AttestSealPolicy",
    "Decision",
    "Gate",
    "PaymentNotApprovedError",
    "Policy",
    "SealResult",
    "Tier",
    "load_policy",
    "sign_seal",
    "verify_seal",
]
