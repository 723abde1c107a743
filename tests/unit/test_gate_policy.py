"""The gate's policy as a pure function, decided from the vector table `tests/vectors/gate_policy.json`:
no devnet, no network, no index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from omareview.gate.policy import DEFAULT_POLICY, Policy
from omareview.gate.rules import PolicyFacts, apply_policy

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "gate_policy.json").read_text(encoding="utf-8")
)["cases"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_policy_decides_as_the_vectors_say(case: dict[str, Any]) -> None:
    policy = Policy.model_validate({**DEFAULT_POLICY.model_dump(), **case["policy"]})
    outcome = apply_policy(policy, PolicyFacts.model_validate(case["facts"]))
    expect = case["expect"]
    assert (outcome.action, outcome.tier) == (expect["action"], expect["tier"]), outcome.reasons
    assert (outcome.limit.amount if outcome.limit else None) == expect["limitAmount"]
    for phrase in expect["reasonsInclude"]:
        assert any(phrase in reason for reason in outcome.reasons), (phrase, outcome.reasons)
    if outcome.limit is not None:
        terms = PolicyFacts.model_validate(case["facts"]).terms
        assert (outcome.limit.network, outcome.limit.asset, outcome.limit.pay_to) == (
            terms.network,
            terms.asset,
            terms.pay_to,
        ), "a limit approves exactly the offered network, asset and payTo"


def test_the_table_covers_every_action_and_every_refusal_rule() -> None:
    actions = {case["expect"]["action"] for case in CASES}
    assert actions == {"pay", "ask", "refuse"}
    refusals = " ".join(p for case in CASES for p in case["expect"]["reasonsInclude"])
    for rule in ("proven average", "min_cost_to_move", "AttestSeal DENY"):
        assert rule in refusals, rule
