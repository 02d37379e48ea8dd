MATCH (source)-[tie:__TYPE__]->(target)
RETURN source.id AS source, target.id AS target, properties(tie) AS properties
ORDER BY source, target
