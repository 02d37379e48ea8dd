// How many of the clusters crm-graph analyze last summarised have each size, smallest first.
MATCH (cluster:Cluster)
WHERE cluster.rank IS NOT NULL
RETURN cluster.size AS size, count(*) AS clusters
ORDER BY size
