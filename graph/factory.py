"""Open the store the settings name. The only place that chooses a backend."""

from __future__ import annotations

from graph.settings import Backend, Settings
from graph.store import GraphStore
from graph.ties import TieRegistry


def open_store(settings: Settings, *, read_only: bool = False) -> GraphStore:
    """The configured store, with the bank's tie weights applied."""
    registry = TieRegistry.from_file(settings.tie_weights_path)
    if settings.backend is Backend.NEO4J:
        from graph.neo4j_store import Neo4jStore

        return Neo4jStore.from_settings(settings, registry)
    from graph.embedded import EmbeddedStore

    return EmbeddedStore(
        settings.embedded_path, read_only=read_only, registry=registry, write_thread=settings.embedded_write_thread
    )
