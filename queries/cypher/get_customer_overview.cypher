// One customer's 360 view in one statement: its own properties and kind, the managers who look after it (ordered
// by id), the accounts it owns with their products (one entry per account and product), and its ties of the given
// types with other customers, both directions, counted by type. With $manager_id set, nothing for a customer that
// manager does not look after (MANAGES): a manager's book check, in the same statement.
MATCH (customer:Customer {id: $customer_id})
WHERE $manager_id IS NULL OR EXISTS { MATCH (:Manager {id: $manager_id})-[:MANAGES]->(customer) }
CALL (customer) {
  OPTIONAL MATCH (manager:Manager)-[:MANAGES]->(customer)
  WITH manager ORDER BY manager.id
  RETURN [item IN collect({id: manager.id, name: manager.name}) WHERE item.id IS NOT NULL] AS managers
}
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
  MATCH (customer)-[tie]-(:Customer)
  WHERE type(tie) IN $types
  WITH type(tie) AS type, count(tie) AS count ORDER BY type
  RETURN collect({type: type, count: count}) AS tie_counts
}
RETURN customer.id AS customer_id,
       CASE WHEN customer:Company THEN 'Company' WHEN customer:Person THEN 'Person' ELSE 'Customer' END AS kind,
       properties(customer) AS properties, managers, holdings, tie_counts
