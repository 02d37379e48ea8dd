// Simple cycles of GUARANTEES of 2 to $max_length ties (never more than 6), each found once: from its
// smallest customer id, in the direction of the guarantees.
MATCH path = (start:Customer)-[:GUARANTEES*2..6]->(start)
WHERE length(path) <= $max_length
WITH path, [node IN nodes(path) | node.id][0..-1] AS members
WHERE all(index IN range(1, size(members) - 1) WHERE members[index] > members[0]
          AND NOT members[index] IN members[index + 1..])
RETURN members, [tie IN relationships(path) | tie.amount] AS amounts
ORDER BY members
