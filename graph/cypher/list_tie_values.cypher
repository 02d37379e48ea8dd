// One page of ties of one type (paged by source node, as list_ties), each as a list: source id, target id,
// then the value of each of $keys, null where the tie has none (see list_node_values).
MATCH (source:__SOURCE__)
WHERE source.id > $after AND EXISTS { (source)-[:__TYPE__]->() }
WITH source ORDER BY source.id LIMIT $limit
MATCH (source)-[tie:__TYPE__]->(target)
WITH source.id AS source, target.id AS target, [key IN $keys | tie[key]] AS values
ORDER BY source, target
RETURN collect([source, target] + values) AS page
