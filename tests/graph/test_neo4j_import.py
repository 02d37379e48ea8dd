"""Files for ``neo4j-admin database import full`` hold exactly what the store holds.

Without Neo4j, the files are read back by a parser that follows the import tool's rules (RFC 4180 quotes,
an unquoted empty field is no value, arrays split on U+001F) and compared with the store, value types
included. With Neo4j, the real ``neo4j-admin`` from the Maven jars imports them into a fresh folder, a
server is started on it, and ``Neo4jStore`` reads back what ``Neo4jStore.write`` of the same rows holds.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from graph import neo4j_import, neo4j_import_columns
from graph.embedded import EmbeddedStore
from graph.errors import ExportError
from graph.model import NodeLabel, TieType
from graph.neo4j_import import AFTER_IMPORT, ImportFiles, finish_import, write_import_files
from graph.neo4j_store import Neo4jStore
from graph.store import GraphStore
from tests.graph.import_files_reader import read_back, store_contents
from tests.samples import BIG_ID, snapshot

AWKWARD_NAME = '王伟, "老王"\nline2\r\nline3 '


def awkward_nodes() -> list[dict[str, Any]]:
    return [
        {
            "label": "Person",
            "id": "p1",
            "properties": {
                "name": AWKWARD_NAME,
                "nickname": "  spaced  ",
                "empty": "",
                "note": "a\x1fb, c",  # the array delimiter in a plain text value is just a character
                "backslash": 'C:\\path\\"x"',
                "birth_year": 1980,
                "big": 2**62 + 1,  # above 2^53: a double would round it
                "score": 0.1,
                "capital": 5,  # an int here, a float on p2: the type varies within Person
                "consent": True,
                "balances": [1.5, -0.0, 1e-300, 1.7976931348623157e308],
                "counts": [1, 2**60, -3],
                "flags": [True, False],
                "tags": ["a,b", '"q"', "中文", ""],
            },
        },
        {
            "label": "Person",
            "id": "p2",
            "properties": {
                "name": "李娜",
                "capital": 5.5,
                "consent": False,
                "up": float("inf"),
                "down": float("-inf"),
                "contributors": [],  # the CSV format has no empty array: written after the import
                "one_empty": [""],
                "delimited": ["x\x1fy", "z"],
                "tags": "not a list",
            },
        },
        {"label": "Person", "id": BIG_ID, "properties": {"name": "王小明"}},
        {"label": "Person", "id": "x1", "properties": {"name": "同号"}},
        {"label": "Company", "id": "c1", "properties": {"name": "杭州云帆科技有限公司", "capital": 5_000_000}},
        {"label": "Customer", "id": "k1", "properties": {"name": "kind unknown"}},
        {"label": "Account", "id": "x1", "properties": {"balances": [100.0, 250.5], "status": "open"}},
        {"label": "Product", "id": "x1", "properties": {"segments": ["retail", "private"], "min_age": 18}},
        {"label": "Manager", "id": "m1", "properties": {"name": "赵经理"}},
        {"label": "Branch", "id": "b1", "properties": {"name": "西湖支行"}},
        {"label": "Interaction", "id": "i1", "properties": {"summary": 'multi\nline, "quoted"', "at": "2024-01-01"}},
        {"label": "SourceRecord", "id": "s1", "properties": {"system": "core", "line": 7}},
    ]


def awkward_ties() -> list[dict[str, Any]]:
    return [
        {"type": "SPOUSE_OF", "source": "p2", "target": "p1", "properties": {"since": "2005-05-01"}},
        {"type": "SIBLING_OF", "source": "p1", "target": BIG_ID},
        {"type": "PARENT_OF", "source": "p1", "target": BIG_ID},
        {"type": "OWNS", "source": "p1", "target": "x1", "properties": {"role": "owner"}},
        {"type": "OWNS", "source": "x1", "target": "x1", "properties": {"role": 'joint, "x"\n'}},
        {"type": "GUARANTEES", "source": "p1", "target": "c1", "properties": {"amount": 1000}},
        {"type": "GUARANTEES", "source": "p2", "target": "c1", "properties": {"amount": 2500.75}},
        {"type": "SHAREHOLDER_OF", "source": "p1", "target": "c1", "properties": {"ratio": 0.6, "evidence": []}},
        {"type": "OF_PRODUCT", "source": "x1", "target": "x1"},
        {"type": "MANAGES", "source": "m1", "target": "p1", "properties": {"since": "2020-01-01"}},
        {"type": "WORKS_AT", "source": "m1", "target": "b1"},
        {"type": "WITH", "source": "i1", "target": "p1"},
        {"type": "LOGGED_BY", "source": "i1", "target": "m1"},
        {"type": "FROM_SOURCE", "source": "p1", "target": "s1"},
        {"type": "REFERRED", "source": "c1", "target": "k1", "properties": {"at": "2024-01-01"}},
    ]


def typed(value: Any) -> Any:
    """``value`` with every scalar tagged by its type, so 1 and 1.0 (and 0.0 and -0.0) differ."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


@pytest.fixture
def awkward_store(embedded_store: EmbeddedStore) -> EmbeddedStore:
    embedded_store.write(awkward_nodes(), awkward_ties())
    return embedded_store


# -- without Neo4j ----------------------------------------------------------------------------------


def test_files_read_back_as_the_store_holds_it(awkward_store: EmbeddedStore, tmp_path: Path) -> None:
    files = write_import_files(awkward_store, tmp_path / "files")
    assert typed(read_back(files)) == typed(store_contents(awkward_store))
    assert (files.nodes, files.ties) == (12, 15)
    # Only the values the CSV cannot carry wait for after the import.
    assert files.after_import is not None
    later = [json.loads(line) for line in files.after_import.read_text(encoding="utf-8").splitlines()]
    awkward_lists = {"contributors": [], "one_empty": [""], "delimited": ["x\x1fy", "z"]}
    assert later == [
        {"label": "Person", "id": "p2", "properties": awkward_lists},
        {"type": "SHAREHOLDER_OF", "source": "p1", "target": "c1", "properties": {"evidence": []}},
    ]


def test_ids_are_typed_as_text_in_groups_per_primary_label(awkward_store: EmbeddedStore, tmp_path: Path) -> None:
    files = write_import_files(awkward_store, tmp_path / "files")
    headers = {source.name: source.header.read_text(encoding="utf-8").strip() for source in files.sources}
    assert headers["Account"] == "id:ID(Account),balances:double[],status:string"
    assert headers["Product"] == "id:ID(Product),segments:string[],min_age:long"
    assert headers["Customer"] == "id:ID(Customer),name:string"
    assert headers["OWNS"] == ":START_ID(Customer),:END_ID(Account),role:string"
    assert headers["OF_PRODUCT"] == ":START_ID(Account),:END_ID(Product)"
    person = (tmp_path / "files" / "nodes-Person.csv").read_text(encoding="utf-8")
    assert f'"{BIG_ID}"' in person  # quoted text, never a number
    # Symmetric ties as the store holds them: from the smaller id.
    assert (tmp_path / "files" / "ties-SPOUSE_OF.csv").read_text(encoding="utf-8").startswith('"p1","p2",')
    assert (tmp_path / "files" / "ties-SIBLING_OF.csv").read_text(encoding="utf-8") == f'"{BIG_ID}","p1"\n'


def test_a_property_whose_type_varies_gets_a_file_pair_per_type(awkward_store: EmbeddedStore, tmp_path: Path) -> None:
    files = write_import_files(awkward_store, tmp_path / "files")
    persons = [source for source in files.sources if source.name == "Customer:Person"]
    columns = [set(source.header.read_text(encoding="utf-8").strip().split(",")) for source in persons]
    assert [source.rows for source in persons] == [3, 1]  # p2 is the one with a float capital and text tags
    assert {"capital:long", "tags:string[]"} <= columns[0]
    assert {"capital:double", "tags:string"} <= columns[1]
    guarantees = [source for source in files.sources if source.name == "GUARANTEES"]
    assert [source.header.read_text(encoding="utf-8").strip().split(",")[-1] for source in guarantees] == [
        "amount:long",
        "amount:double",
    ]


def test_the_command_names_every_file_and_the_csv_settings(awkward_store: EmbeddedStore, tmp_path: Path) -> None:
    files = write_import_files(awkward_store, tmp_path / "files", database="bank")
    words = shlex.split(files.command)
    assert words[:5] == ["neo4j-admin", "database", "import", "full", "bank"]
    for option in (
        "--id-type=string",
        "--delimiter=,",
        "--array-delimiter=U+001F",
        '--quote="',
        "--legacy-style-quoting=false",
        "--ignore-empty-strings=false",
        "--trim-strings=false",
    ):
        assert option in words
    multiline = next(word for word in words if word.startswith("--multiline-fields="))
    assert "--multiline-fields-format=v2" in words
    named = sorted(Path(path).name for path in multiline.split("=", 1)[1].split(","))
    assert named == ["nodes-Interaction.csv", "nodes-Person.csv", "ties-OWNS.csv"]
    nodes = [word for word in words if word.startswith("--nodes=")]
    assert f"--nodes=Customer:Company={tmp_path}/files/nodes-Company.header.csv,{tmp_path}/files/nodes-Company.csv" in (
        nodes
    )
    assert len(nodes) + len([word for word in words if word.startswith("--relationships=")]) == len(files.sources)
    written = {path.name for path in (tmp_path / "files").iterdir()}
    assert written == {name for source in files.sources for name in (source.header.name, source.data.name)} | {
        AFTER_IMPORT
    }


def test_finish_import_writes_what_the_csv_could_not_carry(awkward_store: EmbeddedStore, tmp_path: Path) -> None:
    files = write_import_files(awkward_store, tmp_path / "files")
    contents = read_back(files)
    # What the import tool alone would leave: the CSV's values, without after-import.jsonl.
    files_without = files.model_copy(update={"after_import": None})
    imported = read_back(files_without)
    with EmbeddedStore(tmp_path / "imported.sqlite") as target:
        target.write(
            [{"label": v["label"], "id": k[1], "properties": v["properties"]} for k, v in imported["nodes"].items()],
            [{"type": k[0], "source": k[1], "target": k[2], "properties": v} for k, v in imported["ties"].items()],
        )
        assert "contributors" not in target.get_node(NodeLabel.PERSON, "p2").properties  # type: ignore[union-attr]
        assert finish_import(target, files.directory) == 2
        assert typed(snapshot(target)) == typed(snapshot(awkward_store))
        assert typed(store_contents(target)) == typed(contents)
        assert finish_import(target, files.directory) == 2  # merging again changes nothing
        assert typed(snapshot(target)) == typed(snapshot(awkward_store))


def test_a_loaded_bank_has_nothing_left_for_after_the_import(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        plain_ties = [tie for tie in awkward_ties() if tie["type"] in {"OF_PRODUCT", "WORKS_AT", "REFERRED"}]
        store.write([node for node in awkward_nodes() if node["id"] not in {"p1", "p2", "i1"}], plain_ties)
        files = write_import_files(store, tmp_path / "files")
    assert files.after_import is None and files.after_import_rows == 0
    assert not (tmp_path / "files" / AFTER_IMPORT).exists()
    assert "--multiline-fields" not in files.command


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"n": 2**70}, "Person 'p9': property 'n' is an integer beyond 64 bits"),
        ({"n": [1, 2**64]}, "Person 'p9': property 'n' is an integer beyond 64 bits"),
        ({"a:b": 1}, "Person: property name 'a:b' cannot be a column"),
        ({"a,b": 1}, "Person: property name 'a,b' cannot be a column"),
    ],
)
def test_values_neo4j_cannot_hold_are_refused_naming_them(
    embedded_store: EmbeddedStore, tmp_path: Path, properties: dict[str, Any], message: str
) -> None:
    embedded_store.write([{"label": "Person", "id": "p9", "properties": properties}])
    with pytest.raises(ExportError, match=re.escape(message)):
        write_import_files(embedded_store, tmp_path / "files")


def test_only_a_new_or_empty_folder_is_written(awkward_store: EmbeddedStore, tmp_path: Path) -> None:
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / AFTER_IMPORT).write_text("{}\n")
    with pytest.raises(ExportError, match="not an empty folder"):
        write_import_files(awkward_store, tmp_path / "used")
    with pytest.raises(ExportError, match="','"):
        write_import_files(awkward_store, tmp_path / "a,b")
    assert write_import_files(awkward_store, tmp_path / "new" / "deeper").nodes == 12


def test_cli_writes_the_files_and_prints_the_command(
    awkward_store: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    awkward_store.close()
    monkeypatch.setenv("CRM_GRAPH_EMBEDDED_PATH", str(awkward_store.path))
    result = CliRunner().invoke(app, ["export-import-files", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "neo4j-admin database import full neo4j --id-type=string" in result.output
    assert f"crm-graph finish-import {tmp_path / 'out'} --backend neo4j" in result.output
    assert (tmp_path / "out" / "nodes-Person.csv").is_file()
    again = CliRunner().invoke(app, ["export-import-files", str(tmp_path / "out")])
    assert again.exit_code == 1 and "not an empty folder" in again.output


def typed_nodes() -> list[dict[str, Any]]:
    """Awkward values with one type per property (what loaders and analytics write): the column path's."""
    return [
        {
            "label": "Person",
            "id": f"p{number}",
            "properties": {
                "name": [AWKWARD_NAME, "李娜", 'say "hi"', ""][number % 4],
                "score": [0.1, -0.0, 1e-300, float("inf"), float("-inf"), 1.7976931348623157e308, 2.5e-8][number % 7],
                "big": [2**62 + 1, -(2**63), 0][number % 3],
                "consent": number % 2 == 0,
                "balances": [[1.5, -0.0], [], [float("inf"), 1e16]][number % 3],
                "counts": [[1, 2**60], [-3]][number % 2],
                "flags": [[True, False], [False]][number % 2],
                "tags": [["a,b", '"q"', "中文", ""], [""], ["x\x1fy", "z"], [], ["plain"]][number % 5],
                **({"note": "only on some"} if number % 3 == 0 else {}),
            },
        }
        for number in range(12)
    ] + [
        {"label": "Company", "id": "c1", "properties": {"name": "杭州云帆科技有限公司", "capital": 5.5}},
        {"label": "Customer", "id": "k1", "properties": {"name": "kind unknown"}},
        {"label": "Account", "id": "a1", "properties": {"status": "open"}},
    ]


def typed_ties() -> list[dict[str, Any]]:
    return [
        {"type": "OWNS", "source": "p1", "target": "a1", "properties": {"role": 'joint, "x"\n'}},
        {"type": "SHAREHOLDER_OF", "source": "p1", "target": "c1", "properties": {"ratio": 0.6, "evidence": []}},
        {"type": "SHAREHOLDER_OF", "source": "p2", "target": "c1", "properties": {"ratio": 1.0, "evidence": ["x"]}},
        {"type": "REFERRED", "source": "c1", "target": "k1"},
    ]


def row_path_files(store: GraphStore, out: Path, monkeypatch: pytest.MonkeyPatch) -> ImportFiles:
    """The files as the row path writes them, the embedded store's tables left unused."""
    with monkeypatch.context() as patched:
        patched.setattr(neo4j_import, "stored_tables", lambda _: None)
        return write_import_files(store, out)


def forbid_row_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def row_path(*_: Any) -> None:
        raise AssertionError("every property has one type here: the column path writes it")

    monkeypatch.setattr(neo4j_import, "_node_rows", row_path)
    monkeypatch.setattr(neo4j_import, "_tie_rows", row_path)


def after_import_rows(files: ImportFiles) -> list[Any]:
    if files.after_import is None:
        return []
    lines = files.after_import.read_text(encoding="utf-8").splitlines()
    return sorted((json.loads(line) for line in lines), key=json.dumps)


@pytest.mark.parametrize("slice_rows", [65_536, 5])
def test_typed_columns_are_written_from_the_tables_as_the_rows_would_be(
    embedded_store: EmbeddedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slice_rows: int
) -> None:
    embedded_store.write(typed_nodes(), typed_ties())
    by_rows = row_path_files(embedded_store, tmp_path / "rows", monkeypatch)
    monkeypatch.setattr(neo4j_import_columns, "SLICE_ROWS", slice_rows)  # slices that end mid-table
    forbid_row_path(monkeypatch)
    files = write_import_files(embedded_store, tmp_path / "columns")
    assert typed(read_back(files)) == typed(store_contents(embedded_store)) == typed(read_back(by_rows))
    assert (files.nodes, files.ties) == (by_rows.nodes, by_rows.ties) == (15, 4)
    assert after_import_rows(files) == after_import_rows(by_rows) != []
    assert {(source.name, source.rows, source.multiline) for source in files.sources} == {
        (source.name, source.rows, source.multiline) for source in by_rows.sources
    }


def test_a_generated_analysed_bank_is_written_alike_from_columns_and_rows(
    analysed_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with EmbeddedStore(analysed_bank, read_only=True) as store:
        by_rows = row_path_files(store, tmp_path / "rows", monkeypatch)
        forbid_row_path(monkeypatch)
        files = write_import_files(store, tmp_path / "columns")
        expected = typed(store_contents(store))
    assert typed(read_back(files)) == expected == typed(read_back(by_rows))
    assert after_import_rows(files) == after_import_rows(by_rows) != []


# -- with the real import tool ----------------------------------------------------------------------


def storage_types(uri: str) -> dict[str, Any]:
    """Every node's labels and every property's Cypher type, straight from the server."""
    import neo4j

    with neo4j.GraphDatabase.driver(uri, auth=None) as driver:
        nodes, _, _ = driver.execute_query(
            "MATCH (n) RETURN n.id AS id, labels(n) AS labels, [k IN keys(n) | k + ':' + valueType(n[k])] AS types"
        )
        ties, _, _ = driver.execute_query(
            "MATCH (a)-[r]->(b) RETURN type(r) AS type, a.id AS source, b.id AS target, "
            "[k IN keys(r) | k + ':' + valueType(r[k])] AS types"
        )
    return {
        "nodes": sorted((record["id"], sorted(record["labels"]), sorted(record["types"])) for record in nodes),
        "ties": sorted((r["type"], r["source"], r["target"], sorted(r["types"])) for r in ties),
    }


def import_and_read(source: GraphStore, files_dir: Path, home: Path) -> tuple[ImportFiles, Any, dict[str, Any]]:
    """Import ``source``'s files with the real neo4j-admin, serve them, finish; return the typed snapshot."""
    from graph.neo4j_launcher import LocalNeo4j, launcher_available, run_neo4j_admin

    if (missing := launcher_available()) is not None:
        pytest.skip(missing)
    files = write_import_files(source, files_dir)
    # The printed arguments as they are; only memory is capped, for a shared test machine.
    run_neo4j_admin([*files.arguments, "--max-off-heap-memory=256m"], home=home, heap="512m", timeout=600)
    # The server is new and cold (unlike the session's, which conftest warms up): its first transactions pay
    # for planning and compiling while the machine is busy, so they get the warm-up's time, not 30 s.
    with LocalNeo4j(home=home, heap="512m") as server, Neo4jStore(server.uri, timeout_seconds=300) as imported:
        assert finish_import(imported, files.directory) == files.after_import_rows
        return files, typed(snapshot(imported)), storage_types(server.uri)


@pytest.mark.neo4j
def test_neo4j_admin_import_holds_what_store_write_holds(
    awkward_store: EmbeddedStore, neo4j_store: Neo4jStore, neo4j_uri: str, tmp_path: Path
) -> None:
    neo4j_store.write(awkward_nodes(), awkward_ties())
    _, imported, imported_types = import_and_read(awkward_store, tmp_path / "files", tmp_path / "home")
    assert imported == typed(snapshot(neo4j_store))
    assert imported == typed(snapshot(awkward_store))
    assert imported_types == storage_types(neo4j_uri)
    person = next(node for node in imported["nodes"]["Person"] if node["id"] == ("str", "p1"))
    assert person["properties"]["name"] == ("str", AWKWARD_NAME)


@pytest.mark.neo4j
@pytest.mark.slow
def test_neo4j_admin_import_of_a_generated_analysed_bank(tmp_path: Path) -> None:
    from graph.settings import Settings
    from loaders.generator import generate
    from loaders.load import load_mapping
    from queries.analytics import analyze

    generate(300, 3, tmp_path / "bank")
    settings = Settings(embedded_path=tmp_path / "s.sqlite", review_path=tmp_path / "review.json")
    with EmbeddedStore(settings.embedded_path) as store:
        load_mapping(store, tmp_path / "bank" / "mapping.yaml", tmp_path / "report", settings=settings)
        analyze(store, settings)
        files, imported, _ = import_and_read(store, tmp_path / "files", tmp_path / "home")
        expected = typed(snapshot(store))
        counts = store.counts()
    assert imported == expected
    assert set(counts.nodes) == {label.value for label in NodeLabel}
    assert set(counts.ties) >= {TieType.OWNS.value, TieType.FROM_SOURCE.value, TieType.SPOUSE_OF.value}
    assert files.after_import_rows > 0  # the analytics' empty lists went through finish_import
