// Products held two ties away, counted per first-hop customer: holders among that customer's other ties,
// its number of such ties (fanout), and the smallest holder id as an example for the evidence path.
MATCH (c:Customer {id: $customer_id})-[first:SPOUSE_OF|PARENT_OF|SIBLING_OF|RELATIVE_OF|SHAREHOLDER_OF|LEGAL_REP_OF|DIRECTOR_OF|EMPLOYED_BY|SUBSIDIARY_OF|SUPPLIES|GUARANTEES|REFERRED]-(via:Customer)
WHERE via <> c
WITH c, via, type(first) AS first_type,
     COUNT { (via)-[:SPOUSE_OF|PARENT_OF|SIBLING_OF|RELATIVE_OF|SHAREHOLDER_OF|LEGAL_REP_OF|DIRECTOR_OF|EMPLOYED_BY|SUBSIDIARY_OF|SUPPLIES|GUARANTEES|REFERRED]-(other:Customer) WHERE other <> c } AS fanout
MATCH (via)-[second:SPOUSE_OF|PARENT_OF|SIBLING_OF|RELATIVE_OF|SHAREHOLDER_OF|LEGAL_REP_OF|DIRECTOR_OF|EMPLOYED_BY|SUBSIDIARY_OF|SUPPLIES|GUARANTEES|REFERRED]-(holder:Customer)
WHERE holder <> c
MATCH (holder)-[owns:OWNS]->(account:Account)-[:OF_PRODUCT]->(product:Product)
WHERE coalesce(owns.role, 'owner') IN ['owner', 'joint'] AND coalesce(account.status, 'open') <> 'closed'
RETURN via.id AS via, first_type, type(second) AS second_type, product.id AS product_id, fanout,
       count(DISTINCT holder) AS holders, min(holder.id) AS example
ORDER BY via, first_type, second_type, product_id
