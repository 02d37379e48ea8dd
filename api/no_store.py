"""``Cache-Control: no-store`` on every answer under the API prefix.

Nearly every answer there carries customer data or says who may see it, and a browser or proxy cache keeps
what it is allowed to keep on disk, outside the bank's access checks and audit. Marking every answer (errors
included) is simpler to trust than a list of the routes that carry personal data.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class NoStore:
    """Add ``Cache-Control: no-store`` to every HTTP answer whose path starts with ``prefix``."""

    def __init__(self, app: ASGIApp, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, marked)
