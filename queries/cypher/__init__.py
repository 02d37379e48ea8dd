"""The Cypher text of every named query, one ``verb_noun.cypher`` file each."""
