MATCH (n:__LABEL__ {id: $id})
RETURN labels(n) AS labels, properties(n) AS properties
