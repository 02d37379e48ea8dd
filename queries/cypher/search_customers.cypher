// Customers whose id equals $q, whose name contains $q, or whose masked phone ends with $phone_tail.
// The planner answers each alternative from an index (the id constraint, the text indexes on name and
// phone_masked) and joins them; without those indexes this is a scan of every customer.
MATCH (customer:Customer)
WHERE customer.id = $q
   OR customer.name CONTAINS $q
   OR ($phone_tail IS NOT NULL AND customer.phone_masked ENDS WITH $phone_tail)
WITH customer ORDER BY customer.id LIMIT $limit
RETURN customer.id AS customer_id,
       CASE WHEN customer:Company THEN 'Company' WHEN customer:Person THEN 'Person' ELSE 'Customer' END AS kind,
       customer.name AS name, customer.segment AS segment, customer.city AS city, customer.status AS status,
       customer.tier AS tier, customer.lifecycle_stage AS lifecycle_stage, customer.churn_risk AS churn_risk,
       customer.birth_date AS birth_date, customer.phone_masked AS phone_masked, customer.industry AS industry
ORDER BY customer_id
