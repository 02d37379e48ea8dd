// Guarantee circles as crm-graph analyze last found them, in the order served: rank 1 first.
MATCH (circle:GuaranteeCircle)
WHERE circle.rank <= $limit
RETURN circle.members AS members, circle.amounts AS amounts, circle.found AS total
ORDER BY circle.rank
