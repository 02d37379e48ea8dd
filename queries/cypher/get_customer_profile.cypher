// One customer's own properties, its kind and the managers who look after it (ordered by id).
MATCH (customer:Customer {id: $customer_id})
OPTIONAL MATCH (manager:Manager)-[:MANAGES]->(customer)
WITH customer, manager ORDER BY manager.id
WITH customer, [item IN collect({id: manager.id, name: manager.name}) WHERE item.id IS NOT NULL] AS managers
RETURN customer.id AS customer_id,
       CASE WHEN customer:Company THEN 'Company' WHEN customer:Person THEN 'Person' ELSE 'Customer' END AS kind,
       properties(customer) AS properties, managers
