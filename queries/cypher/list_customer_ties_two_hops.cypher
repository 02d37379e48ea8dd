// The first two levels of a breadth-first search from one customer in one statement: list_customer_ties' rows
// for the customer and for every other end of its kept ties (the first $limit in list_customer_ties' order).
MATCH (centre:Customer {id: $customer_id})
CALL (centre) {
  MATCH (centre)-[tie]-(other:Customer)
  WHERE type(tie) IN $types
    AND ($min_share_ratio IS NULL OR type(tie) <> 'SHAREHOLDER_OF' OR coalesce(tie.ratio, 0.0) >= $min_share_ratio)
  WITH tie, other ORDER BY type(tie), other.id, startNode(tie).id
  LIMIT $limit
  RETURN collect(other) AS reached
}
UNWIND [centre] + reached AS customer
WITH DISTINCT customer
MATCH (customer)-[tie]-(other:Customer)
WHERE type(tie) IN $types
  AND ($min_share_ratio IS NULL OR type(tie) <> 'SHAREHOLDER_OF' OR coalesce(tie.ratio, 0.0) >= $min_share_ratio)
WITH customer.id AS customer_id, tie, other ORDER BY type(tie), other.id, startNode(tie).id
WITH customer_id, count(DISTINCT other) AS neighbours, collect({
    type: type(tie), source: startNode(tie).id, target: endNode(tie).id, other: other.id,
    properties: properties(tie)
}) AS found
RETURN customer_id, neighbours, size(found) AS total, found[0..$limit] AS kept
ORDER BY customer_id
