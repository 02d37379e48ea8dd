MATCH (center:__LABEL__ {id: $id})-[tie]-(other)
WHERE $types = [] OR type(tie) IN $types
WITH tie, other, startNode(tie) = center AS outgoing,
     CASE WHEN other:Customer THEN 'Customer' ELSE head(labels(other)) END AS other_primary
ORDER BY type(tie), other_primary, other.id, startNode(tie).id
WITH collect({
    type: type(tie), source: startNode(tie).id, target: endNode(tie).id, tie_properties: properties(tie),
    labels: labels(other), id: other.id, properties: properties(other)
}) AS found
RETURN size(found) AS total, found[0..$limit] AS kept
