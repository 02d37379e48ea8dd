"""FastAPI dependencies: the request context of an endpoint, the caller, the services.

:func:`context_for` is the one dependency of a data endpoint: it verifies the bearer token, admits the
caller to the endpoint (``api.access``), checks an unmasking request and gives a :class:`RequestContext`,
in one function (a chain of small dependencies cost FastAPI more per request than their work).
A :class:`RequestContext` carries what one request needs (store, caller, audit log, masking key), answers
"may this caller see that customer" the one way the access matrix says, runs the store work and makes the
request's audit record durable before the answer leaves.
"""

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Query, Request

from api.access import Permission, Principal, Scope
from api.audit import AuditLog, search_term_hash
from api.errors import ClientClosedRequest, NotAuthenticated, PermissionDenied
from api.limits import COSTLY_ENDPOINTS, REQUEST_COSTS, CostLimits, TokenBuckets
from api.masking import display_name, is_person, public_customer, stub
from api.models import CustomerPublic, CustomerStub, NodeRefPublic, RelatedCustomerPublic
from api.pagination import Cursors
from api.readiness import ReadinessProbe
from api.shaping import summary_fields
from api.tokens import TokenRegistry
from api.unmask import audit_purpose, checked_reason
from graph.cancellation import Cancellation, cancellable
from graph.errors import InvalidRequest, NotFound, StoreUnavailable
from graph.model import NodeLabel, NodeRecord
from graph.settings import Backend, Settings
from graph.store import GraphStore
from queries.book import managed_among
from queries.customers import customer_summaries

T = TypeVar("T")


@dataclass
class Services:
    """What the app holds for its lifetime (created in the lifespan)."""

    settings: Settings
    store: GraphStore
    tokens: TokenRegistry
    audit: AuditLog
    buckets: TokenBuckets
    failed_authentications: TokenBuckets
    """Keyed by client address: spent by each failed authentication, so that guessing tokens is slow."""
    costs: CostLimits
    cursors: Cursors
    mask_key: bytes
    store_threads: anyio.CapacityLimiter
    """Worker threads the quick store work of requests may take at once on Neo4j (see :meth:`RequestContext.run`)."""
    readiness: ReadinessProbe = field(default_factory=ReadinessProbe)

    @property
    def audit_key(self) -> bytes:
        """The key search terms are hashed with in the audit log (the PII key: stable while stub keys rotate)."""
        return self.settings.pii_hash_key.get_secret_value().encode()


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]

AUTH_FAILURES = "too many failed authentications from this address"


def authenticate(request: Request) -> Principal:
    """The verified caller, from the request's ``Authorization: Bearer`` header; spends one request of its rate
    budget.

    Called by the endpoint's own dependency rather than declared as a dependency of its own: each level of
    FastAPI's dependency solving costs more per request than the work (a remembered token, a bucket update),
    and a plain ``def`` dependency would add a worker-thread hop too. The OpenAPI document still says which
    endpoints need the token (:func:`api.app.document_bearer_tokens`).

    An address that failed to authenticate too often is refused (429) before its token is even looked
    at, so a right guess after many wrong ones does not show. Two ``Authorization`` headers are refused:
    servers and proxies in front of us may each read a different one.
    """
    services: Services = request.app.state.services
    address = request.client.host if request.client else "unknown"
    services.failed_authentications.check(address, AUTH_FAILURES)
    principal = None
    headers = request.headers.getlist("authorization")
    scheme, _, token = headers[0].partition(" ") if headers else ("", "", "")
    if len(headers) > 1:
        problem = "send exactly one Authorization header"
    elif scheme.lower() != "bearer" or not token.strip():
        problem = "a bearer token is required"
    else:
        principal = services.tokens.verify(token.strip())
        problem = "the bearer token is not valid"
    if principal is None:
        services.failed_authentications.take(address, AUTH_FAILURES)
        raise NotAuthenticated(problem)
    services.buckets.take(principal.token_id)
    request.state.principal = principal  # so that a refused read can be audited (api.audit)
    return principal


@dataclass(frozen=True)
class View:
    """Whether this response may show personal fields, and the reason given."""

    unmask: bool
    reason: str | None


def view_for(services: Services, principal: Principal, unmask: bool, purpose: str | None, reason: str | None) -> View:
    """The caller's view: masked, or unmasked for a token with pii:unmask that gave a valid purpose and reason."""
    if not unmask:
        return View(unmask=False, reason=checked_reason(reason))
    if not principal.has(Permission.UNMASK):
        raise PermissionDenied("unmasking needs the pii:unmask permission")
    return View(unmask=True, reason=audit_purpose(services.settings, purpose, reason))


@dataclass(frozen=True)
class _Read:
    """One audited read of a request, waiting for the answer to be ready."""

    endpoint: str
    customer_ids: list[str]
    stub_ids: list[str]
    search_term_hash: str | None


@dataclass
class RequestContext:
    """One request's store, caller and view, and the customer-visibility rules applied to them."""

    services: Services
    principal: Principal
    view: View = field(default_factory=lambda: View(False, None))
    endpoint: str = ""
    request: Request | None = None
    _book: dict[str, bool] = field(default_factory=dict)
    _refs: dict[str, NodeRefPublic] = field(default_factory=dict)
    _stubbed: set[str] = field(default_factory=set)
    """Customers this response shows as stubs: audited with the read."""
    _reads: list[_Read] = field(default_factory=list)
    """Reads to audit, made durable by :meth:`run` before it hands the answer back."""

    @property
    def store(self) -> GraphStore:
        return self.services.store

    async def run(self, work: Callable[[], T], *, cheap: bool = False) -> T:
        """Run the store work of the request, then make the reads it audited durable; returns its answer.

        ``cheap`` work (measured about a millisecond or less on the embedded store: one customer and its
        neighbourhood) runs inline on the event loop there, since a hop to a worker thread costs more than
        the work: under load each hop waits for the thread to get a core and the interpreter's lock. Inline
        work cannot be stopped half-way: when it took longer than the store timeout all the same, its answer
        is withheld (503), as a worker thread's would be. Everything else, and every call on Neo4j (network
        I/O), runs in a worker thread; on Neo4j cheap work takes one of a few threads
        (``api_store_threads``), waiting for one when all are busy: with a thread for each of 16 concurrent
        requests the threads and the event loop spent their time handing the interpreter's lock to each other
        (160-209 requests/s against 188-257 with four threads, 20,000 customers).
        The answer is handed back only once its audit records are on disk (503 when they cannot be).
        """
        if cheap and self.services.store.backend is Backend.EMBEDDED:
            timeout = self.services.settings.api_store_timeout_seconds
            started = time.monotonic()
            answer = work()
            if time.monotonic() - started > timeout:
                raise StoreUnavailable(f"the store did not answer within {timeout:g} s")
        else:
            answer = await self._in_thread(work, self.services.store_threads if cheap else None)
        await self._write_reads()
        return answer

    async def _in_thread(self, work: Callable[[], T], threads: anyio.CapacityLimiter | None = None) -> T:
        """Run blocking store work in a worker thread (one of ``threads``, else of anyio's default pool), bounded
        by the store timeout (503 past it, the wait for a thread included).

        The work of a costly endpoint first takes a place of :class:`api.limits.CostLimits` (429 or 503 when
        there is none). The request stops waiting when its client goes away (499) or the timeout passes (503).
        The thread cannot be killed; instead the work is cancelled (:mod:`graph.cancellation`) and stops at its
        next check, giving its place back then.
        """
        timeout = self.services.settings.api_store_timeout_seconds
        place = self.services.costs.admit(self.principal.token_id) if self.endpoint in COSTLY_ENDPOINTS else None
        answer: list[T] = []
        failure: Exception | None = None
        cancellation = Cancellation(deadline=time.monotonic() + timeout)

        def runner() -> T:
            # One read transaction for the request's reads on Neo4j (graph.neo4j_store), entered in this thread.
            with cancellable(cancellation), self.store.reading():
                return work() if place is None else place.run(work)

        try:
            with anyio.fail_after(timeout):
                async with anyio.create_task_group() as group:
                    if self.request is not None:
                        group.start_soon(_cancel_when_gone, self.request, group.cancel_scope)
                    try:
                        answer.append(await anyio.to_thread.run_sync(runner, abandon_on_cancel=True, limiter=threads))
                    except Exception as error:  # raised as itself, not inside the task group's ExceptionGroup
                        failure = error
                    group.cancel_scope.cancel()
            if failure is not None:
                raise failure
        except TimeoutError:
            raise StoreUnavailable(f"the store did not answer within {timeout:g} s") from None
        finally:
            cancellation.cancel()  # answered or abandoned: work still running for this request stops
            if place is not None:
                place.close()
        if not answer:
            raise ClientClosedRequest("the client closed the connection before the answer was ready")
        return answer[0]

    async def _write_reads(self) -> None:
        reads, self._reads = self._reads, []
        for read in reads:
            await self.services.audit.record(
                self.principal,
                read.endpoint,
                read.customer_ids,
                purpose=self.view.reason,
                unmasked=self.view.unmask,
                stub_ids=read.stub_ids,
                search_term_hash=read.search_term_hash,
            )

    def see(self, customer_ids: Iterable[str]) -> None:
        """Decide at once whether the caller may see each of these customers: on a book's token one query for
        the whole set, so that :meth:`sees` then answers each without a read of its own."""
        if self.principal.customer_scope is not Scope.BOOK:
            return
        unknown = [customer_id for customer_id in dict.fromkeys(customer_ids) if customer_id not in self._book]
        if unknown:
            managed = managed_among(self.store, str(self.principal.manager_id), unknown)
            self._book.update((customer_id, customer_id in managed) for customer_id in unknown)

    def sees(self, customer_id: str) -> bool:
        """Whether the caller may see this customer in full."""
        scope = self.principal.customer_scope
        if scope is Scope.ALL:
            return True
        if scope is Scope.NONE:
            return False
        if customer_id not in self._book:
            self.see([customer_id])
        return self._book[customer_id]

    def customer(self, customer_id: str) -> NodeRecord:
        """The customer, or NotFound when it does not exist or the caller may not see it (the same answer)."""
        record = self.store.get_node(NodeLabel.CUSTOMER, customer_id)
        if record is None or not self.sees(customer_id):
            raise NotFound(_not_found(customer_id))
        return record

    @contextmanager
    def asking_about(self, customer_id: str, *, book_in_query: bool = False) -> Iterator[str | None]:
        """Around a query that reads the customer itself (and raises NotFound when it does not exist): the
        caller's sight is checked first, and a missing customer gets the same answer as one out of sight, so
        that the customer is read once, by the query.

        With ``book_in_query``, a query that can check a manager's book itself does: for a book's token whose
        sight of the customer is not known yet, this yields the manager's id for the query to check (a customer
        out of the book is then not found, the same answer as above) instead of asking the store first; it
        yields None when there is nothing for the query to check.
        """
        book = None
        if book_in_query and self.principal.customer_scope is Scope.BOOK and customer_id not in self._book:
            book = str(self.principal.manager_id)
        elif not self.sees(customer_id):
            raise NotFound(_not_found(customer_id))
        try:
            yield book
        except NotFound:
            raise NotFound(_not_found(customer_id)) from None
        if book is not None:
            self._book[customer_id] = True  # the query found it in the book

    def names_in_clear(self, customer_id: str) -> bool:
        """Whether this customer's name is shown in clear: when unmasked, or to the manager whose book holds it
        (he must be able to call his customers; the read is audited like any other)."""
        if self.view.unmask:
            return True
        return self.principal.customer_scope is Scope.BOOK and self.sees(customer_id)

    def _name_in_clear(self, fields: Mapping[str, Any]) -> bool:
        customer_id = _customer_id(fields)
        return bool(customer_id) and self.names_in_clear(customer_id)

    def display_name(self, fields: Mapping[str, Any]) -> str | None:
        """The name of a customer the caller may see, in clear or masked as :meth:`names_in_clear` says."""
        return display_name(fields, unmask=self._name_in_clear(fields))

    def public(self, fields: Mapping[str, Any]) -> CustomerPublic:
        return public_customer(fields, unmask=self.view.unmask, name_in_clear=self._name_in_clear(fields))

    def related(
        self, fields: Mapping[str, Any], tie_type: str | None, depth: int | None = None
    ) -> RelatedCustomerPublic:
        """A related customer: in full when visible, else a stub."""
        customer_id = _customer_id(fields)
        if customer_id and self.sees(customer_id):
            return RelatedCustomerPublic(tie_type=tie_type, depth=depth, customer=self.public(fields))
        return RelatedCustomerPublic(tie_type=tie_type, depth=depth, stub=self.stub(fields, tie_type))

    def stub(self, fields: Mapping[str, Any], tie_type: str | None = None) -> CustomerStub:
        """A customer out of the caller's sight as a stub; remembered for the audit record of the read."""
        self._stubbed.add(_customer_id(fields))
        return stub(fields, self.services.mask_key, tie_type)

    def stored_fields(self, customer_id: str) -> dict[str, Any]:
        """The customer's stored fields with its label and id; only the id when the store has no such customer."""
        record = self.store.get_node(NodeLabel.CUSTOMER, customer_id)
        if record is None:
            return {"id": customer_id}
        return {**record.properties, "label": record.label.value, "id": customer_id}

    def node_ref(self, customer_id: str) -> NodeRefPublic:
        """A customer as the graph draws it: real id when visible, else the network's stub id and a masked name."""
        self.node_refs([customer_id])
        return self._refs[customer_id]

    def node_refs(self, customer_ids: Iterable[str], known: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        """Make the :meth:`node_ref` of many customers at once: their names and kinds from ``known`` (fields
        already read, by id) or else read in one query, and the caller's sight decided for the set."""
        wanted = [customer_id for customer_id in dict.fromkeys(customer_ids) if customer_id not in self._refs]
        if not wanted:
            return
        fields = dict(known or {})
        unread = [customer_id for customer_id in wanted if customer_id not in fields]
        if unread:
            fields.update(
                (customer_id, summary_fields(summary))
                for customer_id, summary in customer_summaries(self.store, unread).items()
            )
        self.see(wanted)
        for customer_id in wanted:
            found = fields.get(customer_id)
            if found is not None and self.sees(customer_id):
                kind = "Person" if is_person(found) else "Company"
                self._refs[customer_id] = NodeRefPublic(id=customer_id, name=self.display_name(found), kind=kind)
            else:
                hidden = self.stub(found or {"id": customer_id})
                self._refs[customer_id] = NodeRefPublic(id=hidden.opaque_id, stub=True, name=hidden.name)

    def audit(self, endpoint: str, customer_ids: list[str], *, search_term: str | None = None) -> None:
        """Note that this request read these customers and showed the stubs made so far (and its search term).

        Called inside the work given to :meth:`run`, which writes the record before it returns the answer.
        """
        term_hash = None if search_term is None else search_term_hash(search_term, self.services.audit_key)
        self._reads.append(_Read(endpoint, list(customer_ids), sorted(self._stubbed - {""}), term_hash))

    def page_size(self, requested: int | None) -> int:
        maximum = self.services.settings.api_max_page_size
        size = requested if requested is not None else min(50, maximum)
        if not 1 <= size <= maximum:
            raise InvalidRequest(f"page_size must be between 1 and {maximum}")
        return size


async def _cancel_when_gone(request: Request, scope: anyio.CancelScope) -> None:
    """Cancel ``scope`` once the client disconnects. The request's body has been read by now, so what the
    server receives next is the disconnect (or the end of the response)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
    scope.cancel()


def _not_found(customer_id: str) -> str:
    return f"customer {customer_id!r} not found"


def _customer_id(fields: Mapping[str, Any]) -> str:
    """The customer id a row of fields carries (queries name it ``id`` or ``customer_id``), or ``""``."""
    return str(fields.get("id") or fields.get("customer_id") or "")


def context_for(endpoint: str) -> Callable[..., Awaitable[RequestContext]]:
    """The dependency of ``endpoint``: token -> caller -> permission for the endpoint -> view, in one step.

    Whether the caller may see a given customer is decided later by :meth:`RequestContext.sees` (for the set of
    customers a response shows at once by :meth:`RequestContext.see`).
    """

    async def authorised(
        request: Request,
        unmask: Annotated[
            bool, Query(description="Show personal fields in clear; needs pii:unmask and a reason.")
        ] = False,
        purpose: Annotated[
            str | None,
            Query(max_length=64, description="Why personal fields are needed: one of the configured purposes."),
        ] = None,
        reason: Annotated[
            str | None,
            Query(
                max_length=200,
                description="The case in words (no identifying numbers); written to the audit log with the purpose.",
            ),
        ] = None,
    ) -> RequestContext:
        principal = authenticate(request)
        services: Services = request.app.state.services
        if not principal.may_call(endpoint):
            raise PermissionDenied(f"role {principal.role} may not call {endpoint}")
        if endpoint in REQUEST_COSTS:  # authentication spent one request; a costly one spends the rest of its cost
            services.buckets.take(principal.token_id, cost=REQUEST_COSTS[endpoint] - 1)
        view = view_for(services, principal, unmask, purpose, reason)
        return RequestContext(services, principal, view, endpoint=endpoint, request=request)

    authorised.__name__ = f"context_{endpoint}"
    return authorised


PageSize = Annotated[
    int | None, Query(ge=1, le=200, description="Items per page, at most 200 (or the server's lower maximum).")
]
Cursor = Annotated[str | None, Query(max_length=512, description="The next_cursor of the previous page.")]
