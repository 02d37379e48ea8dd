// Ties of the given types between the customer and other customers, both directions, counted by type.
MATCH (:Customer {id: $customer_id})-[tie]-(:Customer)
WHERE type(tie) IN $types
RETURN type(tie) AS type, count(tie) AS count
ORDER BY type
