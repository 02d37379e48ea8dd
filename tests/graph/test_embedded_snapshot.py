"""New snapshots are written in the background: writes go on into a fresh log meanwhile, and a process killed
while a snapshot is half written leaves a store that opens to every batch it acknowledged."""

from __future__ import annotations

import signal
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

import graph.embedded as embedded
import graph.embedded.snapshot as snapshot_module
from graph.embedded import EmbeddedStore
from graph.embedded.disk import read_manifest
from tests.graph.store_child import start_store_child
from tests.graph.test_bulk_write import node_tables, tie_tables
from tests.samples import family_nodes, family_ties, snapshot

LATER = [{"label": "Person", "id": f"later-{n}", "properties": {"n": n}} for n in range(50)]


def test_writes_go_on_while_a_snapshot_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real_write = snapshot_module.write_snapshot_file

    def held_write(*args: Any, **kwargs: Any) -> tuple[int, int]:
        release.wait(30)
        return real_write(*args, **kwargs)

    path = tmp_path / "store"
    monkeypatch.setattr(snapshot_module, "write_snapshot_file", held_write)
    with EmbeddedStore(path) as store, EmbeddedStore(tmp_path / "model") as model:
        monkeypatch.setattr(embedded, "LOG_MINIMUM", 0)
        for target in (store, model):
            target.bulk_write(node_tables(family_nodes()), tie_tables(family_ties()))
        assert read_manifest(path)["earlier_logs"] == ["log-000001"]  # the snapshot is under way
        for target in (store, model):
            target.write(LATER)  # into the fresh log, while the snapshot waits
        assert snapshot(store) == snapshot(model)
        with EmbeddedStore(path, read_only=True) as reader:
            assert snapshot(reader) == snapshot(model)
        release.set()
        expected = snapshot(model)
    assert sorted(file.name for file in path.iterdir()) == ["MANIFEST", "log-000002", "snapshot-000002"]
    assert read_manifest(path)["earlier_logs"] == []
    with EmbeddedStore(path, read_only=True) as reopened:
        assert snapshot(reopened) == expected


CHILD = textwrap.dedent(
    """
    import os
    import sys
    import threading
    from pathlib import Path

    import graph.embedded as embedded
    import graph.embedded.snapshot as snapshot_module
    from graph.embedded import EmbeddedStore
    from tests.graph.test_bulk_write import node_tables, tie_tables
    from tests.graph.test_embedded_snapshot import LATER
    from tests.samples import family_nodes, family_ties

    real_write = snapshot_module.write_snapshot_file

    def write_then_stop(*args, **kwargs):
        real_write(*args, **kwargs)
        os.write(1, b"snapshot file written\\n")  # one write: the two threads' lines do not interleave
        threading.Event().wait()  # the parent kills the process here, the snapshot half written

    snapshot_module.write_snapshot_file = write_then_stop
    embedded.LOG_MINIMUM = 0
    store = EmbeddedStore(Path(sys.argv[1]))
    store.bulk_write(node_tables(family_nodes()), tie_tables(family_ties()))
    store.write(LATER)
    os.write(1, b"later committed\\n")
    threading.Event().wait()
    """
)


def test_killing_the_process_mid_snapshot_keeps_every_acknowledged_batch(tmp_path: Path) -> None:
    path = tmp_path / "store"
    child = start_store_child(CHILD, path)
    assert child.stdout is not None
    try:
        said = {child.stdout.readline().strip(), child.stdout.readline().strip()}
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert said == {"snapshot file written", "later committed"}
    manifest = read_manifest(path)
    assert (manifest["snapshot"], manifest["earlier_logs"]) == (None, ["log-000001"])
    assert (path / "snapshot-000002").is_dir()  # half written: one file of several, never named

    with EmbeddedStore(tmp_path / "model") as model:
        model.bulk_write(node_tables(family_nodes()), tie_tables(family_ties()))
        model.write(LATER)
        expected = snapshot(model)
    with EmbeddedStore(path, read_only=True) as reader:
        assert snapshot(reader) == expected
    with EmbeddedStore(path) as reopened:
        assert snapshot(reopened) == expected
        assert not (path / "snapshot-000002").exists()  # the writer cleared what the manifest does not name


def test_a_load_starts_no_snapshot_until_it_ends_and_then_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store"
    monkeypatch.setattr(embedded, "LOG_MINIMUM", 0)  # outside a load, each of these writes would start one
    with EmbeddedStore(path) as store, EmbeddedStore(tmp_path / "model") as model:
        with store.loading():
            for target in (store, model):
                target.bulk_write(node_tables(family_nodes()), tie_tables(family_ties()))
                target.write(LATER)
            manifest = read_manifest(path)
            assert (manifest["snapshot"], manifest["earlier_logs"], manifest["log"]) == (None, [], "log-000001")
            assert snapshot(store) == snapshot(model)
        store._disk.wait_for_snapshot()
        manifest = read_manifest(path)
        assert (manifest["snapshot"], manifest["earlier_logs"]) == ("snapshot-000002", [])
        expected = snapshot(model)
        assert snapshot(store) == expected
    assert sorted(file.name for file in path.iterdir()) == ["MANIFEST", "log-000002", "snapshot-000002"]
    with EmbeddedStore(path, read_only=True) as reopened:
        assert snapshot(reopened) == expected
