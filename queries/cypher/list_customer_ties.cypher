// One hop from each listed customer over ties of the given types to other customers, either direction.
// Ties come ordered by (type, other end's id, source id); at most $limit are kept per customer.
// With $min_share_ratio set, SHAREHOLDER_OF ties below that ratio are left out.
UNWIND $customer_ids AS customer_id
MATCH (:Customer {id: customer_id})-[tie]-(other:Customer)
WHERE type(tie) IN $types
  AND ($min_share_ratio IS NULL OR type(tie) <> 'SHAREHOLDER_OF' OR coalesce(tie.ratio, 0.0) >= $min_share_ratio)
WITH customer_id, tie, other ORDER BY type(tie), other.id, startNode(tie).id
WITH customer_id, count(DISTINCT other) AS neighbours, collect({
    type: type(tie), source: startNode(tie).id, target: endNode(tie).id, other: other.id,
    properties: properties(tie)
}) AS found
RETURN customer_id, neighbours, size(found) AS total, found[0..$limit] AS kept
ORDER BY customer_id
