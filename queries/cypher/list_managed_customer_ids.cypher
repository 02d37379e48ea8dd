// Which of the listed customers the manager looks after (MANAGES), by id.
MATCH (:Manager {id: $manager_id})-[:MANAGES]->(customer:Customer)
WHERE customer.id IN $customer_ids
RETURN DISTINCT customer.id AS customer_id
ORDER BY customer_id
