// One page of nodes in id order (as list_nodes), each as a list: its id, its most specific label (the
// customer's kind, as the store reads it), then the value of each of $keys, null where it has none. An export
// turns a page into columns without building a record and a map per node.
MATCH (n:__LABEL__)
WHERE n.id > $after
WITH n ORDER BY n.id LIMIT $limit
RETURN collect([n.id, head([label IN labels(n) WHERE label <> 'Customer'] + ['Customer'])] + [key IN $keys | n[key]])
  AS page
