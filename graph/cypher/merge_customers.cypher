UNWIND $rows AS row
MERGE (n:Customer {id: row.id})
SET n += row.properties, n:__KIND__
REMOVE n:__OTHER__
