"""The review list: pairs of customers entity resolution was unsure about, and a person's decisions.

Two kinds of pair: records without a usable ID that scored between ``review_above`` and ``merge_above``,
and records that share an ID number but disagree on name or birth date (``differs`` names the fields;
the ID number's customer is on the left). Kept as a JSON file (``settings.review_path``) holding ids,
record refs, the score and field names, no personal data. A pair is identified by its record refs, so
a decision survives reloads: a separated pair is not asked again, a merged pair is merged again by the
resolver.

Merging in the store is one atomic write: the dropped customer's lineage (FROM_SOURCE) and every other
tie are re-pointed to the kept customer, its properties fill gaps in the kept one, its differing name,
birth date, address and phone become aliases of the kept one (``loaders.survivorship``), and the dropped
node is deleted with its old ties. The decision itself stays in the review file.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from graph.batch import TIE_ENDS
from graph.errors import NotFound
from graph.model import NodeLabel, TieRecord, TieRow
from graph.store import MAX_NEIGHBOURS, GraphStore
from loaders.resolve import ReviewCandidate
from loaders.survivorship import merged_aliases


class ReviewPair(BaseModel):
    id: str
    pair_key: str
    left_customer: str
    right_customer: str
    left_records: list[str]
    right_records: list[str]
    probability: float
    differs: list[str] = []  # same ID number, these fields disagree; empty for a pair found by the score
    status: Literal["pending", "merged", "separated"] = "pending"
    decided_at: str | None = None


class ReviewList(BaseModel):
    pairs: list[ReviewPair] = []

    @classmethod
    def read(cls, path: Path) -> ReviewList:
        if not path.exists():
            return cls()
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")

    def pending(self) -> list[ReviewPair]:
        return [pair for pair in self.pairs if pair.status == "pending"]

    def separated_keys(self) -> set[str]:
        return {pair.pair_key for pair in self.pairs if pair.status == "separated"}

    def forced_merges(self) -> list[tuple[str, str]]:
        return [(pair.left_records[0], pair.right_records[0]) for pair in self.pairs if pair.status == "merged"]

    def retired_customers(self) -> set[str]:
        """Customers merged into another by a decision (the right side of each merged pair)."""
        return {pair.right_customer for pair in self.pairs if pair.status == "merged"}

    def update(self, candidates: list[ReviewCandidate]) -> None:
        """Replace pending pairs with this load's candidates; decided pairs stay as they are."""
        decided = {pair.pair_key for pair in self.pairs if pair.status != "pending"}
        kept = [pair for pair in self.pairs if pair.status != "pending"]
        for candidate in candidates:
            if candidate.pair_key in decided:
                continue
            kept.append(
                ReviewPair(
                    id=hashlib.sha256(candidate.pair_key.encode()).hexdigest()[:12],
                    pair_key=candidate.pair_key,
                    left_customer=candidate.left_customer,
                    right_customer=candidate.right_customer,
                    left_records=list(candidate.left_records),
                    right_records=list(candidate.right_records),
                    probability=candidate.probability,
                    differs=list(candidate.differs),
                )
            )
        self.pairs = kept

    def find(self, pair_id: str) -> ReviewPair:
        for pair in self.pairs:
            if pair.id == pair_id:
                return pair
        raise NotFound(f"no review pair with id {pair_id!r}")


def separate(path: Path, pair_id: str) -> ReviewPair:
    """Record that the two customers of a pending pair are different people."""
    review = ReviewList.read(path)
    pair = review.find(pair_id)
    pair.status, pair.decided_at = "separated", _now()
    review.write(path)
    return pair


def merge(store: GraphStore, path: Path, pair_id: str) -> ReviewPair:
    """Merge the right customer of a pair into the left one in the store, and record the decision."""
    review = ReviewList.read(path)
    pair = review.find(pair_id)
    kept, dropped = pair.left_customer, pair.right_customer
    kept_node = store.get_node(NodeLabel.CUSTOMER, kept)
    dropped_node = store.get_node(NodeLabel.CUSTOMER, dropped)
    if kept_node is None or dropped_node is None:
        raise NotFound(f"review pair {pair_id}: a customer of the pair is no longer in the store")
    ties: list[TieRow] = []
    for tie in _ties_of(store, dropped):
        source_is_customer, target_is_customer = (end is NodeLabel.CUSTOMER for end in TIE_ENDS[tie.type])
        source = kept if tie.source == dropped and source_is_customer else tie.source
        target = kept if tie.target == dropped and target_is_customer else tie.target
        if source == target and source_is_customer and target_is_customer:
            continue  # a tie between the two customers of the pair
        ties.append(TieRow(type=tie.type, source=source, target=target, properties=tie.properties))
    filled = {name: value for name, value in dropped_node.properties.items() if name not in kept_node.properties}
    filled |= merged_aliases(kept_node.properties | filled, dropped_node.properties)
    store.write([{"label": kept_node.label, "id": kept, "properties": filled}], ties, [(NodeLabel.CUSTOMER, dropped)])
    pair.status, pair.decided_at = "merged", _now()
    review.write(path)
    return pair


def _ties_of(store: GraphStore, customer_id: str) -> list[TieRecord]:
    """The ties touching the customer: its neighbourhood, or when that is too large every tie naming its id
    (a tie of another node with the same id is left as it is by the re-pointing)."""
    around = store.neighbourhood(NodeLabel.CUSTOMER, customer_id, limit=MAX_NEIGHBOURS)
    if around.omitted == 0:
        return around.ties
    return [tie for tie in store.ties() if customer_id in (tie.source, tie.target)]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def describe(pairs: list[ReviewPair]) -> list[dict[str, object]]:
    """Rows for printing: no personal data, only ids, record refs and the score."""
    return [json.loads(pair.model_dump_json()) for pair in pairs]
