"""A throwaway (or kept-folder) Neo4j server in a child JVM: :class:`LocalNeo4j`."""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO

from graph.errors import Neo4jLauncherError
from graph.neo4j_launcher.jars import (
    JVM_OPTIONS,
    SERVER_JVM_OPTIONS,
    compiled_launcher,
    format_tail,
    require_tools,
    resolve_classpath,
)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _check_port_free(port: int) -> None:
    """Refuse a port another process listens on: Neo4j would only say so after a long start-up."""
    if not 0 < port < 65536:
        raise Neo4jLauncherError(f"port {port} is not a TCP port (1-65535)")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As a server binds: a port left in TIME_WAIT by the previous run on it is free to reuse.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise Neo4jLauncherError(
                f"port {port} on 127.0.0.1 is in use; choose another or stop what holds it"
            ) from None


def _check_home(home: Path) -> None:
    if not home.exists():
        raise Neo4jLauncherError(f"the Neo4j home folder {home} does not exist; create it or leave home unset")
    if not home.is_dir():
        raise Neo4jLauncherError(f"the Neo4j home {home} is not a folder")


class LocalNeo4j:
    """A Neo4j Community server in a child JVM, on a loopback port, with no auth.

    Data lives in a temporary directory that ``stop()`` removes, together with Neo4j's own
    logs (``logs/debug.log`` inside it, handy while the server runs). With ``home``, the server
    uses that folder instead (one ``run_neo4j_admin`` imported into, say) and leaves it in place;
    the folder must exist. Bolt listens on ``port``, or on a free port chosen at each start.

    ``settings`` are neo4j.conf entries that override the launcher's defaults, for example
    ``{"server.memory.pagecache.size": "1g"}``. ``heap`` sets the JVM's -Xms and -Xmx.
    """

    def __init__(
        self,
        *,
        start_timeout: float = 180.0,
        stop_timeout: float = 30.0,
        heap: str = "1g",
        settings: Mapping[str, str] | None = None,
        cache_dir: Path | None = None,
        home: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.heap = heap
        self.settings = dict(settings or {})
        self.cache_dir = cache_dir
        self.home = Path(home).resolve() if home is not None else None
        self.requested_port = port
        self.port: int | None = None
        self.data_dir: Path | None = None
        self._uri: str | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=60)
        self._ready = threading.Event()

    @property
    def uri(self) -> str:
        """Bolt URI of the running server, e.g. ``bolt://127.0.0.1:40123``."""
        if self._uri is None:
            raise Neo4jLauncherError("the Neo4j server is not running; call start() first")
        return self._uri

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def output_tail(self) -> str:
        """The last lines the JVM printed (Neo4j's own logs are under data_dir/logs)."""
        return "\n".join(self._output)

    def start(self) -> LocalNeo4j:
        if self._proc is not None:
            raise Neo4jLauncherError("this LocalNeo4j is already started")
        if self.home is not None:
            _check_home(self.home)
        if self.requested_port is not None:
            _check_port_free(self.requested_port)
        require_tools()
        classpath = resolve_classpath(self.cache_dir)
        classes = compiled_launcher(classpath, self.cache_dir)

        self.data_dir = self.home or Path(tempfile.mkdtemp(prefix="crm-graph-neo4j-"))
        self.port = self.requested_port or _free_loopback_port()
        args = [str(self.data_dir), str(self.port)]
        if self.settings:
            conf = self.data_dir / "launcher.conf"
            conf.write_text("".join(f"{k}={v}\n" for k, v in self.settings.items()), "utf-8")
            args.append(str(conf))

        self._output.clear()
        self._ready.clear()
        command = [
            "java",
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            *JVM_OPTIONS,
            *SERVER_JVM_OPTIONS,
            "-cp",
            os.pathsep.join([str(classes), classpath]),
            "Launcher",
            *args,
        ]
        # stdin stays open for the server's lifetime: when this process dies, the pipe closes
        # and the launcher shuts Neo4j down. A new session keeps a terminal's Ctrl-C from
        # killing the JVM before stop() can shut it down cleanly.
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            cwd=self.data_dir,
        )
        atexit.register(self.stop)
        assert self._proc.stdout is not None
        self._reader = threading.Thread(
            target=self._pump, args=(self._proc.stdout,), name="neo4j-launcher-output", daemon=True
        )
        self._reader.start()
        try:
            self._await_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _pump(self, stream: IO[str]) -> None:
        # Keeps draining after READY so a chatty JVM never blocks on a full pipe.
        with stream:
            for raw in stream:
                line = raw.rstrip("\n")
                self._output.append(line)
                if line.startswith("READY ") and not self._ready.is_set():
                    self._uri = line.split(" ", 1)[1].strip()
                    self._ready.set()

    def _await_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while not self._ready.wait(0.1):
            if self._proc.poll() is not None:
                if self._reader is not None:
                    self._reader.join(timeout=5)
                raise Neo4jLauncherError(
                    f"Neo4j exited with code {self._proc.returncode} before it was ready; "
                    f"last output:\n{format_tail(self._output)}"
                )
            if time.monotonic() > deadline:
                raise Neo4jLauncherError(
                    f"Neo4j was not ready within {self.start_timeout:.0f} s; last output:\n{format_tail(self._output)}"
                )

    def stop(self) -> None:
        """Shut the server down (SIGTERM, then SIGKILL after stop_timeout) and delete its data (unless ``home``)."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        self._uri = None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        if self.data_dir is not None:
            if self.home is None:
                shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self) -> LocalNeo4j:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"uri={self._uri!r}" if self._uri else "stopped"
        return f"LocalNeo4j({state})"
