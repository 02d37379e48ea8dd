"""A snapshot is a folder of Arrow files in the layout's own form, checked against their checksums and used in
place (memory-mapped, not decoded); a snapshot of the earlier format (Parquet) still opens, and
``crm-graph migrate`` rewrites it in the current one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from api.cli import app
from graph.embedded import EmbeddedStore
from graph.embedded.check import check_store
from graph.embedded.disk import read_manifest
from graph.embedded.snapshot import (
    CHECKSUMS,
    PARQUET,
    SnapshotFile,
    id_index_file,
    node_file,
    snapshot_files,
    tie_file,
    write_snapshot_file,
)
from graph.embedded.tie_table import IN_ORDER
from graph.errors import StoreCorrupt
from graph.model import NodeLabel, TieType
from tests.samples import family_nodes, family_ties, snapshot

PEOPLE = 400


def people() -> list[dict[str, object]]:
    """Persons whose properties leave gaps in every kind of column: numbers, repeated texts, lists, flags."""
    found = []
    for n in range(PEOPLE):
        props: dict[str, object] = {"name": f"客户{n}"}
        if n % 3:
            props["age"] = 20 + n % 50
            props["segment"] = ("retail", "private", "mass")[n % 3]
        if n % 4:
            props["balance"] = n * 10.5
            props["balances"] = [float(n), n / 2]
        if n % 5 == 0:
            props["vip"] = n % 2 == 0
            props["products"] = ["loan", f"card-{n % 7}"]
        found.append({"label": "Person", "id": f"p{n:04d}", "properties": props})
    return found


def spouses() -> list[dict[str, object]]:
    return [
        {"type": "SPOUSE_OF", "source": f"p{n:04d}", "target": f"p{n + 1:04d}", "properties": {"since": n}}
        for n in range(0, PEOPLE - 1, 2)
    ]


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, dict[str, object]]:
    """A store of the sample family and the persons above, with its graph in a snapshot; and what it holds."""
    path = tmp_path / "store"
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        store.write(people(), spouses())
        store.write_snapshot()
        held = snapshot(store)
    return path, held


def snapshot_folder(path: Path) -> Path:
    return path / read_manifest(path)["snapshot"]


def test_a_snapshot_is_checked_arrow_files_read_in_place(written: tuple[Path, dict[str, object]]) -> None:
    path, held = written
    folder = snapshot_folder(path)
    names = {file.name for file in folder.iterdir()}
    assert CHECKSUMS in names and node_file(NodeLabel.CUSTOMER) in names and tie_file(TieType.SPOUSE_OF) in names
    assert not any(name.endswith(PARQUET) for name in names)

    nodes, _, _ = snapshot_files(path, folder.name)
    allocated = pa.total_allocated_bytes()
    customers = SnapshotFile(path, *nodes[NodeLabel.CUSTOMER]).read()
    # Mapped, not decoded: the columns are the file's pages, nothing is allocated for them.
    assert pa.total_allocated_bytes() - allocated < 1024 < customers.nbytes
    assert pa.types.is_fixed_size_binary(customers.schema.field("id").type)  # the layout's sorted id bytes

    with EmbeddedStore(path, read_only=True) as reopened:
        assert snapshot(reopened) == held
    with EmbeddedStore(path) as writer:  # a writer changes a node of the mapped snapshot: its copy, not the file
        writer.write([{"label": "Person", "id": "p0001", "properties": {"age": None, "segment": "new"}}])
        changed = writer.get_node(NodeLabel.PERSON, "p0001")
    assert changed is not None and "age" not in changed.properties and changed.properties["segment"] == "new"
    assert check_store(path).ok


def write_parquet_snapshot(path: Path) -> None:
    """Turn the store's snapshot into one of the earlier format: a Parquet file per table, no CHECKSUMS."""
    with EmbeddedStore(path, read_only=True) as store:
        nodes, ties = store.view.tables()
    folder = snapshot_folder(path)
    for file in folder.iterdir():
        file.unlink()
    for label, table in nodes.items():
        if table.num_rows:
            pq.write_table(table, folder / node_file(label, PARQUET), compression="zstd", write_page_checksum=True)
    for tie_type, table in ties.items():
        if table.num_rows:
            pq.write_table(table, folder / tie_file(tie_type, PARQUET), compression="zstd", write_page_checksum=True)


def migrate(path: Path) -> Result:
    return CliRunner().invoke(app, ["migrate"], env={"CRM_GRAPH_EMBEDDED_PATH": str(path), "COLUMNS": "60"})


def test_a_parquet_snapshot_opens_and_migrate_rewrites_it(written: tuple[Path, dict[str, object]]) -> None:
    path, held = written
    write_parquet_snapshot(path)
    with EmbeddedStore(path, read_only=True) as reader:
        assert snapshot(reader) == held

    result = migrate(path)
    assert result.exit_code == 0, result.output
    assert "Arrow files" in result.stdout and f"{len(family_nodes()) + PEOPLE:,} nodes" in result.stdout
    assert CHECKSUMS in {file.name for file in snapshot_folder(path).iterdir()}
    with EmbeddedStore(path, read_only=True) as migrated:
        assert snapshot(migrated) == held
    again = migrate(path)
    assert again.exit_code == 1 and "nothing to migrate" in again.stderr


def test_a_snapshot_that_lost_its_checksums_is_refused(written: tuple[Path, dict[str, object]]) -> None:
    path, _ = written
    (snapshot_folder(path) / CHECKSUMS).unlink()
    with pytest.raises(StoreCorrupt, match="has lost the CHECKSUMS of its snapshot"):
        EmbeddedStore(path, read_only=True)
    assert any("lost the CHECKSUMS" in problem for problem in check_store(path).problems)


def test_check_finds_a_stored_order_by_target_that_does_not_match(written: tuple[Path, dict[str, object]]) -> None:
    path, _ = written
    folder = snapshot_folder(path)
    name = tie_file(TieType.SPOUSE_OF)
    table = pa.ipc.open_file(pa.py_buffer((folder / name).read_bytes())).read_all()
    order = table.column(IN_ORDER).to_pylist()
    table = table.set_column(2, table.schema.field(2), pa.array(order[1:] + order[:1], pa.int32()))
    sums = json.loads((folder / CHECKSUMS).read_text())
    sums["files"][name] = list(write_snapshot_file(folder / name, table))  # a well-formed file, wrongly ordered
    (folder / CHECKSUMS).write_text(json.dumps(sums))

    report = check_store(path)
    assert report.problems == [f"the snapshot file {name} is a tie table whose order by target does not match its ties"]


def rewrite_id_index(path: Path, label: NodeLabel, slots: np.ndarray, metadata: dict[bytes, bytes]) -> str:
    """Replace a label's id index file by one of ``slots``, its checksum updated: a well-formed file."""
    folder = snapshot_folder(path)
    name = id_index_file(label)
    table = pa.table({"row": pa.array(slots, pa.int32())}).replace_schema_metadata(metadata)
    sums = json.loads((folder / CHECKSUMS).read_text())
    sums["files"][name] = list(write_snapshot_file(folder / name, table))
    (folder / CHECKSUMS).write_text(json.dumps(sums))
    return name


def test_each_node_tables_id_index_is_written_and_mapped_at_open(written: tuple[Path, dict[str, object]]) -> None:
    path, held = written
    listed = json.loads((snapshot_folder(path) / CHECKSUMS).read_text())["files"]
    assert id_index_file(NodeLabel.CUSTOMER) in listed and id_index_file(NodeLabel.ACCOUNT) in listed

    with EmbeddedStore(path, read_only=True) as reader:
        customers = reader.view._nodes[NodeLabel.CUSTOMER]
        index = (
            customers._index
        )  # persons are customers  # there before the first lookup: read from the snapshot, not built
        assert index is not None and not index.slots.flags.writeable  # the file's mapped pages
        found = [reader.get_node(NodeLabel.PERSON, f"p{n:04d}") for n in range(PEOPLE)]
        assert [record.id for record in found if record is not None] == [f"p{n:04d}" for n in range(PEOPLE)]
        assert reader.get_node(NodeLabel.PERSON, f"p{PEOPLE:04d}") is None
        assert snapshot(reader) == held


def test_an_id_index_of_another_hash_is_not_used(written: tuple[Path, dict[str, object]]) -> None:
    path, held = written
    rewrite_id_index(path, NodeLabel.CUSTOMER, np.zeros(1024, np.int32), {b"crm_graph": b"id_index", b"hash": b"other"})
    with EmbeddedStore(path, read_only=True) as reader:
        assert reader.view._nodes[NodeLabel.CUSTOMER]._index is None  # built on the first lookup instead
        assert reader.get_node(NodeLabel.PERSON, "p0399") is not None
        assert snapshot(reader) == held
    assert check_store(path).ok


def test_check_finds_an_id_index_that_does_not_find_its_nodes(written: tuple[Path, dict[str, object]]) -> None:
    path, _ = written
    index = id_index_file(NodeLabel.CUSTOMER)
    stored = pa.ipc.open_file(pa.py_buffer((snapshot_folder(path) / index).read_bytes())).read_all()
    slots = stored.column("row").to_numpy()
    shifted = np.roll(slots, 1)  # every id one slot away from where a lookup starts
    name = rewrite_id_index(path, NodeLabel.CUSTOMER, shifted, stored.schema.metadata)

    report = check_store(path)
    assert len(report.problems) == 1
    assert report.problems[0].startswith(f"the snapshot file {name} is an id index that does not find the node")
