"""Cypher text of the analytics named queries, one ``verb_noun.cypher`` file each."""
