"""Entity resolution's comparisons on Spark (splink) against the in-process scorer: the same candidate pairs, the
same scores (within 1e-9: splink sums the match weights in SQL, in another order), and a load that gives the same
customers, merges and review queue. One Spark session for the module (local mode), stopped at its end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from graph.embedded import EmbeddedStore
from graph.errors import ConfigurationError
from graph.model import NodeLabel
from loaders.generator import generate
from loaders.load import load_mapping
from loaders.mapping import ResolveMode, ValueType
from loaders.matching import BLOCK_LIMIT, ScoredPair, scored_pairs
from loaders.resolve import CustomerRecord
from loaders.review import ReviewList
from loaders.spark_resolve import SparkPairScorer, resolution_model, saved_resolution_model
from tests.loaders.conftest import TODAY
from tests.loaders.test_bulk_path import dump
from tests.loaders.test_resolve import person

SCORE_TOLERANCE = 1e-9
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from queries.analytics.spark.session import spark_session

    session = spark_session("local[2]", "1g", 2)
    yield session
    session.stop()  # the JVM need not stay for the rest of the suite


def _scorer(spark: Any, folder: Path) -> SparkPairScorer:
    return SparkPairScorer(folder / "resolution-model.json", lambda: spark)


def assert_same_pairs(found: list[ScoredPair], expected: list[ScoredPair]) -> None:
    assert [(pair.left, pair.right) for pair in found] == [(pair.left, pair.right) for pair in expected]
    for spark_pair, local_pair in zip(found, expected, strict=True):
        assert spark_pair.probability == pytest.approx(local_pair.probability, abs=SCORE_TOLERANCE)


def planted_duplicates() -> list[CustomerRecord]:
    """Records without an ID next to the customers they duplicate: a typo, a new phone, another address, a full
    width name, a company with a person's name; key-only records that must never pair; a block too large."""
    records = [
        person("core", "1", "张三", resident_id="h1", mobile="m1"),
        person("crm", "1", "张叁", mobile="m1"),  # typo, same birth date and phone: a merge
        person("card", "1", "张三", mobile="m9"),  # same name and birth date, other phone: review or apart
        person("core", "2", "李四", resident_id="h2", mobile="m2"),
        person("crm", "2", "李 四", mobile="m2"),  # spaces are how a system writes a name
        person("crm", "3", "ＬＩ　Ｓｉ", mobile="m3"),  # full width
        person("core", "3", "Li Si", resident_id="h3", mobile="m3"),
        person("fb", "1", "张三", mode=ResolveMode.KEY_ONLY),
        person("fb", "2", "张三", mode=ResolveMode.KEY_ONLY),
        person("card", "2", "Alexandra Smith", mobile="m4"),
        person("core", "4", "Alexandra Smyth", resident_id="h4", mobile="m5"),  # similar by difflib's ratio
    ]
    records.append(
        CustomerRecord("crm", "crm", "c1", 3, NodeLabel.COMPANY, {"name": "张三", "address": "北京市朝阳区1号"}, {})
    )
    records.append(
        CustomerRecord("core", "core", "c2", 3, NodeLabel.COMPANY, {"name": "张三", "address": "北京市朝阳区一号"}, {})
    )
    # More than BLOCK_LIMIT records of one birth date: that block is left out; the phones still pair two of them.
    crowd = [
        CustomerRecord(
            "crowd",
            "crowd",
            str(index),
            index + 2,
            NodeLabel.PERSON,
            {"name": f"人{index}", "birth_date": "1970-01-01"},
            {ValueType.MOBILE: f"crowd{index // 2}"},
        )
        for index in range(BLOCK_LIMIT + 3)
    ]
    return [*records, *crowd]


def test_planted_duplicates_score_alike(spark: Any, tmp_path: Path) -> None:
    records = planted_duplicates()
    expected = scored_pairs(records, 0.0001)
    assert len(expected) > BLOCK_LIMIT // 2  # the crowd's phone pairs, the planted ones
    assert_same_pairs(_scorer(spark, tmp_path)(records, 0.0001), expected)
    assert _scorer(spark, tmp_path)([], 0.5) == []


def test_the_saved_model_is_written_once_then_read(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "resolution-model.json"
    assert saved_resolution_model(path) == resolution_model() and path.exists()
    records = planted_duplicates()[:7]
    before = _scorer(spark, tmp_path)(records, 0.0)
    # A bank's own estimate in the file is what the next run scores with, not the documented weights.
    model = json.loads(path.read_text(encoding="utf-8"))
    name_exact = model["comparisons"][0]["comparison_levels"][1]
    assert name_exact["label_for_charts"] == "exact"
    name_exact["m_probability"] = 0.5
    path.write_text(json.dumps(model), encoding="utf-8")
    after = {(pair.left, pair.right): pair.probability for pair in _scorer(spark, tmp_path)(records, 0.0)}
    assert any(after[(pair.left, pair.right)] < pair.probability for pair in before)


def test_a_model_that_does_not_fit_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps({"comparisons": [{"output_column_name": "surname"}]}), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="does not compare name, birth_date, phone, address: remove it"):
        saved_resolution_model(path)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="cannot read the resolution model"):
        saved_resolution_model(path)


def test_generated_bank_resolves_alike_on_spark(spark: Any, tmp_path: Path) -> None:
    generate(1500, 11, tmp_path / "bank")
    outcomes = {}
    for engine in ("local", "spark"):
        folder = tmp_path / engine
        score_pairs = _scorer(spark, tmp_path) if engine == "spark" else scored_pairs
        with EmbeddedStore(folder / "store.sqlite") as store:
            report = load_mapping(
                store, tmp_path / "bank" / "mapping.yaml", folder, today=TODAY, score_pairs=score_pairs
            )
            outcomes[engine] = (dump(store), report, ReviewList.read(folder / "review.json").pending())
    local, on_spark = outcomes["local"], outcomes["spark"]
    assert on_spark[1].merged_by_score == local[1].merged_by_score > 0  # the generator's records without an ID
    assert [item.model_dump() for item in on_spark[2]] == [item.model_dump() for item in local[2]]
    assert on_spark[0] == local[0]  # every customer, lineage record and tie, with its properties


def test_cli_load_with_the_spark_engine(spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    generate(300, 5, tmp_path / "bank")
    monkeypatch.setenv("CRM_GRAPH_EMBEDDED_PATH", str(tmp_path / "store.sqlite"))
    monkeypatch.setenv("CRM_GRAPH_REVIEW_PATH", str(tmp_path / "review.json"))
    monkeypatch.setenv("CRM_GRAPH_RESOLUTION_MODEL_PATH", str(tmp_path / "model" / "resolution-model.json"))
    arguments = ["load", str(tmp_path / "bank" / "mapping.yaml"), "--report-dir", str(tmp_path / "report")]
    arguments += ["--max-quarantine-share", "1"]  # the generator's bad rows are a larger share of a small bank
    result = CliRunner().invoke(app, [*arguments, "--engine", "spark", "--master", "local[2]"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "model" / "resolution-model.json").exists()
    report = json.loads((tmp_path / "report" / "report.json").read_text(encoding="utf-8"))
    assert report["counts"]["nodes"]["Person"] > 0 and report["merged_by_score"] > 0
