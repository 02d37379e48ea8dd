"""The load's ties seen answer as a set of (type, source, target) would, whichever path adds or asks."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pytest

from graph.model import TieType
from loaders.ties_seen import TiesSeen

IDS = ["C1", "C12", "1C", "2", "12", "", "张三", "1:2", "C1C1"]  # "1:2"+"C" and "1"+":2C" must not meet
TYPES = [TieType.SPOUSE_OF, TieType.OWNS]


@pytest.mark.parametrize("seed", range(30))
def test_ties_seen_answers_as_a_set_of_ties(seed: int) -> None:
    rng = random.Random(seed)
    seen, model = TiesSeen(), set[tuple[TieType, str, str]]()
    for _ in range(rng.choice([20, 200])):
        tie_type = rng.choice(TYPES)
        ties = [(tie_type, rng.choice(IDS), rng.choice(IDS)) for _ in range(rng.randrange(1, 8))]
        if rng.random() < 0.5:  # a batch of columns: asked, then its new ties added
            # A batch's ties are distinct (the column-wise path asks about each tie once).
            ties = list(dict.fromkeys(ties))
            sources, targets = pa.array([tie[1] for tie in ties]), pa.array([tie[2] for tie in ties])
            keys = np.array([IDS.index(tie[1]) << 32 | IDS.index(tie[2]) for tie in ties], dtype=np.int64)
            assert seen.seen_columns(tie_type, keys, sources, targets).tolist() == [tie in model for tie in ties]
            new = [index for index, tie in enumerate(ties) if tie not in model]
            chosen = pa.array(new, pa.int64())
            seen.add_columns(tie_type, keys[new], sources.take(chosen), targets.take(chosen))
        else:  # rows, one at a time
            for tie in ties:
                assert (tie in seen) == (tie in model)
                seen.update([tie])
                model.add(tie)
        model.update(ties)
    for tie_type in TYPES:
        for source in IDS:
            for target in IDS:
                assert ((tie_type, source, target) in seen) == ((tie_type, source, target) in model)
