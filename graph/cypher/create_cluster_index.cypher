CREATE INDEX Customer_cluster_id IF NOT EXISTS
FOR (n:Customer) ON (n.cluster_id)
