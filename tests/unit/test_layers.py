"""Imports point only down the layers drawn in docs/architecture.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "omareview"


def _layers() -> dict[str, int]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md lost its ```layers block"
    rows = [line.split() for line in block.group(1).strip().splitlines()]
    # Listed top first; a larger rank is a lower layer.
    return {name: rank for rank, row in enumerate(rows) for name in row}


def _layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    if parts[1] == "__main__":
        return "cli"
    return parts[1] if (PACKAGE / parts[1]).is_dir() else "primitives"


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "omareview" or name.startswith("omareview.")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_package_has_a_layer() -> None:
    layers = _layers()
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(layers), f"packages without a layer in docs/architecture.md: {packages - set(layers)}"


def test_imports_only_point_down() -> None:
    layers = _layers()
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        source = _layer_of(module)
        if source == "root":
            continue
        for target in _imports(path):
            destination = _layer_of(target)
            if destination == source:
                continue
            if destination == "root" or layers[destination] <= layers[source]:
                upward.append(f"{module} ({source}) imports {target} ({destination})")
    assert not upward, "imports that run up or sideways:\n" + "\n".join(upward)


def test_the_checker_catches_an_upward_import(tmp_path: Path) -> None:
    """The rule itself can fail: an identity module importing the index is refused."""
    layers = _layers()
    assert layers[_layer_of("omareview.index.query")] < layers[_layer_of("omareview.identity.dids")]
    assert layers[_layer_of("omareview.x402.verify")] == layers[_layer_of("omareview.eas.client")]
    assert _layer_of("omareview.errors") == "primitives"
    assert _layer_of("omareview.__main__") == "cli"
