// Ids of the customers $manager_id MANAGES that match as in search_customer_ids.cypher, in id order: a book
// is searched from its manager, so a search is scoped before anything is counted or cut.
MATCH (:Manager {id: $manager_id})-[:MANAGES]->(customer:Customer)
WHERE customer.id = $q
   OR customer.name CONTAINS $name_part
   OR customer.phone_masked ENDS WITH $phone_tail
RETURN DISTINCT customer.id AS customer_id
ORDER BY customer_id
