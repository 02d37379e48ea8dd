"""The one exception tree of crm-graph.

    CrmGraphError                      root: catch this to catch everything we raise
    ├── ConfigurationError             settings or a mapping file are wrong
    ├── StoreError                     the store cannot do what was asked
    │   ├── StoreUnavailable           the store cannot be reached (or timed out)
    │   │   └── WorkCancelled          the work was stopped: its request ended or ran out of time
    │   ├── StoreCorrupt               the store's file is damaged or is not a store; restore it from a backup
    │   │   └── StoreOutdated          the store is of an earlier on-disk format; `crm-graph migrate` converts it
    │   └── InvalidBatch               a batch was refused whole; nothing of it was written
    │       ├── UnknownLabel           a node label outside the schema
    │       ├── UnknownTieType         a relationship type outside the schema
    │       ├── UnsupportedProperty    a property value of a type the stores cannot hold
    │       └── MissingEndpoint        a tie whose end node does not exist
    ├── NotFound                       the customer, node or query asked for does not exist
    ├── InvalidRequest                 a query parameter is out of its allowed range
    ├── ExportError                    the store's contents cannot be written as neo4j-admin import files
    ├── Neo4jLauncherError             a local Neo4j (graph/neo4j_launcher) cannot be prepared or started
    ├── SourceError                    a source file cannot be read at all (loaders)
    │   └── AuthenticationData         a source holds passwords, PINs, CVVs or card track data; refused
    └── LoadIncomplete                 a load ran but did not account for its rows as it must (loaders)
        ├── AccountingError            rows read != loaded + merged + quarantined: a bug, never data
        └── TooManyQuarantined         a source quarantined more of its rows than allowed

Messages name the offending row or parameter but never carry personal data or Cypher text,
so the API can pass ``str(error)`` to a client unchanged.
"""

from __future__ import annotations


class CrmGraphError(Exception):
    """Root of every error crm-graph raises on purpose."""


class ConfigurationError(CrmGraphError):
    """Settings, a mapping file or a registry override is invalid."""


class StoreError(CrmGraphError):
    """The store could not carry out an operation."""


class StoreUnavailable(StoreError):
    """The store cannot be reached, or it did not answer in time."""


class WorkCancelled(StoreUnavailable):
    """Work stopped at a :func:`graph.cancellation.checkpoint`: its caller gave up on it or its deadline passed.
    To a caller still waiting it reads as a store that did not answer in time."""


class StoreCorrupt(StoreError):
    """The embedded store's file cannot be read as a store: damaged, truncated, or some other file.

    Retrying does not help (so it is not ``StoreUnavailable``); the message names the file, the problem
    and what to do, on one line.
    """

    def __init__(self, path: object, problem: str, remedy: str = "restore it from a backup") -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"the embedded store {path} {problem}; {remedy} (`crm-graph check` lists what is damaged)")


class StoreOutdated(StoreCorrupt):
    """The embedded store is of an earlier on-disk format; ``crm-graph migrate`` converts it."""

    def __init__(self, path: object, problem: str, remedy: str) -> None:
        super().__init__(path, problem, remedy)
        self.args = (f"the embedded store {path} {problem}; {remedy}",)

    def __str__(self) -> str:
        return str(self.args[0])


class InvalidBatch(StoreError):
    """A write batch was refused; the store is as it was before the batch."""

    def __init__(self, message: str, *, row: int | None = None, kind: str = "node") -> None:
        self.row = row
        self.kind = kind
        super().__init__(f"{kind} row {row}: {message}" if row is not None else message)


class UnknownLabel(InvalidBatch):
    """A node label that the schema does not define."""


class UnknownTieType(InvalidBatch):
    """A relationship type that the schema does not define."""


class UnsupportedProperty(InvalidBatch):
    """A property value the stores cannot hold (nested maps, mixed lists, objects)."""


class MissingEndpoint(InvalidBatch):
    """A tie that points at a node which does not exist."""


class NotFound(CrmGraphError):
    """The thing asked for does not exist."""


class InvalidRequest(CrmGraphError):
    """A request parameter is outside what is allowed; the message says what is."""


class ExportError(CrmGraphError):
    """A value, property name or output folder that ``neo4j-admin database import`` files cannot carry."""


class Neo4jLauncherError(CrmGraphError):
    """A local Neo4j server for tests and benchmarks could not be prepared, started or given its folder or port."""


class SourceError(CrmGraphError):
    """A source file cannot be read at all."""


class AuthenticationData(SourceError):
    """A source has a column of authentication data; the load stops before anything is written."""


class LoadIncomplete(CrmGraphError):
    """A load ran but cannot be called complete; what was written stays (each batch is atomic)."""


class AccountingError(LoadIncomplete):
    """A source's rows read do not add up to loaded + merged + quarantined: a bug, never bad data."""


class TooManyQuarantined(LoadIncomplete):
    """A source quarantined more of its rows than ``--max-quarantine-share`` allows."""
