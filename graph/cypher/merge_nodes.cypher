UNWIND $rows AS row
MERGE (n:__LABEL__ {id: row.id})
SET n += row.properties
