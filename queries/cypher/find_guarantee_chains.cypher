// Simple paths of GUARANTEES leaving a customer, 1 to $max_depth ties (never more than 6): who the customer
// stands behind, directly and through the guarantors it backs. Cycles back to a member are cut off.
MATCH path = (start:Customer {id: $customer_id})-[:GUARANTEES*1..6]->(:Customer)
WHERE length(path) <= $max_depth
WITH path, [node IN nodes(path) | node.id] AS members
WHERE all(index IN range(0, size(members) - 2) WHERE NOT members[index] IN members[index + 1..])
RETURN members, [tie IN relationships(path) | tie.amount] AS amounts
ORDER BY members
