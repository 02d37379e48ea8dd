// Accounts owned by each listed customer, with the owner's role, the account's balances and its product.
UNWIND $customer_ids AS customer_id
MATCH (:Customer {id: customer_id})-[owns:OWNS]->(account:Account)
OPTIONAL MATCH (account)-[:OF_PRODUCT]->(product:Product)
RETURN customer_id, account.id AS account_id, owns.role AS role, account.status AS status,
       account.currency AS currency, account.balances AS balances,
       product.id AS product_id, product.name AS product_name, product.category AS category
ORDER BY customer_id, account_id, product_id
