// The branches each listed customer banks at (BANKED_AT), by customer then branch id.
UNWIND $customer_ids AS customer_id
MATCH (:Customer {id: customer_id})-[:BANKED_AT]->(branch:Branch)
RETURN customer_id, branch.id AS branch_id, branch.name AS branch_name
ORDER BY customer_id, branch_id
