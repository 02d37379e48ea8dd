// Customers of one kind (Person or Company), as merge_nodes does for other labels. The kind's label is set
// only on a new customer or one whose kind changed: setting a label a node already has still costs a write.
UNWIND $rows AS row
OPTIONAL MATCH (found:Customer {id: row.id})
WITH row, found, found IS NOT NULL AND (NOT found:__KIND__ OR found:__OTHER__) AS relabelled,
     found IS NOT NULL AND any(key IN keys(row.properties) WHERE NOT coalesce(
        found[key] = row.properties[key] AND valueType(found[key]) = valueType(row.properties[key]),
        found[key] IS NULL AND row.properties[key] IS NULL)) AS changed
FOREACH (_ IN CASE WHEN found IS NULL THEN [1] ELSE [] END |
    MERGE (customer:Customer {id: row.id})
    SET customer += row.properties, customer:__KIND__
    // Another label only when a concurrent writer merged the same id as the other kind first.
    REMOVE customer:__OTHER__)
FOREACH (_ IN CASE WHEN changed THEN [1] ELSE [] END | SET found += row.properties)
FOREACH (_ IN CASE WHEN relabelled THEN [1] ELSE [] END | SET found:__KIND__ REMOVE found:__OTHER__)
RETURN sum(CASE WHEN found IS NULL THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN changed OR relabelled THEN 1 ELSE 0 END) AS updated
