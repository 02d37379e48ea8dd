// Ties of one type. Both ends of every row are looked up once; the ties are merged only when all of them
// exist, and the smallest-numbered row with a missing end is returned (number is null when none is
// missing): one round trip per tie type instead of a check followed by the merge. As in merge_nodes, a
// stored tie is written only when some value differs, and the statement counts what it created and updated.
UNWIND $rows AS row
OPTIONAL MATCH (source:__SOURCE__ {id: row.source})
OPTIONAL MATCH (target:__TARGET__ {id: row.target})
WITH collect({number: row.number, properties: row.properties, source: source, target: target}) AS found
WITH found, reduce(first = null, item IN found |
    CASE WHEN (item.source IS NULL OR item.target IS NULL) AND (first IS NULL OR item.number < first.number)
         THEN {number: item.number, source_missing: item.source IS NULL} ELSE first END) AS missing
// With a missing end nothing is merged: one empty item keeps a row flowing to report it.
UNWIND CASE WHEN missing IS NULL THEN found ELSE [{}] END AS item
WITH missing, item.source AS source, item.target AS target, item.properties AS properties
OPTIONAL MATCH (source)-[stored:__TYPE__]->(target)
WITH missing, source, target, properties, stored, stored IS NOT NULL AND any(key IN keys(properties) WHERE NOT coalesce(
    stored[key] = properties[key] AND valueType(stored[key]) = valueType(properties[key]),
    stored[key] IS NULL AND properties[key] IS NULL)) AS changed
WITH *, stored IS NULL AND source IS NOT NULL AS created
FOREACH (_ IN CASE WHEN created THEN [1] ELSE [] END |
    MERGE (source)-[tie:__TYPE__]->(target)
    SET tie += properties)
FOREACH (_ IN CASE WHEN changed THEN [1] ELSE [] END | SET stored += properties)
RETURN missing.number AS number, missing.source_missing AS source_missing,
       sum(CASE WHEN created THEN 1 ELSE 0 END) AS created, sum(CASE WHEN changed THEN 1 ELSE 0 END) AS updated
