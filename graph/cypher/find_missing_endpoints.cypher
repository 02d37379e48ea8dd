UNWIND $rows AS row
OPTIONAL MATCH (source:__SOURCE__ {id: row.source})
OPTIONAL MATCH (target:__TARGET__ {id: row.target})
WITH row, source, target
WHERE source IS NULL OR target IS NULL
RETURN row.number AS number, source IS NULL AS source_missing
ORDER BY number
LIMIT 1
