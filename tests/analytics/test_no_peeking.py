"""The analytics cannot see how a generated bank was made: no generator parameters, no ground truth."""

from __future__ import annotations

import ast
from pathlib import Path

import queries

QUERIES = Path(queries.__file__).parent
ALLOWED = {("loaders.generator", "generate")}  # eval makes a bank, then sees only what was loaded


def _imports(tree: ast.AST) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
    return found


def test_queries_never_import_the_generators_mechanics_or_read_its_truth() -> None:
    sources = sorted(QUERIES.rglob("*.py"))
    assert len(sources) > 10
    for path in sources:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for module, name in _imports(tree):
            if module.startswith("loaders.generator") or (module == "loaders" and name == "generator"):
                assert (module, name) in ALLOWED, f"{path.name} imports {module} {name}"
        texts = [
            node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
        assert not [text for text in texts if "ground_truth" in text], f"{path.name} names the ground truth"
