"""The questions asked of the graph: Cypher for Neo4j, the same answers in Python for the embedded store."""
