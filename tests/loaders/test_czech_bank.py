"""The shipped version 2 mapping of a Czech bank's exports (loaders/mappings/czech-bank.yaml), on a few rows
written in the exports' own layout: derived columns, joins through the dispositions, households, home branches."""

from __future__ import annotations

from pathlib import Path

from graph.embedded import EmbeddedStore
from graph.model import NodeLabel, TieType
from loaders.load import load_mapping
from loaders.quarantine import read_quarantine
from tests.loaders.conftest import TODAY

MAPPING = Path(__file__).resolve().parents[2] / "loaders" / "mappings" / "czech-bank.yaml"

FILES = {
    "district.asc": '"A1";"A2";"A3"\n1;"Hl.m. Praha";"Prague"\n5;"Kolin";"central Bohemia"\n',
    "client.asc": '"client_id";"birth_number";"district_id"\n1;"706213";1\n2;"450204";1\n3;"406009";5\n',
    "disp.asc": ('"disp_id";"client_id";"account_id";"type"\n1;1;11;"OWNER"\n2;2;12;"OWNER"\n3;3;12;"DISPONENT"\n'),
    "account.asc": (
        '"account_id";"district_id";"frequency";"date"\n11;1;"POPLATEK MESICNE";930101\n12;5;"POPLATEK TYDNE";950315\n'
    ),
    "card.asc": '"card_id";"disp_id";"type";"issued"\n7;1;"gold";"981104 00:00:00"\n8;3;"classic";"x";"extra"\n',
    "loan.asc": (
        '"loan_id";"account_id";"date";"amount";"duration";"payments";"status"\n5314;12;930705;96396;12;8033.00;"B"\n'
    ),
}


def test_the_czech_bank_loads_without_a_pre_join_script(tmp_path: Path) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with EmbeddedStore(tmp_path / "store.sqlite") as store:
        report = load_mapping(store, MAPPING, tmp_path / "report", data_dir=tmp_path, today=TODAY)
        people = {record.id: record.properties for record in store.nodes(NodeLabel.PERSON)}
        owners = {(tie.source, tie.target) for tie in store.ties([TieType.OWNS])}
        households = {(tie.source, tie.target) for tie in store.ties([TieType.RELATIVE_OF])}
        banked = {(tie.source, tie.target) for tie in store.ties([TieType.BANKED_AT])}
        loan = store.get_node(NodeLabel.ACCOUNT, "loan:5314")
    counts = {source.name: (source.rows_read, source.loaded, source.quarantined) for source in report.sources}
    assert counts == {
        "clients": (3, 3, 0),
        "districts": (2, 2, 0),
        "accounts": (2, 2, 0),
        "cards": (2, 1, 1),  # card 8's line has a field too many
        "loans": (1, 1, 0),
        "households": (1, 1, 0),
        "home_branches": (3, 3, 0),
    }
    # The month carries +50 for women; the century is pinned to the 1900s.
    assert (people["client:1"]["gender"], people["client:1"]["birth_date"]) == ("F", "1970-12-13")
    assert (people["client:2"]["gender"], people["client:2"]["birth_date"]) == ("M", "1945-02-04")
    assert owners == {
        ("client:1", "account:11"),
        ("client:2", "account:12"),
        ("client:1", "card:7"),
        ("client:2", "loan:5314"),
    }
    assert households == {("client:2", "client:3")}
    assert banked == {("client:1", "district:1"), ("client:2", "district:1"), ("client:3", "district:5")}
    assert (
        loan is not None and loan.properties["loan_status"] == "defaulted" and loan.properties["opened"] == "1993-07-05"
    )
    (refused,) = read_quarantine(tmp_path / "report" / "quarantine.csv")
    assert (refused["source"], refused["file"], refused["line"]) == ("cards", "card.asc", "3")
