// Members of one referral cluster (or of all when $cluster_id is null) with what the summaries need.
MATCH (c:Customer)
WHERE c.cluster_id IS NOT NULL AND ($cluster_id IS NULL OR c.cluster_id = $cluster_id)
RETURN c.cluster_id AS cluster_id, c.id AS customer_id, c.aum AS aum, c.pagerank AS pagerank,
       c.status AS status,
       COLLECT {
         MATCH (c)-[owns:OWNS]->(account:Account)-[:OF_PRODUCT]->(product:Product)
         WHERE coalesce(owns.role, 'owner') IN ['owner', 'joint'] AND coalesce(account.status, 'open') <> 'closed'
         WITH DISTINCT product.id AS product_id
         RETURN product_id ORDER BY product_id
       } AS products,
       COUNT { (c)-[:REFERRED]->(:Customer) } AS referrals_made,
       EXISTS { (:Customer)-[:REFERRED]->(c) } AS referred
ORDER BY cluster_id, customer_id
