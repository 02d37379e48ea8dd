// Both ends of every row are looked up once; the ties are merged only when all of them exist, and the
// smallest-numbered row with a missing end is returned (no row when none is missing). One round trip
// per tie type instead of a check followed by the merge.
UNWIND $rows AS row
OPTIONAL MATCH (source:__SOURCE__ {id: row.source})
OPTIONAL MATCH (target:__TARGET__ {id: row.target})
WITH collect({number: row.number, properties: row.properties, source: source, target: target}) AS found
WITH found, reduce(first = null, item IN found |
    CASE WHEN (item.source IS NULL OR item.target IS NULL) AND (first IS NULL OR item.number < first.number)
         THEN {number: item.number, source_missing: item.source IS NULL} ELSE first END) AS missing
CALL (found, missing) {
    WITH found WHERE missing IS NULL
    UNWIND found AS item
    WITH item.source AS source, item.target AS target, item.properties AS properties
    MERGE (source)-[tie:__TYPE__]->(target)
    SET tie += properties
}
WITH missing WHERE missing IS NOT NULL
RETURN missing.number AS number, missing.source_missing AS source_missing
