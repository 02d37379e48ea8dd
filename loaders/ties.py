"""Loading a source of ties between nodes already loaded (family, guarantees, corporate links ...)."""

from __future__ import annotations

from pathlib import Path

from graph.batch import TieData
from graph.model import NodeLabel, TieType
from graph.ties import TieSpec, spec
from loaders.context import LoadContext, Pending, tie_row
from loaders.identifiers import to_half_width
from loaders.mapping import EndRef, Source
from loaders.quarantine import QuarantineReason
from loaders.raw import RawRecord
from loaders.report import SourceReport
from loaders.transform import RowProblem, RowTransform


def load_ties(context: LoadContext, source: Source, files: list[Path]) -> None:
    """Write the ties of each row; a row whose ties were all made by earlier rows counts as merged."""
    context.load_by_rows(source, files, "ties", TieRows)


class TieRows:
    """One tie source's rows, taken one by one (see :class:`loaders.nodes.NodeRows`)."""

    def __init__(self, context: LoadContext, source: Source, report: SourceReport) -> None:
        self.context, self.report = context, report
        self.ends = TieEnds(context, source, context.row_transform(source))

    def take(self, path: Path, raw: RawRecord, batch: Pending) -> None:
        """Add the row's ties to ``batch``, or quarantine it."""
        if raw.problem is not None:
            self.context.refuse(self.report, path, raw, raw.problem, raw.message)
            return
        try:
            ties, keys = self.ends.ties(raw.values)
        except RowProblem as problem:
            self.context.refuse(self.report, path, raw, problem.reason, problem.message)
            return
        self.count(keys)
        batch.ties.extend(ties)
        batch.rows += 1

    def count(self, keys: list[tuple[TieType, str, str]]) -> None:
        """A row whose ties were all made before is merged, else loaded."""
        ties_seen = self.context.ties_seen
        if all(key in ties_seen for key in keys):
            self.report.merged += 1
        else:
            self.report.loaded += 1
        ties_seen.update(keys)


class TieEnds:
    """The ties of one source's rows, with what every row needs looked up once per source."""

    def __init__(self, context: LoadContext, source: Source, transform: RowTransform) -> None:
        assert source.tie is not None and source.source is not None and source.target is not None
        self.context, self.source, self.transform = context, source, transform
        self.tie = source.tie
        self._ends = (source.source, source.target)
        self._ids: dict[NodeLabel, set[str] | dict[str, str]] = {}
        self._specs: dict[TieType, tuple[TieSpec, tuple[tuple[EndRef, NodeLabel, str], ...]]] = {}

    def spec_for(self, tie_type: TieType) -> tuple[TieSpec, tuple[tuple[EndRef, NodeLabel, str], ...]]:
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

    def ids_of(self, label: NodeLabel) -> set[str] | dict[str, str]:
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
            tie_spec, ends = self.spec_for(tie_type)
            found_ends: list[str] = []
            for end, label, prefix in ends:
                key = to_half_width(values.get(end.from_, "")).strip()
                if not key:
                    raise RowProblem(QuarantineReason.MISSING_VALUE, f"tie end column {end.from_} empty")
                ids = self.ids_of(label)
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
