"""A store file that cannot be read as a store is one line naming the file and what to do, never a
traceback; nothing initialises a store over it; ``crm-graph check`` lists the damage without changing
anything; and the store opens again once the file is restored."""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from api.cli import app
from graph.embedded import EmbeddedStore
from graph.embedded.check import MAX_PROBLEMS, check_store
from graph.errors import StoreCorrupt
from tests.loaders.conftest import write_bank
from tests.samples import family_nodes, family_ties, snapshot

PAGE = 4096


@pytest.fixture(scope="module")
def sound_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of some thousand customers (so its file has pages of rows in the middle), closed."""
    path = tmp_path_factory.mktemp("sound") / "store.sqlite"
    people = [
        {"label": "Person", "id": f"r{n}", "properties": {"name": f"客户{n}", "segment": "retail", "n": n}}
        for n in range(3000)
    ]
    spouses = [{"type": "SPOUSE_OF", "source": f"r{n}", "target": f"r{n + 1}"} for n in range(0, 3000, 2)]
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
        store.write(people, spouses)
    assert not path.with_name(path.name + "-wal").exists()  # the last close folded the log into the file
    return path


@pytest.fixture
def store_file(sound_store: Path, tmp_path: Path) -> Path:
    # A long folder name: the message must stay one line however long the path and narrow the terminal.
    path = tmp_path / "a-folder-with-a-rather-long-name-for-the-store" / "store.sqlite"
    path.parent.mkdir()
    shutil.copy(sound_store, path)
    return path


def random_bytes_in_the_middle(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as file:
        file.seek(size // 2 // PAGE * PAGE)
        file.write(random.Random(13).randbytes(4 * PAGE))


def broken_json_payload(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("""UPDATE nodes SET props = '{"name": "客户7", "n' WHERE id = 'r7'""")
    db.close()


def zero_length(path: Path) -> None:
    path.write_bytes(b"")


def not_sqlite(path: Path) -> None:
    path.write_text("cust_no,cust_name\nC1,张三\n", encoding="utf-8")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "random bytes in the middle": random_bytes_in_the_middle,
    "broken JSON payload": broken_json_payload,
    "zero-length file": zero_length,
    "not SQLite": not_sqlite,
}


def invoke(path: Path, *args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"CRM_GRAPH_EMBEDDED_PATH": str(path), "COLUMNS": "60", **env})


def assert_one_line_naming(result: Result, path: Path) -> None:
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and "crm-graph check" in lines[0]


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_file_is_one_line_and_the_store_opens_again_once_restored(
    store_file: Path, damage: Callable[[Path], None]
) -> None:
    with EmbeddedStore(store_file, read_only=True) as store:
        before = snapshot(store)
    backup = store_file.read_bytes()
    damage(store_file)
    damaged = store_file.read_bytes()

    for read_only in (True, False):
        with pytest.raises(StoreCorrupt, match="restore it from a backup") as raised:
            EmbeddedStore(store_file, read_only=read_only)
        assert str(store_file) in str(raised.value) and "\n" not in str(raised.value)
    for command in ("stats", "analyze"):  # a reader and a writer
        result = invoke(store_file, command)
        assert result.exit_code == 1
        assert_one_line_naming(result, store_file)
    assert store_file.read_bytes() == damaged, "a failed open changed the file"

    store_file.write_bytes(backup)
    with EmbeddedStore(store_file) as store:
        assert snapshot(store) == before


def test_a_load_never_makes_a_store_of_a_zero_length_file(tmp_path: Path) -> None:
    mapping = write_bank(tmp_path / "bank")
    path = tmp_path / "store.sqlite"
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
    path = tmp_path / "new" / "store.sqlite"
    leftover = path.with_name(f".{path.name}.new")
    path.parent.mkdir()
    leftover.write_bytes(b"half of a store an earlier process did not finish")
    with EmbeddedStore(path) as store:
        store.write(family_nodes(), family_ties())
    assert not leftover.exists()
    assert check_store(path).ok


def test_a_tie_whose_end_is_missing_is_refused_on_open(store_file: Path) -> None:
    with sqlite3.connect(store_file) as db:
        db.execute("DELETE FROM nodes WHERE id = 'r8'")
    db.close()
    with pytest.raises(StoreCorrupt, match="SPOUSE_OF tie 'r8' -> 'r9' whose end is missing"):
        EmbeddedStore(store_file, read_only=True)


def test_check_of_a_sound_store_reports_its_counts_and_changes_nothing(store_file: Path) -> None:
    with EmbeddedStore(store_file, read_only=True) as store:
        counts = store.counts()
    before = {file.name: file.read_bytes() for file in store_file.parent.iterdir()}
    result = invoke(store_file, "check", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["problems"] == []
    assert report["nodes"] == counts.nodes and report["ties"] == counts.ties
    assert report["node_rows"] == 3000 + len(family_nodes())
    assert report["tie_rows"] == 1500 + len(family_ties())
    assert {file.name: file.read_bytes() for file in store_file.parent.iterdir()} == before

    text = invoke(store_file, "check")
    assert text.exit_code == 0
    assert "no problems found" in text.stdout


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_check_finds_each_kind_of_damage_and_changes_nothing(store_file: Path, damage: Callable[[Path], None]) -> None:
    damage(store_file)
    damaged = store_file.read_bytes()
    result = invoke(store_file, "check")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "problem" in result.stdout and "Restore the file from a backup" in result.stdout
    assert check_store(store_file).problems
    assert store_file.read_bytes() == damaged


def execute(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
    db.close()


def test_check_lists_every_damaged_row_and_goes_on_reading(store_file: Path) -> None:
    execute(
        store_file,
        "UPDATE nodes SET props = '{\"name\": ' WHERE id = 'r10'",
        "UPDATE nodes SET props = '[1, 2]' WHERE id = 'r11'",
        "UPDATE nodes SET label = 'Planet' WHERE id = 'r12'",
        "UPDATE ties SET props = 'not json' WHERE source = 'r20'",
        "DELETE FROM nodes WHERE id = 'r31'",
    )
    report = check_store(store_file)
    assert not report.ok
    assert report.problems == [
        "node Customer 'r10': its properties do not decode (Expecting value: line 1 column 10 (char 9))",
        "node Customer 'r11': its properties do not decode (a JSON list instead of an object)",
        "node row ('Planet', 'r12', 'Person') names no label of the schema",
        "SPOUSE_OF tie 'r10' -> 'r11': its source Customer 'r10' is missing",
        "SPOUSE_OF tie 'r10' -> 'r11': its target Customer 'r11' is missing",
        "SPOUSE_OF tie 'r12' -> 'r13': its source Customer 'r12' is missing",
        "SPOUSE_OF tie 'r20' -> 'r21': its properties do not decode (Expecting value: line 1 column 1 (char 0))",
        "SPOUSE_OF tie 'r30' -> 'r31': its target Customer 'r31' is missing",
    ]
    assert report.node_rows == 3000 + len(family_nodes()) - 4  # three damaged, one gone
    assert report.tie_rows == 1500 + len(family_ties()) - 1


def test_check_lists_a_bounded_number_of_problems(store_file: Path) -> None:
    execute(store_file, "UPDATE nodes SET props = 'x' WHERE label = 'Customer'")
    report = check_store(store_file)
    assert len(report.problems) == MAX_PROBLEMS
    assert report.problems_left_out > 3000 - MAX_PROBLEMS  # and the ties whose ends could not be read


def test_check_without_a_store_to_check_exits_2(tmp_path: Path) -> None:
    result = invoke(tmp_path / "absent.sqlite", "check")
    assert result.exit_code == 2
    assert "no embedded store" in result.stderr
    other = invoke(tmp_path / "absent.sqlite", "check", "--backend", "neo4j")
    assert other.exit_code == 2
    assert "embedded store" in other.stderr
