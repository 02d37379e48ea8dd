// One page of ties of one type: the next $limit source nodes (in id order, on the id index) that have such
// a tie, and all their ties. Sources without the type are skipped in the server instead of coming back as
// empty rows: most customers have no tie of most types, and reading them cost minutes at a million.
// The page comes back as one record, [source id, target id, properties] per tie (see list_nodes).
MATCH (source:__SOURCE__)
WHERE source.id > $after AND EXISTS { (source)-[:__TYPE__]->() }
WITH source ORDER BY source.id LIMIT $limit
MATCH (source)-[tie:__TYPE__]->(target)
WITH source.id AS source, target.id AS target, properties(tie) AS properties
ORDER BY source, target
RETURN collect([source, target, properties]) AS page
