"""Loaders: reading source files into checked, normalised rows for the graph store."""
