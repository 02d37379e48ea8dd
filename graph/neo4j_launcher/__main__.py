"""Serve a kept Neo4j folder from a shell until Ctrl-C: ``python -m graph.neo4j_launcher --home DIR --port N``.

Running the same command again restarts the server on the data the last run left, at the same address,
so a test session can use it through ``CRM_GRAPH_TEST_NEO4J_URI`` instead of starting its own.

While it serves, ``DIR/launcher.json`` says which process serves the folder and at which address
(:func:`graph.neo4j_launcher.served_folder` reads it): ``crm-graph load --initial`` stops such a server for
the offline import and starts it again; a server without that file is not ours to stop.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from graph.errors import Neo4jLauncherError
from graph.neo4j_launcher import LocalNeo4j, forget_served_folder, record_served_folder


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graph.neo4j_launcher", description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True, help="data folder, kept between runs (created if missing)")
    parser.add_argument("--port", type=int, default=7687, help="Bolt port on 127.0.0.1 (default 7687)")
    parser.add_argument("--heap", default="1g", help="JVM heap, e.g. 2g (default 1g)")
    arguments = parser.parse_args(argv)
    arguments.home.mkdir(parents=True, exist_ok=True)
    server = LocalNeo4j(home=arguments.home, port=arguments.port, heap=arguments.heap)
    # A plain `kill` stops the server as Ctrl-C does: cleanly, data flushed.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        with server:
            record_served_folder(arguments.home, server.uri, arguments.heap)
            print(f"serving {server.home} at {server.uri} (authentication off); Ctrl-C stops it", flush=True)
            threading.Event().wait()
    except Neo4jLauncherError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopped; the data stays in", server.home)
    finally:
        forget_served_folder(arguments.home)
    return 0


if __name__ == "__main__":
    sys.exit(main())
