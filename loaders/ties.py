"""Loading a source of ties between nodes already loaded (family, guarantees, corporate links ...)."""

from __future__ import annotations

import time
from pathlib import Path

from graph.batch import TieData
from graph.model import NodeLabel, TieType
from graph.ties import TieSpec, spec
from loaders.context import LoadContext, Pending, tie_row
from loaders.identifiers import to_half_width
from loaders.mapping import EndRef, Source
from loaders.quarantine import QuarantineReason
from loaders.transform import RowProblem, RowTransform


def load_ties(context: LoadContext, source: Source, files: list[Path]) -> None:
    """Write the ties of each row; a row whose ties were all made by earlier rows counts as merged."""
    assert source.tie is not None and source.source is not None and source.target is not None
    started = time.perf_counter()
    report, records, total = context.stream(source, files, "ties")
    ends = _TieEnds(context, source, context.row_transform(source))
    ties_seen = context.ties_seen
    batch = Pending()
    done = 0
    for path, raw in records:
        done += 1
        if raw.problem is not None:
            context.refuse(report, path, raw, raw.problem, raw.message)
            continue
        try:
            ties, keys = ends.ties(raw.values)
        except RowProblem as problem:
            context.refuse(report, path, raw, problem.reason, problem.message)
            continue
        if all(key in ties_seen for key in keys):
            report.merged += 1
        else:
            report.loaded += 1
        ties_seen.update(keys)
        batch.ties.extend(ties)
        batch.rows += 1
        if batch.rows >= context.batch_size:
            context.flush(report, batch, done, total)
    context.finish(report, batch)
    report.seconds = round(time.perf_counter() - started, 3)


class _TieEnds:
    """The ties of one source's rows, with what every row needs looked up once per source."""

    def __init__(self, context: LoadContext, source: Source, transform: RowTransform) -> None:
        assert source.tie is not None and source.source is not None and source.target is not None
        self.context, self.source, self.transform = context, source, transform
        self.tie = source.tie
        self._ends = (source.source, source.target)
        self._ids: dict[NodeLabel, set[str] | dict[str, str]] = {}
        self._specs: dict[TieType, tuple[TieSpec, tuple[tuple[EndRef, NodeLabel, str], ...]]] = {}

    def _spec(self, tie_type: TieType) -> tuple[TieSpec, tuple[tuple[EndRef, NodeLabel, str], ...]]:
        found = self._specs.get(tie_type)
        if found is None:
            tie_spec = spec(tie_type)
            labels = (tie_spec.source, tie_spec.target)
            ends = tuple(
                (end, label, f"{end.system or self.source.system}:" if label is NodeLabel.CUSTOMER else end.prefix)
                for end, label in zip(self._ends, labels, strict=True)
            )
            found = self._specs[tie_type] = (tie_spec, ends)
        return found

    def _lookup(self, label: NodeLabel) -> set[str] | dict[str, str]:
        # Read from the context on first use only, as before: the crosswalk and the known ids are
        # filled lazily from the store, then kept up to date in place.
        found = self._ids.get(label)
        if found is None:
            found = self._ids[label] = (
                self.context.crosswalk() if label is NodeLabel.CUSTOMER else self.context.known(label)
            )
        return found

    def ties(self, values: dict[str, str]) -> tuple[list[TieData], list[tuple[TieType, str, str]]]:
        """A row's ties and their keys (symmetric ties from the smaller id); raises :class:`RowProblem`."""
        tie = self.tie
        code = values.get(tie.type_from or "", "").strip() if tie.type_from else None
        types = tie.types_for(code)
        if types is None:
            raise RowProblem(QuarantineReason.UNKNOWN_CODE, f"tie type column {tie.type_from}: code not in map")
        properties = self.transform(values).properties
        ties: list[TieData] = []
        keys: list[tuple[TieType, str, str]] = []
        for tie_type in types:
            tie_spec, ends = self._spec(tie_type)
            found_ends: list[str] = []
            for end, label, prefix in ends:
                key = to_half_width(values.get(end.from_, "")).strip()
                if not key:
                    raise RowProblem(QuarantineReason.MISSING_VALUE, f"tie end column {end.from_} empty")
                ids = self._lookup(label)
                if label is NodeLabel.CUSTOMER:
                    assert isinstance(ids, dict)
                    found = ids.get(prefix + key)
                else:
                    found = prefix + key if prefix + key in ids else None
                if found is None:
                    raise self.context.orphan(label, prefix + key, f"{tie_type}: no {label} for column {end.from_}")
                found_ends.append(found)
            tie_source, tie_target = found_ends
            if tie_source == tie_target and tie_spec.source is tie_spec.target:
                raise RowProblem(QuarantineReason.SELF_TIE, f"{tie_type} from a {tie_spec.source} to itself")
            ties.append(tie_row(tie_type, tie_source, tie_target, properties))
            if tie_spec.symmetric and tie_target < tie_source:
                keys.append((tie_type, tie_target, tie_source))
            else:
                keys.append((tie_type, tie_source, tie_target))
        return ties, keys
