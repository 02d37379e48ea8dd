// What names a group of customers, member by member: its city, the companies it works for, the companies it is
// a subsidiary of and the customers it referred. Counting them over the group is done by queries/naming.py.
UNWIND $customer_ids AS customer_id
MATCH (member:Customer {id: customer_id})
RETURN member.id AS customer_id,
       member.city AS city,
       [(member)-[:EMPLOYED_BY]->(employer:Customer) | employer.id] AS employers,
       [(member)-[:SUBSIDIARY_OF]->(parent:Customer) | parent.id] AS parents,
       [(member)-[:REFERRED]->(referred:Customer) | referred.id] AS referred
ORDER BY customer_id
