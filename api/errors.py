"""Errors only the HTTP API raises. They extend the one tree of :mod:`graph.errors`:

    CrmGraphError
    └── ApiError                     a request the API refuses before any store work
        ├── NotAuthenticated         no bearer token, or one the registry does not know (401)
        ├── PermissionDenied         the token's role or grants do not allow the endpoint (403)
        ├── PayloadTooLarge          the request body is larger than allowed (413)
        ├── RateLimited              the token spent its request budget or runs too many costly requests (429)
        ├── ServerBusy               the costly requests of all tokens fill the server (503)
        └── ClientClosedRequest      the client went away before its answer was ready (499, never read)
    StoreError
    └── StoreUnavailable
        └── AuditUnavailable         the audit log could not record a read, so its data is withheld (503)

:mod:`api.problems` maps the whole tree to RFC 9457 problems in one table.
"""

from __future__ import annotations

from graph.errors import CrmGraphError, StoreUnavailable


class ApiError(CrmGraphError):
    """A request the API refuses on its own account."""


class NotAuthenticated(ApiError):
    """No bearer token, or an unknown or malformed one."""


class PermissionDenied(ApiError):
    """The token may not call this endpoint."""


class PayloadTooLarge(ApiError):
    """The request body exceeds the configured maximum."""


class RateLimited(ApiError):
    """The token's request budget is spent; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int, reason: str = "too many requests") -> None:
        self.retry_after = retry_after
        super().__init__(f"{reason}; retry after {retry_after} s")


class ServerBusy(ApiError):
    """As many costly requests as the server takes are running; retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"the server is busy with other costly requests; retry after {retry_after} s")


class ClientClosedRequest(ApiError):
    """The client closed the connection while its request was being worked on; the work was stopped."""


class AuditUnavailable(StoreUnavailable):
    """The audit log could not make a read's record durable; the request must not answer with the data."""
