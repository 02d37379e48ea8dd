// Every node, from the count store: no scan.
MATCH (n)
RETURN count(n) AS count
