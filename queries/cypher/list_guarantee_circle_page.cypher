// A page of the guarantee circles crm-graph analyze last stored: the $limit after the first $skip, in ring order
// (rank) or, for $order = 'exposure', the largest amount guaranteed around the circle (to the cent) first.
MATCH (circle:GuaranteeCircle)
WHERE circle.rank IS NOT NULL
WITH circle, round(reduce(total = 0.0, amount IN circle.amounts | total + coalesce(amount, 0.0)), 2) AS exposure
ORDER BY CASE WHEN $order = 'exposure' THEN -exposure ELSE 0.0 END, circle.rank
SKIP $skip LIMIT $limit
RETURN circle.members AS members, circle.amounts AS amounts
