MATCH (source:__SOURCE__)
WHERE source.id > $after
WITH source ORDER BY source.id LIMIT $limit
OPTIONAL MATCH (source)-[tie:__TYPE__]->(target)
RETURN source.id AS source, target.id AS target, properties(tie) AS properties
ORDER BY source, target
