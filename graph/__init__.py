"""The graph: data model, tie registry and the store interface with its two backends."""
