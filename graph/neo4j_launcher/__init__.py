"""Throwaway Neo4j 5.26 Community servers for tests and benchmarks, without Docker.

The server is embedded Neo4j run from Maven Central jars: Maven resolves the classpath of
``pom.xml`` next to this file, ``javac`` compiles ``Launcher.java`` against it, and the JVM
serves Bolt on a free loopback port with authentication disabled::

    from graph.neo4j_launcher import LocalNeo4j

    with LocalNeo4j() as server:
        driver = neo4j.GraphDatabase.driver(server.uri, auth=None)

The same jars hold ``neo4j-admin``: :func:`run_neo4j_admin` runs it (for example
``database import full``) on a folder that ``LocalNeo4j(home=folder)`` then serves::

    run_neo4j_admin(["database", "import", "full", "neo4j", "--nodes=..."], home=folder)
    with LocalNeo4j(home=folder) as server:
        ...

A server on a kept folder and a fixed port can be stopped and started again on the same data and
address (``stop()`` leaves ``home`` in place)::

    server = LocalNeo4j(home=folder, port=7690).start()
    server.stop()
    server.start()

``python -m graph.neo4j_launcher --home FOLDER --port 7687`` does the same from a shell: it serves the
folder until Ctrl-C, and running it again restarts the server on the data it left.

The first start downloads about 150 MB into the local Maven repository (``~/.m2``). The
classpath and the compiled launcher are cached under ``$XDG_CACHE_HOME/crm-graph/neo4j-5.26``
(default ``~/.cache/...``), keyed on the content of the files they come from, so later starts
do not run Maven. Apart from the project's exception tree, only the standard library is used here.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, NamedTuple

from graph.errors import Neo4jLauncherError

__all__ = [
    "LocalNeo4j",
    "Neo4jLauncherError",
    "ServedFolder",
    "forget_served_folder",
    "launcher_available",
    "record_served_folder",
    "resolve_classpath",
    "run_neo4j_admin",
    "serve_folder_detached",
    "served_folder",
    "stop_served_folder",
]

NEO4J_SERIES = "5.26"

_HERE = Path(__file__).resolve().parent
_POM = _HERE / "pom.xml"
_LAUNCHER_SOURCE = _HERE / "Launcher.java"
_REQUIRED_TOOLS = ("java", "javac", "mvn")

# Flags the Neo4j server scripts pass too; without the add-opens the page cache falls back to a
# slower buffer mode and logs a warning.
_JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
)


def launcher_available() -> str | None:
    """Return None if the tools needed to start a server exist, else what is missing."""
    missing = [tool for tool in _REQUIRED_TOOLS if shutil.which(tool) is None]
    if not missing:
        return None
    return f"cannot start a local Neo4j: {', '.join(missing)} not found on PATH (needs a JDK 17+ with javac, and Maven)"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "crm-graph" / f"neo4j-{NEO4J_SERIES}"


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
        h.update(b"\0")
    return h.hexdigest()[:16]


def _require_tools() -> None:
    problem = launcher_available()
    if problem is not None:
        raise Neo4jLauncherError(problem)


def _format_tail(lines: collections.deque[str]) -> str:
    return "\n".join(f"    {line}" for line in lines) or "    (no output)"


def resolve_classpath(cache_dir: Path | None = None) -> str:
    """Return the Neo4j classpath, running Maven only when no valid cached copy exists."""
    cache = cache_dir or default_cache_dir()
    cache_file = cache / f"classpath-{_digest(_POM.read_bytes())}.txt"
    if cache_file.is_file():
        classpath = cache_file.read_text(encoding="utf-8").strip()
        # A cleaned ~/.m2 invalidates the cache even though the pom did not change.
        if classpath and all(Path(p).is_file() for p in classpath.split(os.pathsep)):
            return classpath

    _require_tools()
    cache.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(dir=cache, prefix=".classpath-", suffix=".tmp")
    os.close(fd)
    partial = Path(partial_name)
    try:
        _run_maven(partial)
        classpath = partial.read_text(encoding="utf-8").strip()
        if not classpath:
            raise Neo4jLauncherError("Maven produced an empty classpath for " + str(_POM))
        # Atomic so concurrent first starts (e.g. pytest-xdist workers) never see half a file.
        os.replace(partial, cache_file)
    finally:
        partial.unlink(missing_ok=True)
    return classpath


def _run_maven(output_file: Path) -> None:
    command = [
        "mvn",
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(_POM),
        "dependency:build-classpath",
        f"-Dmdep.outputFile={output_file}",
    ]
    print(
        f"neo4j-launcher: resolving Neo4j {NEO4J_SERIES} jars with Maven (the first run downloads about 150 MB)...",
        file=sys.stderr,
        flush=True,
    )
    tail: collections.deque[str] = collections.deque(maxlen=40)
    downloads = 0
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    )
    assert proc.stdout is not None
    with proc.stdout:
        for raw in proc.stdout:
            line = raw.rstrip()
            tail.append(line)
            # One line per artifact would be hundreds of lines; a count every 25 shows progress.
            if line.removeprefix("[INFO] ").startswith("Downloaded from"):
                downloads += 1
                if downloads % 25 == 0:
                    url = line.partition(": ")[2].split(" ")[0]
                    artifact = url.rsplit("/", 1)[-1]
                    print(
                        f"neo4j-launcher: maven downloaded {downloads} files ({artifact})", file=sys.stderr, flush=True
                    )
            elif line.startswith(("[WARNING]", "[ERROR]")):
                print(f"neo4j-launcher: {line}", file=sys.stderr, flush=True)
    if proc.wait() != 0:
        raise Neo4jLauncherError(f"Maven failed (exit {proc.returncode}) resolving {_POM}:\n{_format_tail(tail)}")
    print(f"neo4j-launcher: Maven done ({downloads} files downloaded)", file=sys.stderr, flush=True)


def _compiled_launcher(classpath: str, cache_dir: Path | None = None) -> Path:
    """Return a directory holding Launcher.class, compiling it once per source/classpath."""
    cache = cache_dir or default_cache_dir()
    target = cache / f"launcher-{_digest(_LAUNCHER_SOURCE.read_bytes(), classpath.encode())}"
    if (target / "Launcher.class").is_file():
        return target

    _require_tools()
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache, prefix=".launcher-"))
    try:
        result = subprocess.run(
            ["javac", "-nowarn", "-d", str(staging), "-cp", classpath, str(_LAUNCHER_SOURCE)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
        )
        if result.returncode != 0:
            raise Neo4jLauncherError(f"javac failed on {_LAUNCHER_SOURCE}:\n{result.stderr}")
        try:
            staging.rename(target)
        except OSError:
            # Another process compiled the same launcher first; its copy is as good as ours.
            if not (target / "Launcher.class").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def run_neo4j_admin(
    arguments: Sequence[str],
    home: Path,
    *,
    heap: str = "1g",
    timeout: float | None = None,
    cache_dir: Path | None = None,
) -> str:
    """Run ``neo4j-admin ARGUMENTS`` from the Maven jars with ``home`` as NEO4J_HOME; return what it printed.

    Databases go to ``home/data/databases``, as ``LocalNeo4j(home=home)`` reads them. Raises
    ``Neo4jLauncherError`` with the tail of the output when the tool fails.
    """
    _require_tools()
    classpath = resolve_classpath(cache_dir)
    home = Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    environment = {name: value for name, value in os.environ.items() if name != "NEO4J_CONF"}
    environment["NEO4J_HOME"] = str(home)
    command = ["java", f"-Xmx{heap}", *_JVM_OPTIONS, "-cp", classpath, "org.neo4j.cli.AdminTool", *arguments]
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            env=environment,
            cwd=home,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        raise Neo4jLauncherError(f"neo4j-admin did not finish within {timeout:.0f} s") from error
    output = result.stdout + result.stderr
    if result.returncode != 0:
        tail = collections.deque(output.splitlines(), maxlen=40)
        raise Neo4jLauncherError(f"neo4j-admin failed (exit {result.returncode}):\n{_format_tail(tail)}")
    return output


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
        _require_tools()
        classpath = resolve_classpath(self.cache_dir)
        classes = _compiled_launcher(classpath, self.cache_dir)

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
            *_JVM_OPTIONS,
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
                    f"last output:\n{_format_tail(self._output)}"
                )
            if time.monotonic() > deadline:
                raise Neo4jLauncherError(
                    f"Neo4j was not ready within {self.start_timeout:.0f} s; last output:\n{_format_tail(self._output)}"
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


# -- folders served from a shell (python -m graph.neo4j_launcher) ------------------------------------

SERVED_FILE = "launcher.json"
"""Written into a folder while ``python -m graph.neo4j_launcher`` serves it: which process, at which address."""


class ServedFolder(NamedTuple):
    """A launcher process serving a kept folder: the one server ``crm-graph load --initial`` may stop."""

    pid: int
    uri: str
    heap: str

    @property
    def port(self) -> int:
        return int(self.uri.rsplit(":", 1)[1])


def record_served_folder(home: Path, uri: str, heap: str) -> None:
    """Note in ``home`` that this process serves it at ``uri`` (replaced whole, so a reader never sees half)."""
    record = {"pid": os.getpid(), "uri": uri, "heap": heap}
    partial = Path(home) / f".{SERVED_FILE}.{os.getpid()}"
    partial.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(partial, Path(home) / SERVED_FILE)


def forget_served_folder(home: Path) -> None:
    """Remove this process's note from ``home`` (another launcher's note stays)."""
    served = served_folder(home)
    if served is not None and served.pid == os.getpid():
        (Path(home) / SERVED_FILE).unlink(missing_ok=True)


def served_folder(home: Path) -> ServedFolder | None:
    """The launcher process serving ``home``, or None when no live launcher does."""
    try:
        record = json.loads((Path(home) / SERVED_FILE).read_text(encoding="utf-8"))
        served = ServedFolder(int(record["pid"]), str(record["uri"]), str(record["heap"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return served if _is_launcher(served.pid) else None


def _is_launcher(pid: int) -> bool:
    """Whether ``pid`` is alive and a launcher (not some process that reused a dead launcher's pid)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)  # no /proc: alive is all we can tell
        except (ProcessLookupError, PermissionError):
            return False
        return True
    return b"graph.neo4j_launcher" in command


def stop_served_folder(served: ServedFolder, timeout: float = 120.0) -> None:
    """Stop the launcher serving a folder as Ctrl-C does (Neo4j shuts down cleanly) and wait until it is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(served.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_launcher(served.pid):
        if time.monotonic() > deadline:
            raise Neo4jLauncherError(f"the Neo4j launcher (pid {served.pid}) did not stop within {timeout:.0f} s")
        time.sleep(0.2)


def serve_folder_detached(home: Path, port: int, heap: str, log: Path, timeout: float = 300.0) -> ServedFolder:
    """Start ``python -m graph.neo4j_launcher`` on ``home`` in its own session, outliving this process;
    return once it serves. Its output goes to ``log``; ``kill PID`` stops it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    arguments = ["-m", "graph.neo4j_launcher", "--home", str(home), "--port", str(port), "--heap", heap]
    # posix_spawn, not Popen: nothing here waits for the process, and a Popen object dropped while its
    # process runs warns (and in tests, fails) when it is collected.
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, *arguments],
        os.environ,
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
    deadline = time.monotonic() + timeout
    while (served := served_folder(home)) is None or served.pid != pid:
        # Our own child: waitpid tells whether it exited (and reaps it). Its /proc cmdline would not do:
        # until the exec it shows this process's.
        if os.waitpid(pid, os.WNOHANG) != (0, 0):
            tail = collections.deque(log.read_text(encoding="utf-8", errors="replace").splitlines(), maxlen=20)
            raise Neo4jLauncherError(f"the Neo4j launcher stopped before it served {home}:\n{_format_tail(tail)}")
        if time.monotonic() > deadline:
            raise Neo4jLauncherError(f"the Neo4j launcher did not serve {home} within {timeout:.0f} s; see {log}")
        time.sleep(0.2)
    return served
