"""Entity resolution's comparisons on Spark (``crm-graph load --engine spark``), run by splink's Spark backend.

What runs on Spark is the part of :mod:`loaders.resolve` that grows with the square of a block: making the
candidate pairs and scoring them. The records go to Spark as one table of the compared fields, normalised as
in-process; splink makes the pairs from the same three blocks (:func:`loaders.matching.block_keys`), with the
same rules (an ``auto`` record, at least one side without a usable ID, blocks above ``BLOCK_LIMIT`` members left
out), compares the same four fields at the same levels (the text levels with the
in-process function, as a Python UDF) and scores each pair with a saved Fellegi-Sunter model. Only the pairs
scoring at least ``review_above`` come back to the driver; ID numbers, splits, merges and the review list stay
as in-process, so the review queue is the same.

The model is a splink model file (JSON). When the file does not exist, it is written from the documented m and
u values of :data:`loaders.matching.FIELD_WEIGHTS` (so both engines score alike); after that it is only read, never
re-estimated, so the same files give the same scores on every run (the reason splink is not trained at load
time: see :mod:`loaders.resolve`). A bank that estimates its own m and u with splink (EM on its records) saves
them in this file; in-process resolution keeps the documented values until ``FIELD_WEIGHTS`` gets the same.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.errors import ConfigurationError
from loaders.mapping import ResolveMode
from loaders.matching import BLOCK_LIMIT, FIELD_WEIGHTS, PRIOR_MATCH, ScoredPair, birth_block, name_block, text_level
from loaders.resolve import CustomerRecord

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

BLOCKS = ("birth", "phone", "name")
"""The block keys of :func:`loaders.matching.block_keys`, each a column of the table given to splink."""
TEXT_FIELDS = ("name", "address")
"""Compared at three levels (exact, similar, different); the others at two (exact, different)."""
SIMILAR_TEXT_UDF = "crm_graph_similar_text"


def similar_text(left: str, right: str) -> bool:
    """Whether two normalised texts that differ are similar, as in-process (run on Spark's Python workers)."""
    return text_level(left, right) == "similar"


def resolution_model() -> dict[str, Any]:
    """The splink model of the documented weights: blocks, comparison levels, m and u, the prior."""

    def level(name: str, kind: str, condition: str) -> dict[str, Any]:
        weights = FIELD_WEIGHTS[name][kind]
        return {
            "sql_condition": condition,
            "label_for_charts": kind,
            "m_probability": weights.m,
            "u_probability": weights.u,
        }

    comparisons = []
    for name in FIELD_WEIGHTS:
        levels: list[dict[str, Any]] = [
            {
                "sql_condition": f"{name}_l IS NULL OR {name}_r IS NULL",
                "label_for_charts": "null",
                "is_null_level": True,
            },
            level(name, "exact", f"{name}_l = {name}_r"),
        ]
        if name in TEXT_FIELDS:
            levels.append(level(name, "similar", f"{SIMILAR_TEXT_UDF}({name}_l, {name}_r)"))
        levels.append(level(name, "different", "ELSE"))
        comparisons.append({"output_column_name": name, "comparison_levels": levels})
    # Pairs of two IDs are settled by the IDs: only pairs with a side lacking one are scored.
    blocking = [
        {
            "blocking_rule": f"l.kind = r.kind AND l.{block}_block = r.{block}_block AND NOT (l.has_id AND r.has_id)",
            "sql_dialect": "spark",
        }
        for block in BLOCKS
    ]
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": PRIOR_MATCH,
        "blocking_rules_to_generate_predictions": blocking,
        "comparisons": comparisons,
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
    }


def saved_resolution_model(path: Path) -> dict[str, Any]:
    """The model in ``path``; written there from the documented weights first when there is none."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(resolution_model(), indent=2) + "\n", encoding="utf-8")
    try:
        model = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigurationError(f"cannot read the resolution model {path}: {error}") from None
    names = [comparison.get("output_column_name") for comparison in model.get("comparisons", [])]
    if not isinstance(model, dict) or names != list(FIELD_WEIGHTS):
        raise ConfigurationError(
            f"the resolution model {path} does not compare {', '.join(FIELD_WEIGHTS)}: remove it to write the "
            "documented one again"
        )
    return model


class SparkPairScorer:
    """A :data:`loaders.matching.PairScorer` that runs on Spark with splink and the model saved in ``model_path``.

    ``session`` gives the Spark session, started only when there are records to compare."""

    def __init__(self, model_path: Path, session: Callable[[], SparkSession]) -> None:
        self.model = saved_resolution_model(model_path)
        self.session = session

    def __call__(self, records: Sequence[CustomerRecord], review_above: float) -> list[ScoredPair]:
        from pyspark.sql.types import BooleanType
        from splink import Linker, SparkAPI

        if not records:
            return []
        spark = self.session()
        spark.udf.register(SIMILAR_TEXT_UDF, similar_text, BooleanType())
        table = _with_blocks(spark, records)
        # splink's Scala UDFs (jaro-winkler and such) are not used here, and its jar is not on the class path; its
        # intermediate tables stay in Spark's memory (spilling to disk), with no checkpoint folder to set up.
        database = SparkAPI(spark_session=spark, register_udfs_automatically=False, break_lineage_method="persist")
        linker = Linker(database.register(table), self.model, log_level=logging.WARNING)
        # A hair below the bound, which splink compares as a match weight; the bound itself is applied below, on
        # the probability, as in-process.
        below = math.log2(review_above / (1 - review_above)) - 1e-9 if 0 < review_above < 1 else None
        predicted = linker.inference.predict(threshold_match_weight=below).as_spark_dataframe()
        rows = predicted.select("unique_id_l", "unique_id_r", "match_probability").collect()
        linker.table_management.delete_tables_created_by_splink_from_db()
        pairs = [
            ScoredPair(int(row.unique_id_l), int(row.unique_id_r), float(row.match_probability))
            for row in rows
            if row.match_probability >= review_above
        ]
        return sorted(pairs, key=lambda pair: (pair.left, pair.right))


def _with_blocks(spark: SparkSession, records: Sequence[CustomerRecord]) -> DataFrame:
    """The compared fields of each record, and its block keys (none for a block too large to compare)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows = []
    for index, record in enumerate(records):
        birth = record.properties.get("birth_date")
        name = record.compared_name
        auto = record.mode is ResolveMode.AUTO
        rows.append(
            {
                "unique_id": index,
                "kind": record.kind.value,
                "has_id": bool(record.national_id),
                "name": name or None,
                "birth_date": str(birth) if birth else None,
                "phone": record.phone_hash or None,
                "address": record.compared_address or None,
                "birth_block": birth_block(str(birth), name) if auto and birth else None,
                "phone_block": record.phone_hash if auto and record.phone_hash else None,
                "name_block": name_block(name, str(birth or "")) if auto and name else None,
            }
        )
    schema = (
        "unique_id long, kind string, has_id boolean, name string, birth_date string, phone string, address string, "
        "birth_block string, phone_block string, name_block string"
    )
    table = spark.createDataFrame(rows, schema)
    for block in BLOCKS:
        column = f"{block}_block"
        size = F.count("*").over(Window.partitionBy("kind", column))
        table = table.withColumn(column, F.when(size <= BLOCK_LIMIT, F.col(column)))
    return table
