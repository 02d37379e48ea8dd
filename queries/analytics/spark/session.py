"""One Spark session per process, configured for analytics on a store's Parquet export."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from graph.errors import ConfigurationError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def spark_session(master: str, driver_memory: str, partitions: int) -> SparkSession:
    """The process's Spark session (created on first use; later calls get the same one)."""
    try:
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigurationError(
            "the Spark engine needs PySpark: pip install 'crm-graph[spark]' (and a Java 17+ runtime)"
        ) from None
    # Python workers (the Louvain step) run this interpreter, with the project's packages.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName("crm-graph analyze")
        # In local mode the driver's heap is the executors' heap: the whole graph lives in it.
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.default.parallelism", str(partitions))
        .config("spark.sql.session.timeZone", "UTC")
        # Dates the store holds as text are parsed leniently (a bad one is no date), as pandas does in-process.
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.ui.showConsoleProgress", "false")
    )
    try:
        session = builder.getOrCreate()
    except PySparkException as error:  # no Java, an unreachable master, a heap the machine cannot give
        raise ConfigurationError(f"Spark did not start on {master}: {error}".splitlines()[0]) from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_jvm_pid() -> int | None:
    """The process id of the running session's JVM (the driver's; in local mode all of Spark), if any."""
    from pyspark.sql import SparkSession

    session = SparkSession.getActiveSession()
    if session is None:
        return None
    jvm = session.sparkContext._jvm  # py4j's gateway to the JVM: no public API gives its pid
    return int(jvm.java.lang.ProcessHandle.current().pid()) if jvm is not None else None
