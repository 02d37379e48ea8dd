"""The Neo4j jars from Maven Central, the compiled launcher, and ``neo4j-admin`` run from the same jars.

Maven resolves the classpath of ``pom.xml`` next to this file once per pom; ``javac`` compiles ``Launcher.java``
once per source and classpath; both are cached under :func:`default_cache_dir`.
"""

from __future__ import annotations

import collections
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from graph.errors import Neo4jLauncherError

NEO4J_SERIES = "5.26"

_HERE = Path(__file__).resolve().parent
_POM = _HERE / "pom.xml"
_LAUNCHER_SOURCE = _HERE / "Launcher.java"
_REQUIRED_TOOLS = ("java", "javac", "mvn")

# Flags the Neo4j server scripts pass too; without the add-opens the page cache falls back to a
# slower buffer mode and logs a warning.
JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
)

SERVER_JVM_OPTIONS = ("-XX:+UnlockExperimentalVMOptions", "-XX:G1NewSizePercent=33")
"""The server's alone: at least a third of the heap for the young generation. On a busy machine G1's pause-time
goal shrank it to about 100 MB during a load (pauses took longer for want of CPU), so transaction state was
collected, and copied, some 116 times per 30,000-customer load instead of 23
(bench/results/neo4j-load-cpu-2026-12-01.md)."""


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


def require_tools() -> None:
    problem = launcher_available()
    if problem is not None:
        raise Neo4jLauncherError(problem)


def format_tail(lines: collections.deque[str]) -> str:
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

    require_tools()
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
        raise Neo4jLauncherError(f"Maven failed (exit {proc.returncode}) resolving {_POM}:\n{format_tail(tail)}")
    print(f"neo4j-launcher: Maven done ({downloads} files downloaded)", file=sys.stderr, flush=True)


def compiled_launcher(classpath: str, cache_dir: Path | None = None) -> Path:
    """Return a directory holding Launcher.class, compiling it once per source/classpath."""
    cache = cache_dir or default_cache_dir()
    target = cache / f"launcher-{_digest(_LAUNCHER_SOURCE.read_bytes(), classpath.encode())}"
    if (target / "Launcher.class").is_file():
        return target

    require_tools()
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
    require_tools()
    classpath = resolve_classpath(cache_dir)
    home = Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    environment = {name: value for name, value in os.environ.items() if name != "NEO4J_CONF"}
    environment["NEO4J_HOME"] = str(home)
    command = ["java", f"-Xmx{heap}", *JVM_OPTIONS, "-cp", classpath, "org.neo4j.cli.AdminTool", *arguments]
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
        raise Neo4jLauncherError(f"neo4j-admin failed (exit {result.returncode}):\n{format_tail(tail)}")
    return output
