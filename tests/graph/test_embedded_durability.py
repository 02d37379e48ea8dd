"""The embedded store keeps what it committed, and only that, across restarts and crashes."""

from __future__ import annotations

import gc
import json
import signal
import textwrap
import time
import weakref
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

import graph.embedded as embedded
import graph.embedded.disk as disk
import graph.embedded.log_records as log_records
from api.cli import app
from graph.embedded import EmbeddedStore
from graph.embedded.disk import read_manifest
from graph.embedded.migrate import OLD_SUFFIX
from graph.embedded.sqlite_v1 import Disk as SqliteFile
from graph.embedded.sqlite_v1 import encode
from graph.errors import StoreError, StoreOutdated, StoreUnavailable
from graph.model import NodeLabel, NodeRecord
from tests.graph.store_child import start_store_child
from tests.samples import family_nodes, family_ties, snapshot


def test_reopening_gives_back_the_same_graph(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        store.write([{"label": "Person", "id": "p1", "properties": {"score": None}}])
        before = snapshot(store)
    with EmbeddedStore(path) as reopened:
        assert snapshot(reopened) == before


def test_values_without_a_plain_json_form_survive_a_reopen(tmp_path: Path) -> None:
    # Infinities (a ratio over nothing) and integers beyond 64 bits; "null" inside a text stays text.
    values = {"up": float("inf"), "down": [1.5, float("-inf")], "huge": 2**70, "note": "null", "nulls": ["null"]}
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        store.write([{"label": "Person", "id": "p1", "properties": values}])
    with EmbeddedStore(path, read_only=True) as reopened:
        node = reopened.get_node(NodeLabel.PERSON, "p1")
        assert node is not None and node.properties == values


def test_a_store_of_the_earlier_sqlite_format_is_refused_until_migrated(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    with EmbeddedStore(tmp_path / "model") as model:
        model.write(family_nodes(), family_ties())
        model.write([{"label": "Person", "id": "p9", "properties": {"huge": 2**70, "up": float("inf")}}])
        before = snapshot(model)
    old = SqliteFile(path)
    old.commit(
        [(node.label.primary.value, node.id, node.label.value, encode(node.properties)) for node in _all_nodes(before)],
        [(tie["type"], tie["source"], tie["target"], encode(tie["properties"])) for tie in before["ties"]],
    )
    old.close()

    with pytest.raises(StoreOutdated, match="earlier SQLite format; convert it with `crm-graph migrate`") as refused:
        EmbeddedStore(path)
    assert "\n" not in str(refused.value) and str(path) in str(refused.value)
    checked = CliRunner().invoke(app, ["check"], env={"CRM_GRAPH_EMBEDDED_PATH": str(path), "COLUMNS": "60"})
    assert checked.exit_code == 2 and "crm-graph migrate" in checked.stderr
    result = CliRunner().invoke(app, ["migrate"], env={"CRM_GRAPH_EMBEDDED_PATH": str(path), "COLUMNS": "60"})
    assert result.exit_code == 0, result.output
    assert "converted" in result.stdout
    assert path.is_dir() and path.with_name(path.name + OLD_SUFFIX).is_file()
    with EmbeddedStore(path) as migrated:
        assert snapshot(migrated) == before
    again = CliRunner().invoke(app, ["migrate"], env={"CRM_GRAPH_EMBEDDED_PATH": str(path), "COLUMNS": "60"})
    assert again.exit_code == 1 and "nothing to migrate" in again.stderr


def _all_nodes(held: dict[str, Any]) -> list[NodeRecord]:
    primary = [label for label in NodeLabel if label.primary is label]
    return [NodeRecord.model_validate(node) for label in primary for node in held["nodes"][label.value]]


def test_a_new_snapshot_reads_the_same_and_replaces_the_old(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        monkeypatch.setattr(embedded, "LOG_MINIMUM", 0)
        store.write([{"label": "Person", "id": "p1", "properties": {"score": 0.5}}], delete=[("Account", "a1")])
        monkeypatch.undo()
        store.write([{"label": "Person", "id": "p2", "properties": {"consent_marketing": None}}])
        before = snapshot(store)
    assert sorted(file.name for file in path.iterdir()) == ["MANIFEST", "log-000002", "snapshot-000002"]
    assert (path / "log-000002").stat().st_size > 0
    with EmbeddedStore(path, read_only=True) as reopened:
        assert snapshot(reopened) == before


def test_a_closed_store_lets_its_graph_go(tmp_path: Path) -> None:
    # ``with EmbeddedStore(...) as store`` leaves ``store`` bound; the graph must not live on through it.
    with EmbeddedStore(tmp_path / "store") as store:
        store.write(family_nodes(), family_ties())
        graph = weakref.ref(store.view)
    gc.collect()
    assert graph() is None
    with pytest.raises(StoreUnavailable, match="closed"):
        store.write([{"label": "Person", "id": "late"}])


def test_a_second_writer_is_refused_but_readers_are_served(tmp_path: Path) -> None:
    path = tmp_path / "store"
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
        EmbeddedStore(tmp_path / "absent", read_only=True)


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
    path = tmp_path / "store"
    child = start_store_child(CHILD, path)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "committed"
    log = path / read_manifest(path)["log"]
    size_after_first = log.stat().st_size
    # The second batch is one record of about 100 MB: once the log has grown by several megabytes, the
    # process is inside its append, not before or after it.
    deadline = time.monotonic() + 120
    while log.stat().st_size < size_after_first + 8_000_000:
        assert child.poll() is None, "the child finished before it could be killed mid-batch"
        assert time.monotonic() < deadline, "the second batch never started writing"
        time.sleep(0.002)
    child.send_signal(signal.SIGKILL)
    child.wait()
    rest = child.stdout.read()
    child.stdout.close()
    assert rest == "", "the second batch committed before the kill"
    assert log.stat().st_size > size_after_first  # part of the second batch is on disk

    with EmbeddedStore(path) as reopened:
        assert reopened.counts().nodes == {"Customer": 100, "Person": 100}
        assert reopened.get_node(NodeLabel.PERSON, "first-99") is not None
        assert reopened.get_node(NodeLabel.PERSON, "second-0") is None
        reopened.write([{"label": "Person", "id": "after", "properties": {"n": 1}}])
    assert log.stat().st_size < size_after_first + 8_000_000  # the unfinished record was cut off
    with EmbeddedStore(path, read_only=True) as again:
        assert again.counts().nodes == {"Customer": 101, "Person": 101}


def test_a_delete_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        store.write(delete=[("Person", "p1"), ("Account", "a1")])
        before = snapshot(store)
    assert before["counts"]["ties"] == {"EMPLOYED_BY": 1, "WORKS_AT": 1}
    with EmbeddedStore(path) as reopened:
        assert snapshot(reopened) == before


def test_lists_of_floats_read_back_as_the_lists_written(tmp_path: Path) -> None:
    # The store holds lists of floats as arrays of doubles; every read, a merge and a reopen see lists.
    with EmbeddedStore(tmp_path / "store") as store:
        store.write(family_nodes(), family_ties())
        store.write([{"label": "Account", "id": "a1", "properties": {"status": "closed"}}])
        held = store.get_node(NodeLabel.ACCOUNT, "a1")
        assert held is not None
        assert held.properties == {"balances": [100.0, 250.5, 300.0], "status": "closed"}
        assert type(held.properties["balances"]) is list
    with EmbeddedStore(tmp_path / "store", read_only=True) as reopened:
        assert reopened.get_node(NodeLabel.ACCOUNT, "a1") == held


def test_a_writer_closing_with_a_long_log_leaves_a_snapshot_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
    assert read_manifest(path)["snapshot"] is None  # a short log is left as it is
    monkeypatch.setattr(embedded, "CLOSE_SNAPSHOT_ROWS", 3)
    with EmbeddedStore(path) as store:
        store.write([{"label": "Person", "id": "p1", "properties": {"score": 0.75}}], delete=[("Account", "a2")])
        before = snapshot(store)
    manifest = read_manifest(path)
    assert manifest["snapshot"] is not None and manifest["earlier_logs"] == []
    assert (path / manifest["log"]).stat().st_size == 0
    with EmbeddedStore(path, read_only=True) as reopened:
        assert snapshot(reopened) == before


def as_written_by_version_3(path: Path) -> None:
    """Rewrite the store's log as a version 3 writer wrote it: each record's header a 32-bit length and the
    payload's CRC-32 (the payloads are the same), its MANIFEST of version 3."""
    manifest = read_manifest(path)
    log = path / manifest["log"]
    data, old = log.read_bytes(), b""
    offset = 0
    while offset < len(data):
        magic, length, _ = log_records._HEADER.unpack_from(data, offset)
        assert magic == log_records.MAGIC
        payload = data[offset + log_records._HEADER.size : offset + log_records._HEADER.size + length]
        old += log_records._OLD_HEADER.pack(log_records.OLD_MAGIC, length, zlib.crc32(payload)) + payload
        offset += log_records._HEADER.size + length
    log.write_bytes(old)
    (path / disk.MANIFEST).write_text(json.dumps({**manifest, "version": 3}))


def test_a_log_of_version_3_opens_and_its_writer_marks_the_store_version_4(tmp_path: Path) -> None:
    path = tmp_path / "store"
    customers = pa.table({"id": ["c1", "c2"], "kind": ["Person", "Company"], "name": ["张三", "Acme"]})
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        store.bulk_write({NodeLabel.CUSTOMER: customers})
        before = snapshot(store)
    as_written_by_version_3(path)
    with EmbeddedStore(path, read_only=True) as reader:
        assert snapshot(reader) == before
    assert read_manifest(path)["version"] == 3  # a reader changes nothing

    with EmbeddedStore(path) as writer:
        assert read_manifest(path)["version"] == disk.VERSION  # before anything of the new kind is appended
        writer.write([{"label": "Person", "id": "p9", "properties": {"n": 9}}])
        after = snapshot(writer)
    assert after != before
    with EmbeddedStore(path, read_only=True) as reopened:  # one log, records of both kinds
        assert snapshot(reopened) == after


def test_a_bulk_write_is_logged_from_the_tables_own_buffers(tmp_path: Path) -> None:
    balances = pa.array(np.arange(100_000, dtype=np.float64))
    table = pa.table({"id": [f"c{n}" for n in range(100_000)], "kind": ["Person"] * 100_000, "balance": balances})
    parts = log_records.encode_batch({"tables": ({NodeLabel.CUSTOMER: table}, {})})
    addresses = {part.address for part in parts if isinstance(part, pa.Buffer)}
    assert balances.buffers()[1].address in addresses  # handed to the log as it is, not copied
    payload = b"".join(bytes(part) for part in parts)
    nodes, _ = log_records.decode_batch(payload)["tables"]
    assert nodes[NodeLabel.CUSTOMER].equals(table)
