// How many of the guarantee circles crm-graph analyze last stored have each number of members, fewest first,
// with the number of circles it found (more than it stored when MAX_CIRCLES cut the list).
MATCH (circle:GuaranteeCircle)
WHERE circle.rank IS NOT NULL
RETURN size(circle.members) AS size, count(*) AS circles, max(circle.found) AS found
ORDER BY size
