"""A store that cannot be read as a store is one line naming it and what to do, never a traceback; nothing
initialises a store over it; ``crm-graph check`` lists the damage without changing anything; and the store
opens again once it is restored."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import graph.embedded as embedded
from api.cli import app
from graph.embedded import EmbeddedStore
from graph.embedded.check import MAX_PROBLEMS, check_store
from graph.embedded.disk import MANIFEST, Disk, read_manifest
from graph.errors import StoreCorrupt
from tests.loaders.conftest import write_bank
from tests.samples import family_nodes, family_ties, snapshot

PEOPLE = 3000
LATE = 3


@pytest.fixture(scope="module")
def sound_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of some thousand customers: a snapshot, then a log of a few batches after it; closed."""
    path = tmp_path_factory.mktemp("sound") / "store"
    people = [
        {"label": "Person", "id": f"r{n}", "properties": {"name": f"客户{n}", "segment": "retail", "n": n}}
        for n in range(PEOPLE)
    ]
    spouses = [{"type": "SPOUSE_OF", "source": f"r{n}", "target": f"r{n + 1}"} for n in range(0, PEOPLE, 2)]
    with EmbeddedStore(path) as store, pytest.MonkeyPatch.context() as patch:
        store.write(family_nodes(), family_ties())
        patch.setattr(embedded, "LOG_MINIMUM", 0)
        store.write(people, spouses)  # the log outgrew its share: this batch is in a snapshot
        patch.undo()
        for n in range(LATE):
            store.write(
                [{"label": "Person", "id": f"late{n}", "properties": {"n": n}}],
                [{"type": "REFERRED", "source": f"r{n}", "target": f"late{n}"}],
            )
    return path


@pytest.fixture
def store_path(sound_store: Path, tmp_path: Path) -> Path:
    # A long folder name: the message must stay one line however long the path and narrow the terminal.
    path = tmp_path / "a-folder-with-a-rather-long-name-for-the-store" / "store"
    shutil.copytree(sound_store, path)
    return path


def contents(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {"": path.read_bytes()}
    return {str(file.relative_to(path)): file.read_bytes() for file in sorted(path.rglob("*")) if file.is_file()}


def current(path: Path, name: str) -> Path:
    """The current snapshot's file ``name``, or the current log (name ``log``)."""
    manifest = read_manifest(path)
    return path / manifest["log"] if name == "log" else path / manifest["snapshot"] / name


def random_bytes_in_a_snapshot_file(path: Path) -> None:
    file = current(path, "nodes-Customer.arrow")
    size = file.stat().st_size
    with file.open("r+b") as opened:
        opened.seek(size // 3)
        opened.write(random.Random(13).randbytes(size // 3))


def a_damaged_log_record(path: Path) -> None:
    log = current(path, "log")
    data = bytearray(log.read_bytes())
    data[40] ^= 0xFF  # inside the first record's payload; two more records follow it
    log.write_bytes(bytes(data))


def a_lost_snapshot_file(path: Path) -> None:
    current(path, "nodes-Customer.arrow").unlink()


def a_broken_manifest(path: Path) -> None:
    (path / MANIFEST).write_text('{"format": "crm-graph embedded store", "ver', encoding="utf-8")


def zero_length(path: Path) -> None:
    shutil.rmtree(path)
    path.write_bytes(b"")


def not_a_store(path: Path) -> None:
    shutil.rmtree(path)
    path.write_text("cust_no,cust_name\nC1,张三\n", encoding="utf-8")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "random bytes in a snapshot file": random_bytes_in_a_snapshot_file,
    "a damaged log record": a_damaged_log_record,
    "a lost snapshot file": a_lost_snapshot_file,
    "a broken MANIFEST": a_broken_manifest,
    "zero-length file": zero_length,
    "not a store": not_a_store,
}


def invoke(path: Path, *args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"CRM_GRAPH_EMBEDDED_PATH": str(path), "COLUMNS": "60", **env})


def assert_one_line_naming(result: Result, path: Path) -> None:
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and "crm-graph check" in lines[0]


def restore(path: Path, backup: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink()
    shutil.copytree(backup, path)


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_store_is_one_line_and_opens_again_once_restored(
    store_path: Path, damage: Callable[[Path], None], tmp_path: Path
) -> None:
    with EmbeddedStore(store_path, read_only=True) as store:
        before = snapshot(store)
    backup = tmp_path / "backup"
    shutil.copytree(store_path, backup)
    damage(store_path)
    damaged = contents(store_path)

    for read_only in (True, False):
        with pytest.raises(StoreCorrupt, match="restore it from a backup") as raised:
            EmbeddedStore(store_path, read_only=read_only)
        assert str(store_path) in str(raised.value) and "\n" not in str(raised.value)
    for command in ("stats", "analyze"):  # a reader and a writer
        result = invoke(store_path, command)
        assert result.exit_code == 1
        assert_one_line_naming(result, store_path)
    assert contents(store_path) == damaged, "a failed open changed the store"

    restore(store_path, backup)
    with EmbeddedStore(store_path) as store:
        assert snapshot(store) == before


def test_a_load_never_makes_a_store_of_a_zero_length_file(tmp_path: Path) -> None:
    mapping = write_bank(tmp_path / "bank")
    path = tmp_path / "store"
    path.touch()
    result = invoke(
        path, "load", str(mapping), "--report-dir", str(tmp_path / "report"),
        CRM_GRAPH_REVIEW_PATH=str(tmp_path / "review.json"),
    )  # fmt: skip
    assert result.exit_code == 1
    assert_one_line_naming(result, path)
    assert "empty (zero bytes)" in result.stderr
    assert path.stat().st_size == 0


def test_a_new_store_appears_whole(tmp_path: Path) -> None:
    path = tmp_path / "new" / "store"
    leftover = path.with_name(f".{path.name}.new")
    path.parent.mkdir()
    leftover.write_bytes(b"half of a store an earlier process did not finish")
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
    assert not leftover.exists()
    assert check_store(path).ok


def append_batches(path: Path, *batches: dict[str, list[list[object]]]) -> None:
    disk = Disk(path)
    snapshot, _ = disk.read()
    snapshot.close()  # only the log is written here
    for batch in batches:
        disk.append(batch)
    disk.close()


def tie_to_nobody(source: str) -> dict[str, list[list[object]]]:
    return {"nodes": [], "ties": [["SPOUSE_OF", source, "nobody", {}]], "gone": []}


def test_a_tie_whose_end_is_missing_is_refused_on_open(store_path: Path) -> None:
    append_batches(store_path, tie_to_nobody("r8"))
    with pytest.raises(StoreCorrupt, match="SPOUSE_OF tie 'r8' -> 'nobody' whose end is missing"):
        EmbeddedStore(store_path, read_only=True)


def test_check_of_a_sound_store_reports_its_counts_and_changes_nothing(store_path: Path) -> None:
    with EmbeddedStore(store_path, read_only=True) as store:
        counts = store.counts()
    before = contents(store_path)
    result = invoke(store_path, "check", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["problems"] == []
    assert report["nodes"] == counts.nodes and report["ties"] == counts.ties
    assert report["node_rows"] == PEOPLE + LATE + len(family_nodes())
    assert report["tie_rows"] == PEOPLE // 2 + LATE + len(family_ties())
    assert contents(store_path) == before

    text = invoke(store_path, "check")
    assert text.exit_code == 0
    assert "no problems found" in text.stdout


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_check_finds_each_kind_of_damage_and_changes_nothing(store_path: Path, damage: Callable[[Path], None]) -> None:
    damage(store_path)
    damaged = contents(store_path)
    result = invoke(store_path, "check")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "problem" in result.stdout and "Restore the store from a backup" in result.stdout
    assert check_store(store_path).problems
    assert contents(store_path) == damaged


def test_check_lists_every_damage_and_goes_on_reading(store_path: Path) -> None:
    append_batches(store_path, tie_to_nobody("r10"))
    a_damaged_log_record(store_path)
    report = check_store(store_path)
    assert not report.ok
    assert report.problems == [
        "log record at byte 0 is damaged: its checksum does not match",
        "logged batch 3 does not apply: SPOUSE_OF tie 'r10' -> 'nobody' whose end is missing",
    ]
    # The batches after the damaged record were read: the last two late customers are there.
    assert report.node_rows == PEOPLE + LATE - 1 + len(family_nodes())
    assert report.tie_rows == PEOPLE // 2 + LATE - 1 + len(family_ties())


def test_check_lists_a_bounded_number_of_problems(store_path: Path) -> None:
    append_batches(store_path, *(tie_to_nobody(f"r{n}") for n in range(MAX_PROBLEMS + 30)))
    report = check_store(store_path)
    assert len(report.problems) == MAX_PROBLEMS
    assert report.problems_left_out == 30


def test_check_without_a_store_to_check_exits_2(tmp_path: Path) -> None:
    result = invoke(tmp_path / "absent", "check")
    assert result.exit_code == 2
    assert "no embedded store" in result.stderr
    other = invoke(tmp_path / "absent", "check", "--backend", "neo4j")
    assert other.exit_code == 2
    assert "embedded store" in other.stderr
