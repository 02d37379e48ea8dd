"""How the API is served: uvicorn with its C HTTP parser (httptools) and the libuv event loop (uvloop).

``crm-graph serve``, ``crm-graph demo`` and the benchmark all serve through :func:`server_config`, so the
numbers the benchmark reports are those of the server a bank runs. uvloop does not exist on Windows;
there asyncio's own loop is used.

Once the app has started (the store open, the services made) everything alive is moved out of the garbage
collector's reach with :func:`gc.freeze` until shutdown. Otherwise every full collection walks the store's and
the libraries' hundreds of thousands of objects, none of which is ever garbage while the server runs: at 20,000
customers such a pause measured 290-450 ms, holding every request in flight (the API's p99), and full
collections cost about a tenth of the server's CPU under the benchmark's mix.

While the app runs, a thread that gave up the GIL (a worker thread's Neo4j socket read, the audit writer's
SQLite step) waits at most :data:`SWITCH_INTERVAL_SECONDS` for it to come back from the busy event loop, instead
of the interpreter's default 5 ms: each Neo4j request waits out several such hand-overs. On Neo4j at 16 clients
this measured 173-198 -> 198-242 requests/s with the server's CPU per request lower, not higher.
"""

from __future__ import annotations

import gc
import importlib.util
import sys
from importlib.metadata import version
from typing import Literal

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_PARSER: Literal["httptools"] = "httptools"
EVENT_LOOP: Literal["uvloop", "asyncio"] = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
SWITCH_INTERVAL_SECONDS = 0.0005
"""How long a thread waiting for the GIL waits before the running one must hand it over (module docstring)."""


class ServingInterpreter:
    """The app, with the interpreter set for serving from its startup to its shutdown: what is alive once it has
    started frozen out of the garbage collector's reach, and a short switch interval (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._switch_interval = sys.getswitchinterval()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                gc.collect()  # what starting up left behind is freed, not kept for good
                gc.freeze()
                self._switch_interval = sys.getswitchinterval()
                sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
            elif message["type"].startswith("lifespan.shutdown"):
                gc.unfreeze()  # collectable again: the app's objects may be garbage once it has stopped
                sys.setswitchinterval(self._switch_interval)
            await send(message)

        await self.app(scope, receive, sending)


def server_config(app: FastAPI, *, host: str, port: int, log_level: str, access_log: bool = True) -> uvicorn.Config:
    """The uvicorn settings every command serves the API with."""
    return uvicorn.Config(
        ServingInterpreter(app),
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        http=HTTP_PARSER,
        loop=EVENT_LOOP,
    )


def serve(app: FastAPI, *, host: str, port: int, log_level: str) -> None:
    """Serve ``app`` until stopped (Ctrl-C or SIGTERM); exits the process if the server fails to start."""
    uvicorn.run(ServingInterpreter(app), host=host, port=port, log_level=log_level, http=HTTP_PARSER, loop=EVENT_LOOP)


def server_name() -> str:
    """What serves the API, for reports: ``uvicorn 0.30.0 (httptools, uvloop)``."""
    return f"uvicorn {version('uvicorn')} ({HTTP_PARSER}, {EVENT_LOOP})"
