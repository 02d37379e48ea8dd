// Every shortest path of at most 4 ties between two customers over customer-to-customer ties of $types: the ids
// of its customers and its ties. Ordered by the ids along the path, then by each tie's type and source.
MATCH (start:Customer {id: $from_id}), (end:Customer {id: $to_id})
MATCH path = allShortestPaths((start)-[*..4]-(end))
WHERE all(tie IN relationships(path) WHERE type(tie) IN $types)
  AND all(node IN nodes(path) WHERE node:Customer)
WITH [node IN nodes(path) | node.id] AS node_ids,
     [tie IN relationships(path) | {type: type(tie), source: startNode(tie).id, target: endNode(tie).id}] AS ties,
     [tie IN relationships(path) | type(tie) + ' ' + startNode(tie).id] AS tie_keys
RETURN node_ids, ties
ORDER BY node_ids, tie_keys
LIMIT $limit
