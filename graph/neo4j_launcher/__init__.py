"""Throwaway Neo4j 5.26 Community servers for tests and benchmarks, without Docker.

The server is embedded Neo4j run from Maven Central jars: Maven resolves the classpath of
``pom.xml`` next to this file, ``javac`` compiles ``Launcher.java`` against it, and the JVM
serves Bolt on a free loopback port with authentication disabled::

    from graph.neo4j_launcher import LocalNeo4j

    with LocalNeo4j() as server:
        driver = neo4j.GraphDatabase.driver(server.uri, auth=None)

The same jars hold ``neo4j-admin``: :func:`run_neo4j_admin` runs it (for example
``database import full``) on a folder that ``LocalNeo4j(home=folder)`` then serves::

    run_neo4j_admin(["database", "import", "full", "neo4j", "--nodes=..."], home=folder)
    with LocalNeo4j(home=folder) as server:
        ...

A server on a kept folder and a fixed port can be stopped and started again on the same data and
address (``stop()`` leaves ``home`` in place)::

    server = LocalNeo4j(home=folder, port=7690).start()
    server.stop()
    server.start()

``python -m graph.neo4j_launcher --home FOLDER --port 7687`` does the same from a shell: it serves the
folder until Ctrl-C, and running it again restarts the server on the data it left.

The first start downloads about 150 MB into the local Maven repository (``~/.m2``). The
classpath and the compiled launcher are cached under ``$XDG_CACHE_HOME/crm-graph/neo4j-5.26``
(default ``~/.cache/...``), keyed on the content of the files they come from, so later starts
do not run Maven. Apart from the project's exception tree, only the standard library is used here.
"""

from graph.errors import Neo4jLauncherError
from graph.neo4j_launcher.jars import (
    NEO4J_SERIES,
    default_cache_dir,
    launcher_available,
    resolve_classpath,
    run_neo4j_admin,
)
from graph.neo4j_launcher.served import (
    ServedFolder,
    forget_served_folder,
    record_served_folder,
    serve_folder_detached,
    served_folder,
    stop_served_folder,
)
from graph.neo4j_launcher.server import LocalNeo4j

__all__ = [
    "NEO4J_SERIES",
    "LocalNeo4j",
    "Neo4jLauncherError",
    "ServedFolder",
    "default_cache_dir",
    "forget_served_folder",
    "launcher_available",
    "record_served_folder",
    "resolve_classpath",
    "run_neo4j_admin",
    "serve_folder_detached",
    "served_folder",
    "stop_served_folder",
]
