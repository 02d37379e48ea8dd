"""Every command serves the API with uvicorn's C HTTP parser and the libuv event loop (``api/serving.py``)."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from api.serving import server_config, server_name


def test_the_server_parses_http_with_httptools_on_uvloop() -> None:
    config = server_config(FastAPI(), host="127.0.0.1", port=0, log_level="warning")
    config.load()
    assert config.http_protocol_class.__module__ == "uvicorn.protocols.http.httptools_impl"
    make_loop = config.get_loop_factory()
    assert make_loop is not None
    loop = make_loop()
    try:
        assert isinstance(loop, asyncio.AbstractEventLoop)
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()
    assert server_name().endswith("(httptools, uvloop)")
