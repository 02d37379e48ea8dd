"""How the API is served: uvicorn with its C HTTP parser (httptools) and the libuv event loop (uvloop).

``crm-graph serve``, ``crm-graph demo`` and the benchmark all serve through :func:`server_config`, so the
numbers the benchmark reports are those of the server a bank runs. uvloop does not exist on Windows;
there asyncio's own loop is used.

Once the app has started (the store open, the services made) everything alive is moved out of the garbage
collector's reach with :func:`gc.freeze` until shutdown. Otherwise every full collection walks the store's and
the libraries' hundreds of thousands of objects, none of which is ever garbage while the server runs: at 20,000
customers such a pause measured 290-450 ms, holding every request in flight (the API's p99), and full
collections cost about a tenth of the server's CPU under the benchmark's mix.
"""

from __future__ import annotations

import gc
import importlib.util
from importlib.metadata import version
from typing import Literal

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_PARSER: Literal["httptools"] = "httptools"
EVENT_LOOP: Literal["uvloop", "asyncio"] = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


class FrozenAfterStartup:
    """The app, with what is alive once it has started frozen out of the garbage collector's reach until it shuts
    down (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                gc.collect()  # what starting up left behind is freed, not kept for good
                gc.freeze()
            elif message["type"].startswith("lifespan.shutdown"):
                gc.unfreeze()  # collectable again: the app's objects may be garbage once it has stopped
            await send(message)

        await self.app(scope, receive, sending)


def server_config(app: FastAPI, *, host: str, port: int, log_level: str, access_log: bool = True) -> uvicorn.Config:
    """The uvicorn settings every command serves the API with."""
    return uvicorn.Config(
        FrozenAfterStartup(app),
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        http=HTTP_PARSER,
        loop=EVENT_LOOP,
    )


def serve(app: FastAPI, *, host: str, port: int, log_level: str) -> None:
    """Serve ``app`` until stopped (Ctrl-C or SIGTERM); exits the process if the server fails to start."""
    uvicorn.run(FrozenAfterStartup(app), host=host, port=port, log_level=log_level, http=HTTP_PARSER, loop=EVENT_LOOP)


def server_name() -> str:
    """What serves the API, for reports: ``uvicorn 0.30.0 (httptools, uvloop)``."""
    return f"uvicorn {version('uvicorn')} ({HTTP_PARSER}, {EVENT_LOOP})"
