"""A free port on the loopback interface, for the tests that start a server of their own."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (the system picks it; a server started soon after may take it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
