MATCH (n:__LABEL__)
RETURN n.id AS id, labels(n) AS labels, properties(n) AS properties
ORDER BY id
