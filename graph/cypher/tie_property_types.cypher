// The value types each property holds on the ties of one type from one page of source nodes (paged as in
// list_ties): an export's file schema known before its first row is read.
MATCH (source:__SOURCE__)
WHERE source.id > $after AND EXISTS { (source)-[:__TYPE__]->() }
WITH source ORDER BY source.id LIMIT $limit
WITH collect(source) AS page
CALL (page) {
  UNWIND page AS source
  MATCH (source)-[tie:__TYPE__]->()
  UNWIND keys(tie) AS name
  RETURN collect(DISTINCT [name, valueType(tie[name])]) AS types
}
RETURN size(page) AS size, page[-1].id AS last, types
