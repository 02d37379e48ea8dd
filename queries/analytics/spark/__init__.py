"""The Spark engine of ``crm-graph analyze --engine spark``: the same analytics as the in-process engine, computed
as DataFrame joins and iterations over the Parquet export of the store, written back to the store in batches.

The Python driver holds no graph: it exports the store to Parquet row group by row group, starts Spark (local
mode or a cluster), and streams the results back partition by partition, so its memory stays flat as the bank
grows; the graph lives in the Spark executors (the JVM) and in the store. What runs where and why is in
``docs/scaling.md``.
"""

from queries.analytics.spark.engine import SparkSettings, analyze_on_spark

__all__ = ["SparkSettings", "analyze_on_spark"]
