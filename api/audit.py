"""The append-only audit log of reads of customer data, in SQLite.

One record per request that read customer data: who (token id, name, role, manager), which customer
ids were shown in full and which only as stubs (the real ids behind the opaque ones), which endpoint,
the stated purpose, when, whether personal fields were unmasked, the HTTP status (refused reads, 403
and 404, are recorded too) and, for a search, a keyed hash of the search term (a name is personal data;
the hash lets an auditor ask "who searched for this text" without the log holding it). Records never
hold the values that were shown. Triggers refuse UPDATE and DELETE, and this module offers neither.

Durability comes before the answer: a request awaits :meth:`AuditLog.record` (a thread calls
:meth:`AuditLog.append`), which returns only once its record is committed and fsynced, so a request never
answers with customer data whose read is not on disk; when the record cannot be written it raises
:class:`~api.errors.AuditUnavailable` and the request answers 503 without the data.

Commits are grouped without any fixed delay. One writer thread takes every record queued while its previous
commit was syncing and commits them in one transaction (WAL journal, ``synchronous=FULL``: one fsync of the
log per group), then starts on the next group at once. A group is one statement (a trigger files its customers
and stubs), so the writer gives up the interpreter's lock and takes it back once per group. A request on the
event loop only queues its record (made into JSON there) and awaits a future; the writer settles all the
futures of a group with one wake-up of the loop. No thread is held while a record waits, so every request in
flight adds its record to the next group: under load many requests share one fsync, and alone a request waits
for exactly one commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field
from starlette.requests import Request

from api.access import Principal
from api.errors import AuditUnavailable
from loaders.identifiers import keyed_hash

log = logging.getLogger("crm_graph.api.audit")

MAX_GROUP = 512  # most records committed in one transaction
APPEND_TIMEOUT_SECONDS = 30.0  # past this a request stops waiting for its record and answers 503

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        token_id TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        manager_id TEXT,
        endpoint TEXT NOT NULL,
        customer_ids TEXT NOT NULL,
        purpose TEXT,
        unmasked INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS audit_customer (
        seq INTEGER NOT NULL REFERENCES audit (seq),
        customer_id TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS audit_customer_id ON audit_customer (customer_id)",
    """
    CREATE TABLE IF NOT EXISTS audit_stub (
        seq INTEGER NOT NULL REFERENCES audit (seq),
        customer_id TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS audit_stub_id ON audit_stub (customer_id)",
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_customer_no_update BEFORE UPDATE ON audit_customer"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_customer_no_delete BEFORE DELETE ON audit_customer"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_stub_no_update BEFORE UPDATE ON audit_stub"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_stub_no_delete BEFORE DELETE ON audit_stub"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END",
)
_ADDED_COLUMNS = {"status": "INTEGER NOT NULL DEFAULT 200", "search_term_hash": "TEXT", "stub_ids": "TEXT"}
"""Columns later versions added to ``audit``; a log written before them gains them when opened."""
_FILE_IDS = """
    CREATE TRIGGER IF NOT EXISTS audit_file_ids AFTER INSERT ON audit BEGIN
        INSERT INTO audit_customer (seq, customer_id) SELECT NEW.seq, value FROM json_each(NEW.customer_ids);
        INSERT INTO audit_stub (seq, customer_id) SELECT NEW.seq, value FROM json_each(NEW.stub_ids);
    END
"""
"""A record's customers and stubs are filed from the record itself, in the statement that inserts it (made once the
log has every added column)."""
SEARCH_TERM_PURPOSE = "audit-search-term"


class AuditRecord(BaseModel):
    """One audited read."""

    seq: int = Field(examples=[42])
    at: str = Field(examples=["2025-03-01T09:30:00+00:00"])
    token_id: str = Field(examples=["9f2c4e1a7b3d5c60"])
    actor: str = Field(description="Name of the token.", examples=["zhao-branch-west"])
    role: str = Field(examples=["manager"])
    manager_id: str | None = Field(examples=["m1"])
    endpoint: str = Field(examples=["get_customer"])
    customer_ids: list[str] = Field(examples=[["p1"]])
    purpose: str | None = Field(description="The reason given for unmasking, if any.", examples=[None])
    unmasked: bool = Field(examples=[False])
    stub_ids: list[str] = Field(
        default_factory=list,
        description="Customers the response showed only as stubs (opaque id, masked name).",
        examples=[["p2"]],
    )
    status: int = Field(default=200, description="HTTP status of the answer; 403 and 404 are refused reads.")
    search_term_hash: str | None = Field(
        default=None, description="Keyed hash of a search's term (see the search_term filter).", examples=[None]
    )


def search_term_hash(term: str, key: bytes) -> str:
    """The keyed hash a search term is recorded as: trimmed and case-folded, so "Wang " and "wang" agree."""
    return keyed_hash(term.strip().casefold(), key, purpose=SEARCH_TERM_PURPOSE)


@dataclass
class _Pending:
    """A record waiting for the writer thread (its ``audit`` row as a JSON array, made by the caller so that
    the writer only joins them), and the future its caller waits on (its sequence number): a thread's
    :class:`concurrent.futures.Future`, or a request's future with the event loop it belongs to (it may be
    settled only on that loop)."""

    row: str
    thread_waiter: Future[int] | None = None
    loop_waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[int]] | None = None


_Outcome = tuple["asyncio.Future[int]", int | None, BaseException | None]


def _settle(outcomes: list[_Outcome]) -> None:
    """On the event loop: hand each awaiting request its sequence number or its error."""
    for waiting, seq, error in outcomes:
        if waiting.done():  # the request stopped waiting (its timeout, or its client went away)
            continue
        if error is None:
            waiting.set_result(seq or 0)
        else:
            waiting.set_exception(error)


def _row(
    principal: Principal,
    endpoint: str,
    customer_ids: Iterable[str],
    purpose: str | None,
    unmasked: bool,
    stub_ids: Iterable[str],
    status: int,
    search_term_hash: str | None,
) -> str:
    """The ``audit`` row of a read as a JSON array, its customers and stubs (a customer shown in full is no stub)
    as JSON texts in it."""
    ids = sorted(set(customer_ids))
    stubs = sorted(set(stub_ids) - set(ids))
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    row = (
        at,
        principal.token_id,
        principal.name,
        principal.role.value,
        principal.manager_id,
        endpoint,
        json.dumps(ids),
        purpose,
        int(unmasked),
        status,
        search_term_hash,
        json.dumps(stubs),
    )
    return json.dumps(row)


# A group is written in one statement, whatever its size: rows come in as one JSON array each, and the trigger
# audit_file_ids files their customers and stubs. Outside a transaction the statement commits itself (and syncs
# the log) in its one step. The writer thread gives up the GIL for every statement step (SQLite's work) and waits
# for it to come back while the event loop runs requests and the machine's other processes run: one statement
# per record and one per customer id made a commit of a few records wait tens of milliseconds for the GIL alone,
# and BEGIN, three inserts and COMMIT still measured a commit p50 of 7 ms under load.
_AUDIT_COLUMNS = (
    "at, token_id, actor, role, manager_id, endpoint, customer_ids, purpose, unmasked, status, search_term_hash,"
    " stub_ids"
)
_INSERT_AUDIT = (
    f"INSERT INTO audit ({_AUDIT_COLUMNS}) SELECT "
    + ", ".join(f"json_extract(value, '$[{column}]')" for column in range(len(_AUDIT_COLUMNS.split(","))))
    + " FROM json_each(?) ORDER BY key"
)
_COLUMNS = (
    "seq, at, token_id, actor, role, manager_id, endpoint, customer_ids, purpose, unmasked, status, search_term_hash,"
    " (SELECT json_group_array(customer_id) FROM audit_stub WHERE audit_stub.seq = audit.seq)"
)


class AuditLog:
    """Append records (group-committed, durable before ``append`` returns); read them back filtered."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # WAL: a commit is one append and one fsync of the log, and readers never wait for the writer.
        self._writer.execute("PRAGMA journal_mode=WAL")
        self._writer.execute("PRAGMA synchronous=FULL")
        for statement in _SCHEMA:
            self._writer.execute(statement)
        present = {row[1] for row in self._writer.execute("PRAGMA table_info(audit)")}
        for column, declaration in _ADDED_COLUMNS.items():
            if column not in present:
                self._writer.execute(f"ALTER TABLE audit ADD COLUMN {column} {declaration}")
        self._writer.execute(_FILE_IDS)
        self._reader_lock = threading.Lock()
        self._reader = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self.commits = 0
        """Transactions committed so far: fewer than records when concurrent requests shared them."""
        self._open_lock = threading.Lock()
        self._open = True
        self._thread = threading.Thread(target=self._commit_loop, name="audit-writer", daemon=True)
        self._thread.start()

    def _enqueue(self, pending: _Pending) -> None:
        with self._open_lock:
            if not self._open:
                raise AuditUnavailable("the audit log is closed")
            self._queue.put(pending)

    async def record(
        self,
        principal: Principal,
        endpoint: str,
        customer_ids: Iterable[str],
        *,
        purpose: str | None = None,
        unmasked: bool = False,
        stub_ids: Iterable[str] = (),
        status: int = 200,
        search_term_hash: str | None = None,
    ) -> int:
        """Record one read from the event loop; returns its sequence number once the record is durable.

        Raises :class:`~api.errors.AuditUnavailable` when the record could not be committed (or not
        within ``APPEND_TIMEOUT_SECONDS``); the caller must then withhold the data it read.
        """
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[int] = loop.create_future()
        row = _row(principal, endpoint, customer_ids, purpose, unmasked, stub_ids, status, search_term_hash)
        self._enqueue(_Pending(row, loop_waiter=(loop, committed)))
        try:
            async with asyncio.timeout(APPEND_TIMEOUT_SECONDS):
                return await committed
        except TimeoutError:
            raise AuditUnavailable(f"the audit log did not commit within {APPEND_TIMEOUT_SECONDS:g} s") from None

    def append(
        self,
        principal: Principal,
        endpoint: str,
        customer_ids: Iterable[str],
        *,
        purpose: str | None = None,
        unmasked: bool = False,
        stub_ids: Iterable[str] = (),
        status: int = 200,
        search_term_hash: str | None = None,
    ) -> int:
        """:meth:`record` for a caller in a thread of its own (blocks it until the record is durable)."""
        committed: Future[int] = Future()
        row = _row(principal, endpoint, customer_ids, purpose, unmasked, stub_ids, status, search_term_hash)
        self._enqueue(_Pending(row, thread_waiter=committed))
        try:
            return committed.result(timeout=APPEND_TIMEOUT_SECONDS)
        except TimeoutError:
            raise AuditUnavailable(f"the audit log did not commit within {APPEND_TIMEOUT_SECONDS:g} s") from None

    def _commit_loop(self) -> None:
        """The writer thread: commit whatever is queued as one group, until ``close`` queues None."""
        closing = False
        while not closing:
            first = self._queue.get()
            if first is None:
                break
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    closing = True
                    break
                group.append(following)
            self._commit_group(group)
        self._writer.close()

    def _commit_group(self, group: list[_Pending]) -> None:
        outcomes: list[tuple[_Pending, int | None, BaseException | None]] = []
        self._commit_into(group, outcomes)
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        for pending, seq, error in outcomes:
            if pending.loop_waiter is not None:
                loop, waiting = pending.loop_waiter
                by_loop.setdefault(loop, []).append((waiting, seq, error))
            elif pending.thread_waiter is not None:
                if error is None:
                    pending.thread_waiter.set_result(seq or 0)
                else:
                    pending.thread_waiter.set_exception(error)
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
                loop.call_soon_threadsafe(_settle, settled)  # one wake-up of the loop for the whole group

    def _commit_into(
        self, group: list[_Pending], outcomes: list[tuple[_Pending, int | None, BaseException | None]]
    ) -> None:
        try:
            seqs = self._insert(group)
        except Exception as error:  # whatever the cause, the waiting requests must hear of it
            if len(group) == 1:
                log.error("audit record not written: %s", type(error).__name__)
                outcomes.append((group[0], None, AuditUnavailable("the audit log could not record this read")))
                return
            # One bad record must not fail the others: retry them one transaction each.
            for pending in group:
                self._commit_into([pending], outcomes)
            return
        outcomes.extend((pending, seq, None) for pending, seq in zip(group, seqs, strict=True))

    def _insert(self, group: list[_Pending]) -> list[int]:
        """Insert the group in one statement, its own transaction (all or nothing), committed and synced."""
        rows = "[" + ",".join(pending.row for pending in group) + "]"
        last = int(self._writer.execute(_INSERT_AUDIT, [rows]).lastrowid or 0)
        self.commits += 1
        # seq is AUTOINCREMENT and the statement held the write lock: the group's rows took the numbers after the
        # largest ever used, one each in the array's order, so the last one (the trigger's rows do not count) ends
        # the run.
        return list(range(last - len(group) + 1, last + 1))

    def query(
        self,
        *,
        customer_id: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        search_term_hash: str | None = None,
        after_seq: int = 0,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Records matching every given filter, oldest first, after sequence number ``after_seq``.

        ``customer_id`` finds every record that showed the customer, in full or as a stub: the answer to
        a data-subject access request.
        """
        sql = f"SELECT {_COLUMNS} FROM audit"
        where = ["seq > ?"]
        params: list[object] = [after_seq]
        if customer_id is not None:
            where.append(
                "(seq IN (SELECT seq FROM audit_customer WHERE customer_id = ?)"
                " OR seq IN (SELECT seq FROM audit_stub WHERE customer_id = ?))"
            )
            params.extend([customer_id, customer_id])
        if search_term_hash is not None:
            where.append("search_term_hash = ?")
            params.append(search_term_hash)
        if actor is not None:
            where.append("(actor = ? OR token_id = ? OR manager_id = ?)")
            params.extend([actor, actor, actor])
        if since is not None:
            moment = since if since.tzinfo else since.replace(tzinfo=UTC)
            where.append("at >= ?")
            params.append(moment.astimezone(UTC).isoformat(timespec="microseconds"))
        sql += " WHERE " + " AND ".join(where) + " ORDER BY seq LIMIT ?"
        params.append(limit)
        with self._reader_lock:
            rows = self._reader.execute(sql, params).fetchall()
        return [
            AuditRecord(
                seq=row[0],
                at=row[1],
                token_id=row[2],
                actor=row[3],
                role=row[4],
                manager_id=row[5],
                endpoint=row[6],
                customer_ids=json.loads(row[7]),
                purpose=row[8],
                unmasked=bool(row[9]),
                status=row[10],
                search_term_hash=row[11],
                stub_ids=sorted(json.loads(row[12])),
            )
            for row in rows
        ]

    def close(self) -> None:
        """Commit what is queued, stop the writer thread and close the database."""
        with self._open_lock:
            if not self._open:
                return
            self._open = False
            self._queue.put(None)
        self._thread.join()
        with self._reader_lock:
            self._reader.close()


REFUSED_READS = frozenset({403, 404})


async def audit_refusal(request: Request, status: int) -> None:
    """Record a refused read (403, 404) of an authenticated caller, with the customer it asked for.

    Called by the problem handler (api.problems); the caller is on ``request.state`` once its token was
    verified. A refusal carries no data, so a log that cannot record it is reported, not made a 503.
    """
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None or status not in REFUSED_READS:
        return
    endpoint = getattr(request.scope.get("endpoint"), "__name__", request.url.path)
    customer_id = request.path_params.get("customer_id")
    audit: AuditLog = request.app.state.services.audit
    try:
        await audit.record(principal, endpoint, [customer_id] if customer_id else [], status=status)
    except AuditUnavailable:
        log.error("refused read of %s not audited", endpoint)
