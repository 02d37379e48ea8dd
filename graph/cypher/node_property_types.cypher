// The value types each property holds on one page of a label's nodes (in id order, on the id index): an
// export's file schema known before its first row is read, without a first read of every node's values.
MATCH (n:__LABEL__)
WHERE n.id > $after
WITH n ORDER BY n.id LIMIT $limit
WITH collect(n) AS page
CALL (page) {
  UNWIND page AS n
  UNWIND keys(n) AS name
  WITH n, name WHERE name <> 'id'
  RETURN collect(DISTINCT [name, valueType(n[name])]) AS types
}
RETURN size(page) AS size, page[-1].id AS last, types
