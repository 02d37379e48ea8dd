// Ids of the customers whose id equals $q, whose name contains $name_part, or whose masked phone ends with
// $phone_tail, in id order; a null $name_part or $phone_tail matches nothing (a caller who sees names only
// masked may not search by name). Each alternative is answered from an index (the id constraint, the text
// indexes on name and phone_masked); the API counts the ids in full before it cuts a page.
MATCH (customer:Customer)
WHERE customer.id = $q
   OR customer.name CONTAINS $name_part
   OR customer.phone_masked ENDS WITH $phone_tail
RETURN customer.id AS customer_id
ORDER BY customer_id
