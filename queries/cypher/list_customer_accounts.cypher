MATCH (customer:Customer {id: $customer_id})-[owns:OWNS]->(account:Account)
OPTIONAL MATCH (account)-[:OF_PRODUCT]->(product:Product)
RETURN account.id AS account_id, owns.role AS role, product.id AS product_id,
       account.status AS status
ORDER BY account_id, product_id
