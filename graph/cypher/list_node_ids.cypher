// One page of the ids of a primary label's nodes in id order, on the id index, without their properties: a
// load asks which nodes of each label it writes exist, and a page of whole nodes costs many times more.
MATCH (n:__LABEL__)
WHERE n.id > $after
WITH n.id AS id ORDER BY id LIMIT $limit
RETURN collect(id) AS page
