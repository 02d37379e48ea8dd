"""How the API is served: uvicorn with its C HTTP parser (httptools) and the libuv event loop (uvloop).

``crm-graph serve``, ``crm-graph demo`` and the benchmark all serve through :func:`server_config`, so the
numbers the benchmark reports are those of the server a bank runs. uvloop does not exist on Windows;
there asyncio's own loop is used.
"""

from __future__ import annotations

import importlib.util
from importlib.metadata import version
from typing import Literal

import uvicorn
from fastapi import FastAPI

HTTP_PARSER: Literal["httptools"] = "httptools"
EVENT_LOOP: Literal["uvloop", "asyncio"] = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"


def server_config(app: FastAPI, *, host: str, port: int, log_level: str, access_log: bool = True) -> uvicorn.Config:
    """The uvicorn settings every command serves the API with."""
    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=access_log, http=HTTP_PARSER, loop=EVENT_LOOP
    )


def serve(app: FastAPI, *, host: str, port: int, log_level: str) -> None:
    """Serve ``app`` until stopped (Ctrl-C or SIGTERM); exits the process if the server fails to start."""
    uvicorn.run(app, host=host, port=port, log_level=log_level, http=HTTP_PARSER, loop=EVENT_LOOP)


def server_name() -> str:
    """What serves the API, for reports: ``uvicorn 0.30.0 (httptools, uvloop)``."""
    return f"uvicorn {version('uvicorn')} ({HTTP_PARSER}, {EVENT_LOOP})"
