"""No untyped document crosses a module boundary. A public function, method or class attribute of omareview
never takes or gives `dict[str, Any]` or `Mapping[str, Any]`: omareview's own documents are models (or
`TypedDict`s, for payloads signed byte for byte). JSON whose shape another party owns is named for what it
is, `JsonObject` / `JsonMapping` (`omareview._json`), and only in the modules listed here, each with why.
"""

from __future__ import annotations

import ast
from pathlib import Path

import omareview

ROOT = Path(omareview.__file__).parent
UNTYPED = ("dict[str, Any]", "Mapping[str, Any]")
FOREIGN = ("JsonObject", "JsonMapping")
#: Where JSON of another party's shape crosses a module boundary, and whose shape it is.
FOREIGN_JSON = {
    "omareview._wire": "a model's JSON form (`WireModel.to_json`), for callers that need plain JSON",
    "omareview.cli.output": "the command line's --json output, made from models",
    "omareview.cli.review_cmd": "a receipt or offer given on the command line, as given",
    "omareview.devnet.server": "the dev server's DID document (W3C DID Core)",
    "omareview.devnet.toolchain": "compiled contract artifacts (Hardhat's JSON)",
    "omareview.eas._tx": "a transaction receipt's logs (Ethereum JSON-RPC)",
    "omareview.hooks.attach": "MCP tool-call arguments, as the MCP SDK takes them",
    "omareview.hooks.capture": "an x402 settlement response, as the x402 package hands it over",
    "omareview.identity.didweb": "DID documents (W3C DID Core)",
    "omareview.identity.jws": "JWS headers and payloads (RFC 7515), signed byte for byte",
    "omareview.identity.pop": "OMATrust proof objects, signed byte for byte",
    "omareview.mcp.server": "MCP tool results, which the MCP SDK serializes",
    "omareview.review.identity_requests": "OMATrust proof objects carried into identity attestations",
    "omareview.review.outbox": "signed offers and receipts, kept byte for byte",
    "omareview.x402.issue": "x402 PaymentRequired and SettleResponse documents, and the envelopes signed into them",
    "omareview.x402.load": "signed envelopes, kept byte for byte, and whatever carries them",
    "omareview.x402.required": "a 402's extensions, each block another party's",
    "omareview.x402.reviews": "the x402 package's extension hooks and the documents links are read from",
    "omareview.x402.server_extension": "the x402 package's extension hooks",
    "omareview.x402.verify": "a signed payload, as signed",
}


def _public_annotations(tree: ast.Module) -> list[tuple[int, str, str]]:
    """(line, name, annotation) of every public function's parameters and return, every public method's,
    and every public class attribute's, at module level and in public classes."""
    found: list[tuple[int, str, str]] = []

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
                arguments = node.args
                every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
                every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
                for argument in every:
                    if argument.annotation is not None:
                        found.append((node.lineno, prefix + node.name, ast.unparse(argument.annotation)))
                if node.returns is not None:
                    found.append((node.lineno, prefix + node.name, ast.unparse(node.returns)))
            elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                walk(node.body, f"{prefix}{node.name}.")
            elif (
                isinstance(node, ast.AnnAssign)
                and prefix
                and isinstance(node.target, ast.Name)
                and not node.target.id.startswith("_")
            ):
                found.append((node.lineno, prefix + node.target.id, ast.unparse(node.annotation)))

    walk(tree.body, "")
    return found


def violations(source: str, module: str) -> list[str]:
    """What `module`'s public surface lets through untyped, one line each."""
    problems = []
    for line, name, annotation in _public_annotations(ast.parse(source)):
        if any(untyped in annotation for untyped in UNTYPED):
            problems.append(f"{module}:{line} {name}: {annotation} (a document is a model)")
        elif any(foreign in annotation for foreign in FOREIGN) and module not in FOREIGN_JSON:
            problems.append(f"{module}:{line} {name}: {annotation} (not a module listed as passing foreign JSON)")
    return problems


def _modules() -> dict[str, Path]:
    return {
        ".".join(("omareview", *path.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__"): path
        for path in sorted(ROOT.rglob("*.py"))
    }


def test_no_untyped_document_crosses_a_module_boundary() -> None:
    found = [p for module, path in _modules().items() for p in violations(path.read_text(encoding="utf-8"), module)]
    assert found == []


def test_every_listed_module_still_passes_foreign_json() -> None:
    """A module that no longer hands on foreign JSON leaves the list, so the list stays what it says."""
    modules = _modules()
    unused = [
        module
        for module in FOREIGN_JSON
        if not any(
            any(f in annotation for f in FOREIGN)
            for _, _, annotation in _public_annotations(ast.parse(modules[module].read_text(encoding="utf-8")))
        )
    ]
    assert unused == []


def test_the_rule_can_fail() -> None:
    source = """
class Shown:
    body: dict[str, Any]
    _private: dict[str, Any]

def read(raw: Mapping[str, Any] | None) -> str: ...
def _internal(raw: dict[str, Any]) -> dict[str, Any]: ...
def passed(raw: JsonObject) -> None: ...
"""
    assert violations(source, "omareview.example") == [
        "omareview.example:3 Shown.body: dict[str, Any] (a document is a model)",
        "omareview.example:6 read: Mapping[str, Any] | None (a document is a model)",
        "omareview.example:8 passed: JsonObject (not a module listed as passing foreign JSON)",
    ]
