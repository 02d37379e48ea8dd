"""Folders served from a shell (``python -m graph.neo4j_launcher``): the note a serving launcher leaves in its
folder, and starting or stopping such a launcher from another process (``crm-graph load --initial``)."""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import NamedTuple

from graph.errors import Neo4jLauncherError
from graph.neo4j_launcher.jars import format_tail

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
            raise Neo4jLauncherError(f"the Neo4j launcher stopped before it served {home}:\n{format_tail(tail)}")
        if time.monotonic() > deadline:
            raise Neo4jLauncherError(f"the Neo4j launcher did not serve {home} within {timeout:.0f} s; see {log}")
        time.sleep(0.2)
    return served
