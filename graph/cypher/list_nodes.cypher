// One page of nodes in id order, on the id index, as a single record: the driver's per-record cost in
// Python was most of the time of reading a large bank (a record per node).
MATCH (n:__LABEL__)
WHERE n.id > $after
WITH n ORDER BY n.id LIMIT $limit
RETURN collect([n.id, labels(n), properties(n)]) AS page
