"""Sources made by SQL over other files (joins through a link file), column lookups, and the lines the
query's reader refuses: each one quarantined with its own file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.embedded import EmbeddedStore
from graph.errors import AuthenticationData, ConfigurationError, SourceError
from graph.model import NodeLabel, TieType
from graph.store import GraphStore
from loaders.load import load_mapping
from loaders.quarantine import read_quarantine
from loaders.report import LoadReport
from tests.loaders.conftest import TODAY

CLIENTS = "client_id,name,district_id\n1,张伟,10\n2,李娜,20\n3,王芳,99\n"
DISTRICTS = "A1,A2\n10,Praha\n20,Brno\n"
DISPOSITIONS = "disp_id,client_id,account_id,type\n100,1,500,OWNER\n101,2,500,DISPONENT\n102,3,501,OWNER\n"
CARDS = "card_id,disp_id,type\n9001,100,gold\n9002,102,classic\n"

PEOPLE = """
  - name: clients
    system: core
    path: clients.csv
    node: Person
    key: [client_id]
    resolve: key_only
    id_prefix: "c:"
    columns:
      name: {from: name}
      district: {from: district_id, lookup: {file: districts.csv, key: A1, value: A2}}
"""

PEOPLE_ONLY = PEOPLE.replace(
    "      district: {from: district_id, lookup: {file: districts.csv, key: A1, value: A2}}\n", ""
)

CARD_SOURCE = """
  - name: cards
    system: core
    query:
      files: {card: cards.csv, disp: dispositions.csv}
      sql: >
        select card.card_id, card.type, disp.client_id
        from card join disp using (disp_id) order by card.card_id
    node: Account
    key: [card_id]
    id_prefix: "card:"
    columns:
      product: {from: type}
    links:
      - {type: OWNS, from: client_id, system: core}
"""


def write(folder: Path, sources: str, files: dict[str, str], version: int = 2) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    path = folder / "mapping.yaml"
    path.write_text(f"version: {version}\nname: joins\nsources:{sources}", encoding="utf-8")
    return path


def bank(**overrides: str) -> dict[str, str]:
    files = {"clients.csv": CLIENTS, "districts.csv": DISTRICTS, "dispositions.csv": DISPOSITIONS, "cards.csv": CARDS}
    return files | overrides


def load(tmp_path: Path, mapping: Path) -> tuple[LoadReport, EmbeddedStore]:
    store = EmbeddedStore(tmp_path / "store.sqlite")
    try:
        return load_mapping(store, mapping, tmp_path / "report", today=TODAY), store
    except Exception:
        store.close()
        raise


def by_name(report: LoadReport) -> dict[str, tuple[int, int, int, int]]:
    return {s.name: (s.rows_read, s.loaded, s.merged, s.quarantined) for s in report.sources}


def test_a_query_source_joins_cards_to_their_owners_through_the_dispositions(tmp_path: Path) -> None:
    report, store = load(tmp_path, write(tmp_path / "bank", PEOPLE_ONLY + CARD_SOURCE, bank()))
    with store:
        assert by_name(report)["cards"] == (2, 2, 0, 0)
        assert {record.id: record.properties["product"] for record in store.nodes(NodeLabel.ACCOUNT)} == {
            "card:9001": "gold",
            "card:9002": "classic",
        }
        owners = {(tie.source, tie.target) for tie in store.ties([TieType.OWNS])}
    assert owners == {("c:1", "card:9001"), ("c:3", "card:9002")}
    (cards,) = [source for source in report.sources if source.name == "cards"]
    assert [Path(name).name for name in cards.files] == ["cards.csv", "dispositions.csv"]


def test_a_lookup_stores_the_value_and_quarantines_a_code_the_file_lacks(tmp_path: Path) -> None:
    report, store = load(tmp_path, write(tmp_path / "bank", PEOPLE, bank()))
    with store:
        districts = {record.id: record.properties.get("district") for record in store.nodes(NodeLabel.PERSON)}
    assert districts == {"c:1": "Praha", "c:2": "Brno"}
    assert by_name(report)["clients"] == (3, 2, 0, 1)
    (row,) = read_quarantine(tmp_path / "report" / "quarantine.csv")
    assert (row["file"], row["line"], row["reason"]) == ("clients.csv", "4", "unknown_code")


def test_lines_the_query_reader_refuses_are_quarantined_with_their_own_file_and_line(tmp_path: Path) -> None:
    cards = 'card_id,disp_id,type\n9001,100,gold\n9003,"multi\nline",x\n9004,101,gold,extra\n9002,102,classic\n'
    report, store = load(tmp_path, write(tmp_path / "bank", PEOPLE_ONLY + CARD_SOURCE, bank(**{"cards.csv": cards})))
    store.close()
    # The quoted value spanning lines 3-4 is read (and joins nothing); line 5 has a field too many.
    assert by_name(report)["cards"] == (3, 2, 0, 1)
    rows = [row for row in read_quarantine(tmp_path / "report" / "quarantine.csv") if row["source"] == "cards"]
    assert [(row["file"], row["line"], row["reason"]) for row in rows] == [("cards.csv", "5", "malformed_line")]
    assert "too many columns" in rows[0]["message"]


def test_query_output_rows_are_numbered_from_line_two(tmp_path: Path) -> None:
    source = CARD_SOURCE.replace("product: {from: type}", "product: {from: type, map: {gold: gold}}")
    report, store = load(tmp_path, write(tmp_path / "bank", PEOPLE_ONLY + source, bank()))
    store.close()
    assert by_name(report)["cards"] == (2, 1, 0, 1)
    rows = [row for row in read_quarantine(tmp_path / "report" / "quarantine.csv") if row["source"] == "cards"]
    # The second output row (card 9002, ordered by the query) is line 3 of the query's output.
    assert [(row["file"], row["line"], row["reason"]) for row in rows] == [("cards.sql", "3", "unknown_code")]
    assert '"card_id":"9002"' in rows[0]["original_line"]


@pytest.mark.parametrize(
    ("sources", "files", "error", "message"),
    [
        (CARD_SOURCE.replace("join disp", "join nowhere"), {}, ConfigurationError, "cards: its query fails: Catalog"),
        (CARD_SOURCE.replace("client_id, system", "owner, system"), {}, ConfigurationError, "returns no column"),
        (CARD_SOURCE.replace("dispositions.csv", "gone.csv"), {}, SourceError, "table disp of its query"),
        (CARD_SOURCE.replace("join disp", "join read_csv('clients.csv') disp"), {}, ConfigurationError, "disabled"),
        (PEOPLE.replace("value: A2", "value: A3"), {}, ConfigurationError, "lacks column.s. A3; its header reads"),
        (PEOPLE, {"districts.csv": DISTRICTS + "10,Plzen\n"}, ConfigurationError, "two different values"),
        (CARD_SOURCE, {"cards.csv": "card_id,disp_id,type,cvv2\n1,100,gold,123\n"}, AuthenticationData, "cvv2"),
    ],
)
def test_a_query_or_lookup_that_cannot_work_stops_the_load_before_any_write(
    tmp_path: Path, sources: str, files: dict[str, str], error: type[Exception], message: str
) -> None:
    mapping = write(tmp_path / "bank", sources if "lookup" in sources else PEOPLE_ONLY + sources, bank(**files))
    with pytest.raises(error, match=message):
        load(tmp_path, mapping)
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        assert store.counts().nodes == {}


def test_query_and_lookup_need_version_two_and_a_source_path_or_query(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="query, lookup and pairs need version: 2"):
        load(tmp_path, write(tmp_path / "bank", PEOPLE, bank(), version=1))
    both = CARD_SOURCE.replace("    query:", "    path: cards.csv\n    query:")
    with pytest.raises(ConfigurationError, match="give either path or query"):
        load(tmp_path, write(tmp_path / "bank", both, bank()))


HOUSEHOLDS = """
  - name: households
    system: core
    path: dispositions.csv
    pairs: {group_by: [account_id], member: client_id, role_from: type, from_role: OWNER, to_role: DISPONENT}
    tie: {type: SPOUSE_OF}
    columns:
      account: {from: account_id}
"""


def test_pairs_tie_the_owner_and_the_disponent_of_one_account(tmp_path: Path) -> None:
    dispositions = DISPOSITIONS + "103,3,502,OWNER\n104,3,502,DISPONENT\n105,7,503,OWNER\n106,1,503,DISPONENT\n"
    files = bank(**{"dispositions.csv": dispositions})
    report, store = load(tmp_path, write(tmp_path / "bank", PEOPLE_ONLY + HOUSEHOLDS, files))
    with store:
        ties = {(tie.source, tie.target, tie.properties.get("account")) for tie in store.ties([TieType.SPOUSE_OF])}
    assert ties == {("c:1", "c:2", "500")}
    # One row per pair: 500 (1-2) loaded, 502 (3 with itself) a self tie, 503 (owner 7 unknown) an orphan.
    assert by_name(report)["households"] == (3, 1, 0, 2)
    rows = [row for row in read_quarantine(tmp_path / "report" / "quarantine.csv") if row["source"] == "households"]
    assert [(row["file"], row["line"], row["reason"]) for row in rows] == [
        ("households.sql", "3", "self_tie"),
        ("households.sql", "4", "orphan"),
    ]


def test_pairs_without_roles_tie_every_two_members_of_a_group_once(tmp_path: Path) -> None:
    dispositions = DISPOSITIONS + "103,3,500,DISPONENT\n"
    source = HOUSEHOLDS.replace(", role_from: type, from_role: OWNER, to_role: DISPONENT", "")
    report, store = load(
        tmp_path, write(tmp_path / "bank", PEOPLE_ONLY + source, bank(**{"dispositions.csv": dispositions}))
    )
    with store:
        ties = {(tie.source, tie.target) for tie in store.ties([TieType.SPOUSE_OF])}
    assert ties == {("c:1", "c:2"), ("c:1", "c:3"), ("c:2", "c:3")}
    assert by_name(report)["households"] == (3, 3, 0, 0)


def test_pairs_by_role_need_all_three_role_settings(tmp_path: Path) -> None:
    source = HOUSEHOLDS.replace(", from_role: OWNER", "")
    with pytest.raises(ConfigurationError, match="role_from, from_role and to_role together"):
        load(tmp_path, write(tmp_path / "bank", PEOPLE + source, bank()))


HOME_BRANCHES = """
  - name: districts
    system: core
    path: districts.csv
    node: Branch
    key: [A1]
    id_prefix: "district:"
    columns:
      name: {from: A2}
  - name: home_branches
    system: core
    path: clients.csv
    tie: {type: BANKED_AT}
    source: {from: client_id}
    target: {from: district_id, prefix: "district:"}
"""


def test_home_branches_and_households_load_alike_on_both_backends(tmp_path: Path, store: GraphStore) -> None:
    """A customer's home branch (district) and the owner-disponent pairs, on the embedded store and Neo4j."""
    mapping = write(tmp_path / "bank", PEOPLE_ONLY + HOUSEHOLDS + HOME_BRANCHES, bank())
    report = load_mapping(store, mapping, tmp_path / "report", today=TODAY)
    banked = {(tie.source, tie.target) for tie in store.ties([TieType.BANKED_AT])}
    assert banked == {("c:1", "district:10"), ("c:2", "district:20")}
    assert {(tie.source, tie.target) for tie in store.ties([TieType.SPOUSE_OF])} == {("c:1", "c:2")}
    # Client 3's district 99 is no branch: an orphan, with its line.
    assert by_name(report)["home_branches"] == (3, 2, 0, 1)
    assert store.counts().ties["BANKED_AT"] == 2
