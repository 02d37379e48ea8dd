"""Every command serves the API with uvicorn's C HTTP parser and the libuv event loop (``api/serving.py``)."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time

import pytest
import uvicorn
from fastapi import FastAPI

from api.serving import SWITCH_INTERVAL_SECONDS, server_config, server_name
from tests.ports import free_port


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


def test_the_interpreter_is_set_for_serving_from_startup_to_shutdown() -> None:
    # Full collections would otherwise walk the store's objects while requests wait, and threads wait 5 ms for the
    # GIL from the busy event loop (api/serving.py).
    app = FastAPI()
    port = free_port()
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    gc.unfreeze()
    before = sys.getswitchinterval()
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        assert gc.get_freeze_count() > 1000  # the app, the modules, the server: everything alive
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_SECONDS) != before
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert gc.get_freeze_count() == 0
    assert sys.getswitchinterval() == before
