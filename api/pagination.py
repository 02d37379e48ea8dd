"""Opaque cursors for list endpoints.

A cursor is the offset of the next page, bound to the endpoint and its filters and signed, so a client
can neither forge one nor carry one over to a different query; a bad cursor is a 422.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import TypeVar

from graph.errors import InvalidRequest

T = TypeVar("T")


class Cursors:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, payload: bytes) -> str:
        return hmac.new(self._key, payload, hashlib.sha256).hexdigest()[:16]

    def encode(self, offset: int, binding: str) -> str:
        payload = json.dumps({"o": offset, "b": hashlib.sha256(binding.encode()).hexdigest()[:16]}).encode()
        raw = payload + b"." + self._sign(payload).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str | None, binding: str) -> int:
        """The offset a cursor points at (0 for none); raises InvalidRequest when it is not ours."""
        if not cursor:
            return 0
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            payload, signature = raw.rsplit(b".", 1)
            if not hmac.compare_digest(self._sign(payload), signature.decode()):
                raise ValueError("signature")
            data = json.loads(payload)
            if data["b"] != hashlib.sha256(binding.encode()).hexdigest()[:16]:
                raise ValueError("binding")
            offset = int(data["o"])
            if offset < 0:
                raise ValueError("offset")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise InvalidRequest("cursor is not valid for this query") from None
        return offset

    def page(self, items: Sequence[T], offset: int, size: int, binding: str) -> tuple[list[T], str | None]:
        """One page of ``items`` and the cursor of the next (None at the end)."""
        return self.page_from(items[offset : offset + size + 1], offset, size, binding)

    def page_from(self, fetched: Sequence[T], offset: int, size: int, binding: str) -> tuple[list[T], str | None]:
        """One page from ``fetched``, the items from ``offset`` on (one more than the page when a next exists),
        for queries that skip to the page themselves."""
        following = self.encode(offset + size, binding) if len(fetched) > size else None
        return list(fetched[:size]), following
