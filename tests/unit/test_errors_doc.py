"""Every reason code the library can raise is listed on the docs' error page."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from omareview.errors import ChainError, ConfigError, DevnetError, InputError, ServiceError, ToolchainError

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def _codes_in_source() -> set[str]:
    codes = set()
    for path in (ROOT / "omareview").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "reason" and isinstance(node.value, ast.Constant):
                codes.add(node.value.value)
            elif isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "default_reason":
                assert isinstance(node.value, ast.Constant)
                codes.add(node.value.value)
    # The gate's decision reasons and x402's AbortResult reasons are sentences for people, not codes.
    return {code for code in codes if isinstance(code, str) and CODE.match(code)}


def test_every_reason_code_is_documented() -> None:
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", page, re.M))
    codes = _codes_in_source()
    assert len(codes) > 40, "the scan found too few codes to be looking in the right place"
    assert codes <= documented, f"reason codes missing from docs/errors.md: {sorted(codes - documented)}"


def test_the_reason_type_is_the_documented_list() -> None:
    """`omareview.errors.Reason` (what mypy checks every `reason=` against) and the errors page list the same
    codes, so a new code is documented before it can be raised."""
    from omareview.errors import REASONS

    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9-]+)` \|", page, re.M))
    assert documented == REASONS


def test_each_class_has_its_default_reason() -> None:
    expected = {
        InputError: "invalid-input",
        ConfigError: "bad-config",
        ChainError: "chain-unavailable",
        ServiceError: "service-unavailable",
        ToolchainError: "toolchain-missing",
        DevnetError: "devnet-failed",
    }
    for cls, reason in expected.items():
        assert cls("x").reason == reason
        assert cls("x", reason="bad-json").reason == "bad-json"
    assert not issubclass(ToolchainError, ChainError) and not issubclass(DevnetError, ChainError)


def test_the_cli_maps_classes_to_exit_codes_and_adds_hints() -> None:
    from omareview.cli.app import error_message, exit_code

    assert [exit_code(c("x")) for c in (InputError, ConfigError, ChainError, ServiceError, ToolchainError)] == [
        1,
        2,
        3,
        3,
        3,
    ]
    message = error_message(ConfigError("no devnet is running", reason="devnet-not-running"))
    assert message.startswith("no devnet is running; start one with `omareview devnet up --detach`")
    assert error_message(InputError("plain")) == "plain"
