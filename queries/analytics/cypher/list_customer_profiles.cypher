// Eligibility facts, currently held products (open accounts, owner or joint) and the fitted cross-sell scores
// analyze wrote, of the given customers.
UNWIND $customer_ids AS customer_id
MATCH (c:Customer {id: customer_id})
RETURN c.id AS customer_id,
       CASE WHEN c:Company THEN 'Company' ELSE 'Person' END AS kind,
       c.segment AS segment, c.birth_date AS birth_date, c.consent_marketing AS consent_marketing,
       c.status AS status,
       c.cross_sell_products AS cross_sell_products, c.cross_sell_scores AS cross_sell_scores,
       c.cross_sell_own_scores AS cross_sell_own_scores,
       COLLECT {
         MATCH (c)-[owns:OWNS]->(account:Account)-[:OF_PRODUCT]->(product:Product)
         WHERE coalesce(owns.role, 'owner') IN ['owner', 'joint'] AND coalesce(account.status, 'open') <> 'closed'
         WITH DISTINCT product.id AS product_id
         RETURN product_id ORDER BY product_id
       } AS products
ORDER BY customer_id
