// What a household or corporate group shows of each listed member that exists, in one statement: its short
// description (the columns of list_customer_summaries), the accounts it owns with their products (as
// get_customer_overview) and its GUARANTEES ties with other customers, either direction, ordered by (other
// end's id, source id), at most $limit kept (as list_customer_ties), with how many there are.
UNWIND $customer_ids AS wanted_id
MATCH (customer:Customer {id: wanted_id})
CALL (customer) {
  MATCH (customer)-[owns:OWNS]->(account:Account)
  OPTIONAL MATCH (account)-[:OF_PRODUCT]->(product:Product)
  WITH owns, account, product ORDER BY account.id, product.id
  RETURN collect({
    customer_id: customer.id, account_id: account.id, role: owns.role, status: account.status,
    currency: account.currency, balances: account.balances,
    product_id: product.id, product_name: product.name, category: product.category
  }) AS holdings
}
CALL (customer) {
  MATCH (customer)-[tie:GUARANTEES]-(other:Customer)
  WITH tie, other ORDER BY other.id, startNode(tie).id
  WITH collect({
    type: type(tie), source: startNode(tie).id, target: endNode(tie).id, other: other.id, properties: properties(tie)
  }) AS found
  RETURN size(found) AS guarantees_total, found[0..$limit] AS guarantees
}
RETURN customer.id AS customer_id,
       CASE WHEN customer:Company THEN 'Company' WHEN customer:Person THEN 'Person' ELSE 'Customer' END AS kind,
       customer.name AS name, customer.segment AS segment, customer.city AS city, customer.status AS status,
       customer.tier AS tier, customer.lifecycle_stage AS lifecycle_stage, customer.churn_risk AS churn_risk,
       customer.birth_date AS birth_date, customer.phone_masked AS phone_masked, customer.industry AS industry,
       holdings, guarantees_total, guarantees
ORDER BY customer_id
