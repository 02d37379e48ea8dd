// The manager's consenting customers with the highest potential lifetime value: where to look for opportunities.
MATCH (:Manager {id: $manager_id})-[:MANAGES]->(customer:Customer)
WHERE customer.consent_marketing = true
WITH customer, coalesce(customer.ltv_potential, 0.0) AS ltv_potential
RETURN customer.id AS customer_id, customer.name AS name, ltv_potential
ORDER BY ltv_potential DESC, customer_id
LIMIT $limit
