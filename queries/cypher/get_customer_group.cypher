// A household or corporate group in one statement, when it is whole: the customers reached from $customer_id over
// ties of the given types, either direction (with $min_share_ratio set, SHAREHOLDER_OF ties below that ratio are
// not followed), each with list_group_members' columns and the ties of those types it starts to other customers,
// ordered by (type, other end's id). No rows when the customer does not exist or the group is not whole: more than
// $max_members members, or a member with more than $limit such ties, where the breadth-first search of
// queries.network would cut it (the caller then runs that search).
MATCH (anchor:Customer {id: $customer_id})
CALL (anchor) {
  // 2000 ties deep at most (queries.groups.MAX_GROUP_SIZE): $max_members + 1 customers are at most $max_members deep.
  MATCH ANY SHORTEST (anchor)((:Customer)-[tie]-(:Customer)
      WHERE type(tie) IN $types
        AND ($min_share_ratio IS NULL OR type(tie) <> 'SHAREHOLDER_OF' OR coalesce(tie.ratio, 0.0) >= $min_share_ratio)
    ){0,2000}(member:Customer)
  WITH member LIMIT $max_members + 1
  RETURN collect(member) AS members
}
WITH members
WHERE size(members) <= $max_members
  AND all(member IN members WHERE COUNT {
    MATCH (member)-[tie]-(:Customer)
    WHERE type(tie) IN $types
      AND ($min_share_ratio IS NULL OR type(tie) <> 'SHAREHOLDER_OF' OR coalesce(tie.ratio, 0.0) >= $min_share_ratio)
  } <= $limit)
UNWIND members AS customer
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
CALL (customer) {
  MATCH (customer)-[tie]->(other:Customer)
  WHERE type(tie) IN $types
    AND ($min_share_ratio IS NULL OR type(tie) <> 'SHAREHOLDER_OF' OR coalesce(tie.ratio, 0.0) >= $min_share_ratio)
  WITH tie, other ORDER BY type(tie), other.id
  RETURN collect({type: type(tie), source: customer.id, target: other.id, properties: properties(tie)}) AS ties
}
RETURN customer.id AS customer_id,
       CASE WHEN customer:Company THEN 'Company' WHEN customer:Person THEN 'Person' ELSE 'Customer' END AS kind,
       customer.name AS name, customer.segment AS segment, customer.city AS city, customer.status AS status,
       customer.tier AS tier, customer.lifecycle_stage AS lifecycle_stage, customer.churn_risk AS churn_risk,
       customer.birth_date AS birth_date, customer.phone_masked AS phone_masked, customer.industry AS industry,
       holdings, guarantees_total, guarantees, ties
ORDER BY customer_id
