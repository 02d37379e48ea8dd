// Active, consenting customers tied to a holder of the product who do not hold it themselves.
MATCH (product:Product {id: $product_id})<-[:OF_PRODUCT]-(account:Account)<-[owns:OWNS]-(holder:Customer)
WHERE coalesce(owns.role, 'owner') IN ['owner', 'joint'] AND coalesce(account.status, 'open') <> 'closed'
WITH DISTINCT product, holder
MATCH (holder)-[tie:SPOUSE_OF|PARENT_OF|SIBLING_OF|RELATIVE_OF|SHAREHOLDER_OF|LEGAL_REP_OF|DIRECTOR_OF|EMPLOYED_BY|SUBSIDIARY_OF|SUPPLIES|GUARANTEES|REFERRED]-(candidate:Customer)
WHERE candidate <> holder AND candidate.consent_marketing = true
  AND coalesce(candidate.status, 'active') <> 'churned'
  AND NOT EXISTS {
    MATCH (candidate)-[held:OWNS]->(own:Account)-[:OF_PRODUCT]->(product)
    WHERE coalesce(held.role, 'owner') IN ['owner', 'joint'] AND coalesce(own.status, 'open') <> 'closed'
  }
RETURN candidate.id AS candidate, holder.id AS holder, type(tie) AS tie_type
ORDER BY candidate, holder, tie_type
