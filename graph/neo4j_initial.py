"""A bank's first Neo4j load done offline: ``neo4j-admin database import full`` into a stopped database.

``crm-graph load --initial`` loads the bank's files into a staging embedded store, then calls
:func:`check_import_target` (before any loading, so refusals cost nothing) and :func:`import_store`:

1. the staging store is written as import files (:func:`graph.neo4j_import.write_import_files`);
2. a server the launcher serves from the folder (``python -m graph.neo4j_launcher --home DIR``, which leaves
   a note in the folder) is stopped; any other running server is not ours to stop, and is refused up front;
3. ``neo4j-admin`` imports the files (replacing the database only when told to);
4. the server is started again as it was (or, when none was running, a temporary one for step 5);
5. the store opens on it, which creates the constraints and indexes on the imported data (one build,
   instead of index upkeep row by row), and the values CSV cannot carry are written
   (:func:`graph.neo4j_import.finish_import`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import neo4j
from neo4j import exceptions as driver_errors
from pydantic import BaseModel, ConfigDict

from graph.errors import ConfigurationError, Neo4jLauncherError
from graph.neo4j_import import ImportFiles, Progress, finish_import, write_import_files
from graph.neo4j_launcher import (
    LocalNeo4j,
    ServedFolder,
    run_neo4j_admin,
    serve_folder_detached,
    served_folder,
    stop_served_folder,
)
from graph.settings import Backend, Settings
from graph.store import GraphStore

ADMIN_HEAP = "1g"
"""neo4j-admin's JVM heap: the importer works off-heap, the heap holds little but its bookkeeping."""


class InitialImport(BaseModel):
    """What :func:`import_store` did, with the seconds of each step."""

    model_config = ConfigDict(frozen=True)

    nodes: int
    ties: int
    files_seconds: float
    """Writing the staging store as import files."""
    import_seconds: float
    """``neo4j-admin database import full``, its JVM's start included."""
    start_seconds: float
    """Starting the server again, creating the constraints and indexes, writing what CSV cannot carry."""
    after_import_rows: int
    uri: str | None
    """Where the imported database is served now; None when no server was running before."""

    @property
    def rows_per_second(self) -> float:
        """Nodes and ties per second of the import tool's run."""
        return (self.nodes + self.ties) / max(self.import_seconds, 1e-9)


@dataclass(frozen=True)
class ImportTarget:
    """The stopped (or ours to stop) Neo4j database an initial load goes into."""

    home: Path
    database: str
    served: ServedFolder | None
    """The launcher serving ``home`` now: stopped for the import and started again."""
    replace: bool
    """The database exists and may be overwritten (it was found empty, or ``--replace`` was given)."""


def check_import_target(settings: Settings, home: Path | None, replace: bool) -> ImportTarget:
    """Refuse, with a message saying what to do, an initial load that would stop a server not ours or
    overwrite a database holding data without ``replace``."""
    if settings.backend is not Backend.NEO4J:
        raise ConfigurationError("--initial loads a Neo4j database: give --backend neo4j (or CRM_GRAPH_BACKEND)")
    if home is None:
        raise ConfigurationError(
            "--initial needs --neo4j-home: the folder of the Neo4j database the import writes into"
        )
    home = Path(home).resolve()
    if home.exists() and not home.is_dir():
        raise ConfigurationError(f"--neo4j-home {home} is not a folder")
    uri, database = settings.neo4j_uri, settings.neo4j_database
    served = served_folder(home) if home.is_dir() else None
    if served is not None and _port(served.uri) != _port(uri):
        raise ConfigurationError(
            f"{home} is served at {served.uri}, but CRM_GRAPH_NEO4J_URI is {uri}: point it at that server"
        )
    holds_data = _holds_data(settings)
    if served is not None and holds_data is None:
        raise ConfigurationError(f"the launcher serving {home} does not answer at {uri}; wait until it serves")
    if served is None and holds_data is not None:
        raise ConfigurationError(
            f"Neo4j at {uri} is running and is not served by the launcher from {home}, so it is not ours to stop; "
            "--initial imports into a stopped database. Stop that server and run again with --neo4j-home set to "
            "its folder, or load without --initial"
        )
    exists = (home / "data" / "databases" / database).is_dir()
    if holds_data and not replace:
        raise ConfigurationError(
            f"the Neo4j database {database!r} at {uri} is not empty; --initial replaces a database whole: "
            "add --replace to overwrite it, or load without --initial to add to it"
        )
    if served is None and exists and not replace:
        raise ConfigurationError(
            f"{home} already holds a database {database!r} (the server is stopped, so it cannot be checked "
            "for data); add --replace to overwrite it, or start it and load without --initial"
        )
    return ImportTarget(home=home, database=database, served=served, replace=exists)


def import_store(source: GraphStore, target: ImportTarget, work: Path, progress: Progress) -> InitialImport:
    """Import everything ``source`` holds into ``target``'s database (see the module docstring)."""
    files = write_import_files(source, work / "import-files", progress, database=target.database)
    if target.served is not None:
        progress("stop neo4j", 0, 1)
        stop_served_folder(target.served)
        progress("stop neo4j", 1, 1)
    try:
        import_seconds = run_import(files, target.home, progress, replace=target.replace)
    except Neo4jLauncherError:
        if target.served is not None:  # leave the server as it was found: the failed import changed nothing
            _serve_again(target, target.served)
        raise

    progress("start neo4j, build indexes", 0, 1)
    began = time.perf_counter()
    uri: str | None = None
    if target.served is not None:
        uri = _serve_again(target, target.served).uri
        finished = _finish(uri, target, files.directory)
    else:
        with LocalNeo4j(home=target.home) as server:
            finished = _finish(server.uri, target, files.directory)
    progress("start neo4j, build indexes", 1, 1)
    return InitialImport(
        nodes=files.nodes,
        ties=files.ties,
        files_seconds=round(files.seconds, 3),
        import_seconds=round(import_seconds, 3),
        start_seconds=round(time.perf_counter() - began, 3),
        after_import_rows=finished,
        uri=uri,
    )


def run_import(files: ImportFiles, home: Path, progress: Progress, *, replace: bool = False) -> float:
    """Run ``neo4j-admin`` on ``files`` into the stopped database in ``home``; return its seconds, start included."""
    rows = files.nodes + files.ties
    progress("neo4j-admin import", 0, rows)
    began = time.perf_counter()
    run_neo4j_admin(
        [*files.arguments, *(["--overwrite-destination=true"] if replace else [])], home=home, heap=ADMIN_HEAP
    )
    seconds = time.perf_counter() - began
    progress("neo4j-admin import", rows, rows)
    return seconds


def _serve_again(target: ImportTarget, served: ServedFolder) -> ServedFolder:
    log = target.home / "logs" / "launcher.log"
    return serve_folder_detached(target.home, served.port, served.heap, log)


def _finish(uri: str, target: ImportTarget, files: Path) -> int:
    from graph.neo4j_store import Neo4jStore

    # Opening the store creates the constraints and indexes and waits for them to be built.
    with Neo4jStore(uri, None, database=target.database, timeout_seconds=600) as store:
        return finish_import(store, files)


def _holds_data(settings: Settings) -> bool | None:
    """Whether the configured server's database holds a node; None when no server answers there."""
    password = settings.neo4j_password.get_secret_value()
    auth = (settings.neo4j_user, password) if password else None
    try:
        with neo4j.GraphDatabase.driver(settings.neo4j_uri, auth=auth, connection_timeout=5) as driver:
            driver.verify_connectivity()
            records, _, _ = driver.execute_query(
                "MATCH (n) RETURN count(n) > 0 AS found", database_=settings.neo4j_database
            )
    except (driver_errors.ServiceUnavailable, OSError):
        return None
    except driver_errors.Neo4jError as error:
        raise ConfigurationError(
            f"Neo4j at {settings.neo4j_uri} refused to say whether it holds data ({error.code})"
        ) from None
    return bool(records[0]["found"])


def _port(uri: str) -> int | None:
    tail = uri.rsplit(":", 1)[-1].strip("/")
    return int(tail) if tail.isdigit() else None
