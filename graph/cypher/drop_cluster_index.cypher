// A first load into an empty database builds this index once, after the load (see Neo4jStore.loading).
DROP INDEX Customer_cluster_id IF EXISTS
