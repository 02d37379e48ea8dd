UNWIND $rows AS row
MATCH (source:__SOURCE__ {id: row.source})
MATCH (target:__TARGET__ {id: row.target})
MERGE (source)-[tie:__TYPE__]->(target)
SET tie += row.properties
