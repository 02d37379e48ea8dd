// Customers tied to each given customer (either direction), the tie type, and the products they hold.
UNWIND $customer_ids AS customer_id
WITH DISTINCT customer_id
MATCH (c:Customer {id: customer_id})-[tie:SPOUSE_OF|PARENT_OF|SIBLING_OF|RELATIVE_OF|SHAREHOLDER_OF|LEGAL_REP_OF|DIRECTOR_OF|EMPLOYED_BY|SUBSIDIARY_OF|SUPPLIES|GUARANTEES|REFERRED]-(neighbour:Customer)
WHERE neighbour <> c
RETURN c.id AS customer_id, neighbour.id AS neighbour, type(tie) AS tie_type,
       COLLECT {
         MATCH (neighbour)-[owns:OWNS]->(account:Account)-[:OF_PRODUCT]->(product:Product)
         WHERE coalesce(owns.role, 'owner') IN ['owner', 'joint'] AND coalesce(account.status, 'open') <> 'closed'
         WITH DISTINCT product.id AS product_id
         RETURN product_id ORDER BY product_id
       } AS products
ORDER BY customer_id, neighbour, tie_type
