"""The embedded store keeps what it committed, and only that, across restarts and crashes."""

from __future__ import annotations

import gc
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import weakref
from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from graph.errors import StoreError, StoreUnavailable
from graph.model import NodeLabel
from tests.samples import family_nodes, family_ties, snapshot


def test_reopening_gives_back_the_same_graph(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        store.write([{"label": "Person", "id": "p1", "properties": {"score": None}}])
        before = snapshot(store)
    with EmbeddedStore(path) as reopened:
        assert snapshot(reopened) == before


def test_values_without_a_plain_json_form_survive_a_reopen(tmp_path: Path) -> None:
    # Infinities (a ratio over nothing) and integers beyond 64 bits; "null" inside a text stays text.
    values = {"up": float("inf"), "down": [1.5, float("-inf")], "huge": 2**70, "note": "null", "nulls": ["null"]}
    path = tmp_path / "store.sqlite"
    with EmbeddedStore(path) as store:
        store.write([{"label": "Person", "id": "p1", "properties": values}])
    with EmbeddedStore(path, read_only=True) as reopened:
        node = reopened.get_node(NodeLabel.PERSON, "p1")
        assert node is not None and node.properties == values


EARLIER_LAYOUT = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE nodes (label TEXT NOT NULL, id TEXT NOT NULL, kind TEXT NOT NULL, props TEXT NOT NULL,
    PRIMARY KEY (label, id)) WITHOUT ROWID;
CREATE TABLE ties (type TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, props TEXT NOT NULL,
    PRIMARY KEY (type, source, target)) WITHOUT ROWID;
"""


def test_a_file_of_the_earlier_layout_is_read_and_written(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(EARLIER_LAYOUT)
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        store.write(family_nodes(), family_ties())  # replaces rows in place, as on the current layout
        before = snapshot(store)
    with EmbeddedStore(path) as reopened:
        assert snapshot(reopened) == before
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM nodes").fetchone()[0] == len(family_nodes())
        indexes = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        assert ("nodes_key",) not in indexes


def test_a_closed_store_lets_its_graph_go(tmp_path: Path) -> None:
    # ``with EmbeddedStore(...) as store`` leaves ``store`` bound; the graph must not live on through it.
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        store.write(family_nodes(), family_ties())
        graph = weakref.ref(store.view)
    gc.collect()
    assert graph() is None
    with pytest.raises(StoreUnavailable, match="closed"):
        store.write([{"label": "Person", "id": "late"}])


def test_a_second_writer_is_refused_but_readers_are_served(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        with pytest.raises(StoreUnavailable, match="open for writing in another process"):
            EmbeddedStore(path)
        with EmbeddedStore(path, read_only=True) as reader:
            assert reader.counts() == store.counts()
            with pytest.raises(StoreError, match="read-only"):
                reader.write([{"label": "Person", "id": "x"}])


def test_read_only_open_of_a_missing_store_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="no embedded store"):
        EmbeddedStore(tmp_path / "absent.sqlite", read_only=True)


CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from graph.embedded import EmbeddedStore

    store = EmbeddedStore(Path(sys.argv[1]))
    store.write([{"label": "Person", "id": f"first-{i}", "properties": {"n": i}} for i in range(100)])
    print("committed", flush=True)
    rows = [{"label": "Person", "id": f"second-{i}", "properties": {"n": i, "pad": "x" * 200}} for i in range(400_000)]
    store.write(rows)
    print("second committed", flush=True)
    """
)


@pytest.mark.slow
def test_killing_the_process_mid_batch_keeps_the_previous_state(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    wal = path.with_name(path.name + "-wal")
    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "committed"
    size_after_first = wal.stat().st_size
    # The second batch's pages spill into the WAL while its transaction is open: once the WAL has
    # grown by several megabytes, the process is inside the transaction, not before or after it.
    deadline = time.monotonic() + 120
    while wal.stat().st_size < size_after_first + 8_000_000:
        assert child.poll() is None, "the child finished before it could be killed mid-batch"
        assert time.monotonic() < deadline, "the second batch never started writing"
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait()
    rest = child.stdout.read()
    child.stdout.close()
    assert rest == "", "the second batch committed before the kill"

    with EmbeddedStore(path) as reopened:
        assert reopened.counts().nodes == {"Customer": 100, "Person": 100}
        assert reopened.get_node(NodeLabel.PERSON, "first-99") is not None
        assert reopened.get_node(NodeLabel.PERSON, "second-0") is None


def test_a_delete_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        store.write(delete=[("Person", "p1"), ("Account", "a1")])
        before = snapshot(store)
    assert before["counts"]["ties"] == {"EMPLOYED_BY": 1, "WORKS_AT": 1}
    with EmbeddedStore(path) as reopened:
        assert snapshot(reopened) == before


def test_lists_of_floats_read_back_as_the_lists_written(tmp_path: Path) -> None:
    # The store holds lists of floats as arrays of doubles; every read, a merge and a reopen see lists.
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        store.write(family_nodes(), family_ties())
        store.write([{"label": "Account", "id": "a1", "properties": {"status": "closed"}}])
        held = store.get_node(NodeLabel.ACCOUNT, "a1")
        assert held is not None
        assert held.properties == {"balances": [100.0, 250.5, 300.0], "status": "closed"}
        assert type(held.properties["balances"]) is list
    with EmbeddedStore(tmp_path / "store.sqlite", read_only=True) as reopened:
        assert reopened.get_node(NodeLabel.ACCOUNT, "a1") == held
