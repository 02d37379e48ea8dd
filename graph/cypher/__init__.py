"""The Cypher the Neo4j backend runs for store operations, one statement per ``.cypher`` file.

Labels and relationship types cannot be Cypher parameters, so a file may name them with placeholders
(``__LABEL__``); :func:`render` fills them only from the schema's enums, never from user text.
"""

from __future__ import annotations

from typing import LiteralString, cast

from graph.model import NodeLabel, TieType
from graph.query import load_cypher


def render(name: str, **names: NodeLabel | TieType) -> LiteralString:
    """The statement in ``<name>.cypher`` with each ``__KEY__`` replaced by an enum value."""
    text: str = load_cypher(__name__, name)
    for key, value in names.items():
        if not isinstance(value, NodeLabel | TieType):
            raise TypeError(f"{key} must come from the schema's enums, not {type(value).__name__}")
        text = text.replace(f"__{key.upper()}__", value.value)
    if "__" in text:
        raise ValueError(f"{name}.cypher still has a placeholder after rendering")
    return cast(LiteralString, text)
