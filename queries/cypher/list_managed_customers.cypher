// The short description of every customer the manager looks after, with its current lifetime value and the
// as-of date analyze stamped on it.
MATCH (:Manager {id: $manager_id})-[:MANAGES]->(customer:Customer)
RETURN customer.id AS customer_id,
       CASE WHEN customer:Company THEN 'Company' WHEN customer:Person THEN 'Person' ELSE 'Customer' END AS kind,
       customer.name AS name, customer.segment AS segment, customer.city AS city, customer.status AS status,
       customer.tier AS tier, customer.lifecycle_stage AS lifecycle_stage, customer.churn_risk AS churn_risk,
       customer.birth_date AS birth_date, customer.phone_masked AS phone_masked, customer.industry AS industry,
       customer.ltv_current AS ltv_current, customer.analytics_as_of AS analytics_as_of
ORDER BY customer_id
