// Everything one customer's recommendations are scored from, in one statement: its eligibility facts and held
// products (as list_customer_profiles), what decides whether it gets offers at all (status, lifecycle stage, the
// day analyze scored it), and, only for a customer who consented to marketing, the catalogue (as list_products),
// its neighbours' holdings (as list_neighbour_holdings) and the products held two ties away (as
// list_second_hop_holdings).
MATCH (c:Customer {id: $customer_id})
WITH c, c.consent_marketing = true AS offered
CALL (c, offered) {
  MATCH (product:Product)
  WHERE offered
  WITH product ORDER BY product.id
  RETURN collect({
    product_id: product.id, name: product.name, category: product.category, min_age: product.min_age,
    segments: product.segments, exclusive_with: product.exclusive_with,
    holders: product.holders, holder_share: product.holder_share,
    co_held_products: product.co_held_products, co_held_counts: product.co_held_counts,
    cross_sell_tie_types: product.cross_sell_tie_types, cross_sell_tie_weights: product.cross_sell_tie_weights
  }) AS catalogue
}
CALL (c, offered) {
  MATCH (c)-[tie:SPOUSE_OF|PARENT_OF|SIBLING_OF|RELATIVE_OF|SHAREHOLDER_OF|LEGAL_REP_OF|DIRECTOR_OF|EMPLOYED_BY|SUBSIDIARY_OF|SUPPLIES|GUARANTEES|REFERRED]-(neighbour:Customer)
  WHERE offered AND neighbour <> c
  WITH neighbour.id AS neighbour_id, type(tie) AS tie_type,
       COLLECT {
         MATCH (neighbour)-[owns:OWNS]->(account:Account)-[:OF_PRODUCT]->(product:Product)
         WHERE coalesce(owns.role, 'owner') IN ['owner', 'joint'] AND coalesce(account.status, 'open') <> 'closed'
         WITH DISTINCT product.id AS product_id
         RETURN product_id ORDER BY product_id
       } AS products
  ORDER BY neighbour_id, tie_type
  RETURN collect({neighbour: neighbour_id, tie_type: tie_type, products: products}) AS neighbours
}
CALL (c, offered) {
  MATCH (c)-[first:SPOUSE_OF|PARENT_OF|SIBLING_OF|RELATIVE_OF|SHAREHOLDER_OF|LEGAL_REP_OF|DIRECTOR_OF|EMPLOYED_BY|SUBSIDIARY_OF|SUPPLIES|GUARANTEES|REFERRED]-(via:Customer)
  WHERE offered AND via <> c
  WITH c, via, type(first) AS first_type,
       COUNT { (via)-[:SPOUSE_OF|PARENT_OF|SIBLING_OF|RELATIVE_OF|SHAREHOLDER_OF|LEGAL_REP_OF|DIRECTOR_OF|EMPLOYED_BY|SUBSIDIARY_OF|SUPPLIES|GUARANTEES|REFERRED]-(other:Customer) WHERE other <> c } AS fanout
  MATCH (via)-[second:SPOUSE_OF|PARENT_OF|SIBLING_OF|RELATIVE_OF|SHAREHOLDER_OF|LEGAL_REP_OF|DIRECTOR_OF|EMPLOYED_BY|SUBSIDIARY_OF|SUPPLIES|GUARANTEES|REFERRED]-(holder:Customer)
  WHERE holder <> c
  MATCH (holder)-[owns:OWNS]->(account:Account)-[:OF_PRODUCT]->(product:Product)
  WHERE coalesce(owns.role, 'owner') IN ['owner', 'joint'] AND coalesce(account.status, 'open') <> 'closed'
  WITH via.id AS via_id, first_type, type(second) AS second_type, product.id AS product_id, fanout,
       count(DISTINCT holder) AS holders, min(holder.id) AS example
  ORDER BY via_id, first_type, second_type, product_id
  RETURN collect({
    via: via_id, first_type: first_type, second_type: second_type, product_id: product_id, fanout: fanout,
    holders: holders, example: example
  }) AS second_hop
}
RETURN c.id AS customer_id,
       CASE WHEN c:Company THEN 'Company' ELSE 'Person' END AS kind,
       c.segment AS segment, c.birth_date AS birth_date, c.consent_marketing AS consent_marketing,
       c.status AS status, c.lifecycle_stage AS lifecycle_stage, c.analytics_as_of AS analytics_as_of,
       c.cross_sell_products AS cross_sell_products, c.cross_sell_scores AS cross_sell_scores,
       c.cross_sell_own_scores AS cross_sell_own_scores,
       COLLECT {
         MATCH (c)-[owns:OWNS]->(account:Account)-[:OF_PRODUCT]->(product:Product)
         WHERE coalesce(owns.role, 'owner') IN ['owner', 'joint'] AND coalesce(account.status, 'open') <> 'closed'
         WITH DISTINCT product.id AS product_id
         RETURN product_id ORDER BY product_id
       } AS products,
       catalogue, neighbours, second_hop
