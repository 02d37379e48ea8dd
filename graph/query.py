"""Named queries: one question, answered in Cypher on Neo4j and in Python on the embedded store.

The Cypher text lives in a ``.cypher`` file beside the module that defines the query (one query per
file, values only as ``$params``); the embedded answer is a function over the embedded graph. Both must
return the same rows, which the cross-backend tests check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, LiteralString, cast

if TYPE_CHECKING:
    from graph.embedded.view import GraphView

Rows = list[dict[str, Any]]
EmbeddedAnswer = Callable[["GraphView", Mapping[str, Any]], Rows]


@dataclass(frozen=True)
class NamedQuery:
    """A question with its Cypher file (in ``package``) and its embedded-store implementation."""

    name: str
    package: str
    embedded: EmbeddedAnswer = field(compare=False)

    @property
    def cypher(self) -> LiteralString:
        return load_cypher(self.package, self.name)


@cache
def load_cypher(package: str, name: str) -> LiteralString:
    """Text of ``<package>/<name>.cypher``, read once. Files are ours, so the text is trusted."""
    text = resources.files(package).joinpath(f"{name}.cypher").read_text(encoding="utf-8")
    return cast(LiteralString, text)
