"""The public surface: every exported name imports in a fresh interpreter, and each module's `__all__` holds."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import omareview

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "omareview"
PACKAGES = sorted(["omareview"] + [f"omareview.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.pyi").is_file()])


def _stub_exports(package: str) -> dict[str, str]:
    """name → defining module, as the package's `__init__.pyi` declares them."""
    stub = ROOT.joinpath(*package.split("."), "__init__.pyi")
    exports = {}
    for node in ast.parse(stub.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            assert node.level == 1 and node.module, f"{stub}: only `from .module import name as name`"
            for alias in node.names:
                assert alias.asname == alias.name, f"{stub}: {alias.name} must be re-exported `as {alias.name}`"
                exports[alias.name] = f"{package}.{node.module}"
    return exports


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_imports_in_a_fresh_interpreter(package: str) -> None:
    names = sorted(_stub_exports(package))
    assert names, f"{package} exports nothing"
    code = f"import {package} as p\nfor n in {names!r}:\n    getattr(p, n)\nprint(len(p.__all__))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == len(names)


@pytest.mark.parametrize(
    "statement",
    [
        "from omareview.review.submit import ReviewJob, submit_reviews",
        "from omareview import submit_reviews, ReviewJob",
        "import omareview; omareview.ReviewJob",
        "from omareview.hooks import install_hook, paying_client",
        "from omareview import Outbox, Gate, ReviewIndex, EasClient",
    ],
)
def test_readme_imports_work_in_a_fresh_interpreter(statement: str) -> None:
    done = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("package", PACKAGES)
def test_exports_are_in_their_modules_all(package: str) -> None:
    for name, module in _stub_exports(package).items():
        declared = importlib.import_module(module).__dict__.get("__all__")
        assert declared is not None, f"{module} declares no __all__"
        assert name in declared, f"{package} exports {name}, which {module}.__all__ does not list"


def test_every_module_declares_all_and_each_name_exists() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] in ("__init__", "__main__") or "cli" in parts:
            continue
        module = importlib.import_module(".".join(parts))
        declared = getattr(module, "__all__", None)
        assert declared is not None, f"{module.__name__} declares no __all__"
        missing = [name for name in declared if not hasattr(module, name)]
        assert not missing, f"{module.__name__}.__all__ names what it does not define: {missing}"


def test_every_model_builds_its_deferred_schema() -> None:
    """Models build their schemas at first use (`defer_build`), so a broken one would fail only then: build
    them all here."""
    from pydantic import BaseModel

    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] != "__main__":
            importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    pending = list(BaseModel.__subclasses__())
    built = []
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__module__.startswith("omareview."):
            model.model_rebuild(force=True)
            assert model.__pydantic_complete__, f"{model.__qualname__} does not build"
            built.append(model)
    assert len(built) > 20, "the walk found too few models to be looking in the right place"


def test_version_is_exported() -> None:
    assert omareview.__version__.count(".") == 2


@pytest.mark.parametrize(
    "module", ["omareview.x402.eip712", "omareview.x402.verify", "omareview.review.submit", "omareview.index.query"]
)
def test_signature_and_index_modules_load_no_network_code(module: str) -> None:
    """Verifying a signature, submitting directly and reading the index need no DNS or HTTP library."""
    heavy = ("httpx", "httpcore", "dns.resolver", "omareview.identity.fetch", "web3")
    code = f"import sys, {module}\nprint([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["omareview.index.query", "omareview.x402.verify", "omareview.cli.index_cmd"])
def test_what_only_some_calls_need_loads_at_the_first_such_call(module: str) -> None:
    """asyncio, the HTTP stack, cryptography's key code, libsecp256k1 and the TOML parser are start-up cost
    for a command that never awaits, connects, holds a key, signs or reads a config file."""
    deferred = ("asyncio", "http.client", "ssl", "cryptography.hazmat.bindings._rust", "coincurve", "tomllib")
    code = f"import sys, {module}\nprint([m for m in {deferred!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_the_reviews_command_loads_no_judging_or_syncing_code() -> None:
    """Judging, syncing, payment checks and proof code load at the first review judged or sync made."""
    later = (
        "omareview.index.judge",
        "omareview.index.sync",
        "omareview.review.payment",
        "omareview.identity.pop",
        "omareview.x402.verify",
        "omareview.devnet.node",
        "idna",
    )
    code = f"import sys, omareview.cli.index_cmd\nprint([m for m in {later!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_help_lists_commands_without_importing_them() -> None:
    code = (
        "import sys\nfrom omareview.cli.app import run\nrun(['--help'])\n"
        "print([m for m in sys.modules if m.startswith('omareview.cli.') and m.endswith('_cmd')])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert "reviews" in done.stdout and "toolchain" in done.stdout


def test_help_lines_match_the_commands_own() -> None:
    from omareview.cli.app import COMMANDS

    for name, (target, short) in COMMANDS.items():
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert command.get_short_help_str(limit=70) == short, f"the help line of {name} drifted from its command"


def test_every_exported_class_documents_its_parameters() -> None:
    import inspect

    undocumented = []
    for name in omareview.__all__:
        obj = getattr(omareview, name)
        if not inspect.isclass(obj) or (issubclass(obj, omareview.OmaReviewError) and "__init__" not in vars(obj)):
            continue
        doc = vars(obj).get("__doc__") or ""
        if not any(section in doc for section in ("Parameters:", "Attributes:")):
            undocumented.append(name)
    assert not undocumented, f"exported classes whose docstring lists no parameters: {undocumented}"


def test_the_agent_guide_lists_the_public_names_as_they_are() -> None:
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "guides" / "agent.md").read_text(encoding="utf-8")
    listed = re.search(r"cheap\): (`[^\n]*`)\. Errors form one hierarchy", guide)
    assert listed is not None, "the agent guide no longer lists the public names"
    names = {name.strip("`") for name in listed.group(1).split(", ")}
    assert names == set(omareview.__all__) - {"__version__"}
