// Nodes of one label. Each row's node is looked up once: a new one is merged (MERGE, not CREATE, so a
// concurrent writer's node is matched), a stored one is written only when some value differs (value and
// type), so a reload of unchanged rows takes no lock and leaves no transaction state. Counts what it did.
// FOREACH over a list of one or none is the conditional write: CALL subqueries did the same, but took the
// planner several times longer, and a fresh server plans one statement per label and tie type.
UNWIND $rows AS row
OPTIONAL MATCH (found:__LABEL__ {id: row.id})
WITH row, found, found IS NOT NULL AND any(key IN keys(row.properties) WHERE NOT coalesce(
    found[key] = row.properties[key] AND valueType(found[key]) = valueType(row.properties[key]),
    found[key] IS NULL AND row.properties[key] IS NULL)) AS changed
FOREACH (_ IN CASE WHEN found IS NULL THEN [1] ELSE [] END |
    MERGE (node:__LABEL__ {id: row.id})
    SET node += row.properties)
FOREACH (_ IN CASE WHEN changed THEN [1] ELSE [] END | SET found += row.properties)
RETURN sum(CASE WHEN found IS NULL THEN 1 ELSE 0 END) AS created, sum(CASE WHEN changed THEN 1 ELSE 0 END) AS updated
