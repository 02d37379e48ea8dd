"""Loading a mapping into the embedded store: accounting, quarantine, reloads, updates, refusals."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from graph.embedded import EmbeddedStore
from graph.errors import AuthenticationData, SourceError
from graph.model import NodeLabel, TieType
from graph.settings import Settings
from graph.store import GraphStore
from loaders.load import customer_batches, load_mapping, refused_columns
from loaders.quarantine import read_quarantine
from loaders.report import LoadReport
from loaders.resolve import CustomerRecord
from tests.loaders.conftest import CARD, RID_LI, RID_ZHANG, TODAY, write_bank


def load(store: GraphStore, mapping: Path, report_dir: Path) -> LoadReport:
    return load_mapping(store, mapping, report_dir, today=TODAY)


def snapshot(store: GraphStore) -> tuple[object, ...]:
    nodes = {label: [r.model_dump() for r in store.nodes(label)] for label in NodeLabel if label.primary is label}
    return store.counts(), nodes, [t.model_dump() for t in store.ties()]


def test_clean_bank_loads_with_lineage(bank: Path, tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        report = load(store, bank, tmp_path / "report")
        by_name = {s.name: s for s in report.sources}
        assert by_name["core_customers"].loaded == 3
        assert (by_name["card_customers"].loaded, by_name["card_customers"].merged) == (0, 1)
        assert report.counts.nodes["Person"] == 3
        assert report.counts.ties == {"FROM_SOURCE": 4, "OWNS": 2, "SPOUSE_OF": 1}
        account = store.get_node(NodeLabel.ACCOUNT, "acct-A1")
        assert account is not None and account.properties == {"balance": 1000.5}
        (zhang,) = [r for r in store.nodes(NodeLabel.PERSON) if r.properties["name"] == "张三"]
        assert zhang.properties["card_masked"] == "622202******" + CARD[-4:]
        assert RID_ZHANG not in str(zhang.properties) and "13812345678" not in str(zhang.properties)
        assert zhang.properties["phone_masked"] == "138****5678"
        assert (tmp_path / "report" / "report.json").exists()


def test_every_bad_row_is_quarantined_with_its_reason_and_line(tmp_path: Path) -> None:
    customers = (
        "cust_no,cust_name,id_no,birth,mobile,seg_cd\n"
        f"C1,张三,{RID_ZHANG},19900307,13812345678,01\n"
        f"C2,李四,{RID_LI[:-1]}{'0' if RID_LI[-1] != '0' else '1'},19850512,,01\n"  # line 3 bad check digit
        "C3,王五,,19700230,,01\n"  # line 4 bad date
        "C4,赵六,,19700101,,99\n"  # line 5 unknown code
        "C1,张三,,19900307,,01\n"  # line 6 duplicate key
        ",无名,,19900307,,01\n"  # line 7 missing key
        "C7,,,19900307,,01\n"  # line 8 required name missing
        "C8,钱七,,19900307,12345,01\n"  # line 9 bad mobile length
        "C9,孙八,,19900307,,01,extra\n"  # line 10 malformed
        "C10,周九,,19900307,,01\n"
    )
    accounts = "acct_no,cust_no,bal\nA1,C1,12\nA2,NOPE,5\nA3,C1,abc\nA1,C1,3\n"
    family = "cust_a,cust_b,rel_cd\nC1,C1,10\nC1,NOPE,10\nC1,C4,77\nC1,C10,20\nC1,C10,20\n"
    mapping = write_bank(tmp_path / "bank", customers=customers, accounts=accounts, family=family)
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        report = load(store, mapping, tmp_path / "report")
        assert store.get_node(NodeLabel.ACCOUNT, "acct-A2") is None  # orphan account: no dangling node
    rows = read_quarantine(tmp_path / "report" / "quarantine.csv")
    found = {(row["source"], int(row["line"]), row["reason"]) for row in rows}
    assert found == {
        ("core_customers", 3, "bad_check_digit"),
        ("core_customers", 4, "bad_date"),
        ("core_customers", 5, "unknown_code"),
        ("core_customers", 6, "duplicate_key"),
        ("core_customers", 7, "missing_value"),
        ("core_customers", 8, "missing_value"),
        ("core_customers", 9, "bad_length"),
        ("core_customers", 10, "malformed_line"),
        ("accounts", 3, "orphan"),
        ("accounts", 4, "bad_number"),
        ("accounts", 5, "duplicate_key"),
        ("family", 2, "self_tie"),
        ("family", 3, "orphan"),
        ("family", 4, "unknown_code"),  # C4 was refused too, but the code is checked first
    }
    original = {(row["source"], int(row["line"])): row["original_line"] for row in rows}
    assert original[("accounts", 3)] == "A2,NOPE,5"
    assert all(RID_LI[:10] not in row["message"] and "12345" not in row["message"] for row in rows)
    by_name = {s.name: s for s in report.sources}
    for source in report.sources:
        assert source.rows_read == source.loaded + source.merged + source.quarantined
    assert (by_name["core_customers"].rows_read, by_name["core_customers"].loaded) == (10, 2)
    assert (by_name["family"].loaded, by_name["family"].merged) == (1, 1)  # the repeated PARENT_OF row merged


def test_reload_changes_nothing(bank: Path, tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        first = load(store, bank, tmp_path / "r1")
        before = snapshot(store)
        second = load(store, bank, tmp_path / "r2")
        assert snapshot(store) == before
        changes = {"seconds", "new", "updated", "unchanged"}
        assert [s.model_dump(exclude=changes) for s in first.sources] == [
            s.model_dump(exclude=changes) for s in second.sources
        ]
    for source in first.sources:
        written = source.nodes_written + source.ties_written
        assert (source.new, source.updated, source.unchanged) == (written, 0, 0), source.name
    for source in second.sources:
        written = source.nodes_written + source.ties_written
        assert (source.new, source.updated, source.unchanged) == (0, 0, written), source.name


def test_reload_from_disk_is_stable(bank: Path, tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        load(store, bank, tmp_path / "r1")
        before = snapshot(store)
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        load(store, bank, tmp_path / "r2")
        assert snapshot(store) == before


def test_newer_export_updates_changed_properties_and_adds_rows(bank: Path, tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        load(store, bank, tmp_path / "r1")
        newer = (
            "cust_no,cust_name,id_no,birth,mobile,seg_cd\n"
            f"C1,张三,{RID_ZHANG},19900307,13812345678,02\n"
            f"C2,李四,{RID_LI},19850512,,02\n"
            "C3,王五,,19700101,,01\n"
            "C4,赵六,,19800101,,01\n"
        )
        write_bank(bank.parent, customers=newer, accounts="acct_no,cust_no,bal\nA1,C1,99\nA2,C2,20\nA3,C4,1\n")
        report = load(store, bank, tmp_path / "r2")
        assert report.quarantined == 0
        by_name = {source.name: source for source in report.sources}
        # C4 and A3 are new (node, lineage and tie); the segments of C1 and C2 and A1's balance changed.
        assert (by_name["accounts"].new, by_name["accounts"].updated) == (2, 1)
        assert by_name["core_customers"].updated >= 2 and by_name["core_customers"].new == 3
        people = {r.properties["name"]: r.properties for r in store.nodes(NodeLabel.PERSON)}
        assert people["张三"]["segment"] == "private"
        assert "phone_hash" not in people["李四"]  # emptied in the newer export: removed
        assert set(people) == {"张三", "李四", "王五", "赵六"}
        account = store.get_node(NodeLabel.ACCOUNT, "acct-A1")
        assert account is not None and account.properties["balance"] == 99.0
        assert store.counts().ties["OWNS"] == 3


@pytest.mark.parametrize("column", ["password", "card_pin", "CVV2", "track2", "交易密码", "secret"])
def test_authentication_columns_stop_the_load_before_any_write(tmp_path: Path, column: str) -> None:
    accounts = f"acct_no,cust_no,bal,{column}\nA1,C1,1,x\n"
    mapping = write_bank(tmp_path / "bank", accounts=accounts)
    if column == "secret":
        text = mapping.read_text().replace("id_prefix: acct-", "id_prefix: acct-\n    refuse_columns: [secret]")
        mapping.write_text(text)
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        with pytest.raises(AuthenticationData, match=rf"{column}.*|.*accounts\.csv"):
            load(store, mapping, tmp_path / "report")
        assert store.counts().nodes == {}


def test_refused_columns_leave_ordinary_names_alone() -> None:
    assert refused_columns(["pinyin_name", "spinner", "tracking_no", "open_date", "pin_code", "Track1"]) == [
        "pin_code",
        "Track1",
    ]


def test_gbk_export_loads(tmp_path: Path) -> None:
    mapping = write_bank(tmp_path / "bank", encoding="gbk")
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        report = load(store, mapping, tmp_path / "report")
        assert report.quarantined == 0
        assert {r.properties["name"] for r in store.nodes(NodeLabel.PERSON)} == {"张三", "李四", "王五"}


def test_undecodable_line_is_quarantined_as_bad_encoding(tmp_path: Path) -> None:
    mapping = write_bank(tmp_path / "bank")
    path = mapping.parent / "core" / "customers.csv"
    path.write_bytes(path.read_bytes() + b"C9,\xff\xfe,,19700101,,01\n")
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        load(store, mapping, tmp_path / "report")
    rows = read_quarantine(tmp_path / "report" / "quarantine.csv")
    assert [(row["line"], row["reason"]) for row in rows] == [("5", "bad_encoding")]


def test_missing_file_raises_and_writes_nothing(bank: Path, tmp_path: Path) -> None:
    (bank.parent / "core" / "family.csv").unlink()
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        with pytest.raises(SourceError, match=r"family\.csv"):
            load(store, bank, tmp_path / "report")
        assert store.counts().nodes == {}


def test_tie_file_alone_uses_lineage_already_in_the_store(bank: Path, tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        load(store, bank, tmp_path / "r1")
        text = bank.read_text()
        only_ties = text[: text.index("  - name: core_customers")] + text[text.index("  - name: family") :]
        ties_mapping = bank.parent / "ties.yaml"
        ties_mapping.write_text(only_ties)
        (bank.parent / "core" / "family.csv").write_text("cust_a,cust_b,rel_cd\nC1,C2,10\nC2,C3,20\n")
        report = load(store, ties_mapping, tmp_path / "r2")
        assert report.quarantined == 0
        assert store.counts().ties["PARENT_OF"] == 1


def test_cli_load_and_failure_exit_codes(bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_GRAPH_EMBEDDED_PATH", str(tmp_path / "cli.sqlite"))
    monkeypatch.setenv("CRM_GRAPH_REVIEW_PATH", str(tmp_path / "review.json"))
    runner = CliRunner()
    result = runner.invoke(app, ["load", str(bank), "--report-dir", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rep" / "report.json").exists()
    result = runner.invoke(app, ["load", str(bank), "--report-dir", str(tmp_path / "rows"), "--path", "rows"])
    assert result.exit_code == 0, result.output
    report = LoadReport.model_validate_json((tmp_path / "rows" / "report.json").read_text(encoding="utf-8"))
    assert {source.path for source in report.sources} == {"rows"}
    (bank.parent / "core" / "accounts.csv").unlink()
    result = runner.invoke(app, ["load", str(bank), "--report-dir", str(tmp_path / "rep2")])
    assert result.exit_code == 1
    output = result.output.replace("\n", "")
    assert "accounts.csv" in output and "does not exist" in output


def test_quarantine_file_is_plain_csv(tmp_path: Path) -> None:
    mapping = write_bank(tmp_path / "bank", accounts="acct_no,cust_no,bal\nA1,NOPE,1\n")
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        load(store, mapping, tmp_path / "report")
    with (tmp_path / "report" / "quarantine.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == ["source", "file", "line", "reason", "message", "original_line"]
    assert TieType.OWNS.value in read_quarantine(tmp_path / "report" / "quarantine.csv")[0]["message"]


def test_customer_batches_write_each_customer_before_its_lineage() -> None:
    """Regression: a second source's full batch was written before the first source's last partial one."""
    records = [
        CustomerRecord("core", "core", key, line, NodeLabel.PERSON, {"name": key, "city": None})
        for line, key in enumerate(["a", "b", "c"], start=2)
    ] + [
        CustomerRecord("card", "card", key, line, NodeLabel.PERSON, {"name": key, "city": "杭州"})
        for line, key in enumerate(["c", "d"], start=2)
    ]
    customer_ids = ["A", "B", "C", "C", "D"]
    batches = customer_batches(records, customer_ids, batch_size=2)
    assert [(b.source, b.rows, b.loaded, b.merged) for b in batches] == [
        ("core", 2, 2, 0),
        ("core", 1, 1, 0),
        ("card", 2, 1, 1),
    ]
    written: set[str] = set()
    for batch in batches:
        written.update(node["id"] for node in batch.pending.nodes)
        assert all(tie["source"] in written for tie in batch.pending.ties)
    (customer_c,) = [n for b in batches for n in b.pending.nodes if n["id"] == "C"]
    # The later record fills in; no value differs, so no aliases (written as None, clearing stale ones).
    no_aliases = dict.fromkeys(["name_aliases", "birth_date_aliases", "address_aliases", "phone_masked_aliases"])
    assert customer_c["properties"] == {"name": "c", "city": "杭州"} | no_aliases


def test_lineage_of_a_second_system_survives_batch_boundaries(tmp_path: Path) -> None:
    customers = (
        "cust_no,cust_name,id_no,birth,mobile,seg_cd\n"
        "C1,王五,,19700101,,01\n"
        "C2,赵六,,19800101,,01\n"
        f"C3,张三,{RID_ZHANG},19900307,,01\n"
    )
    holders = (
        "holder_id,holder_name,cert_no,birth,mobile,card_no\n"
        f"H1,李四,{RID_LI},1985-05-12,,\n"
        f"H2,张三,{RID_ZHANG},1990-03-07,,\n"
    )
    mapping = write_bank(tmp_path / "bank", customers=customers, holders=holders, accounts="acct_no,cust_no,bal\n")
    with EmbeddedStore(tmp_path / "s.sqlite") as store:
        report = load_mapping(store, mapping, tmp_path / "report", settings=Settings(batch_size=2), today=TODAY)
        assert report.counts.ties["FROM_SOURCE"] == 5
        assert report.counts.nodes["Person"] == 4
