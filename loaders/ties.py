"""Loading a source of ties between nodes already loaded (family, guarantees, corporate links ...)."""

from __future__ import annotations

import time
from pathlib import Path

from graph.model import NodeLabel, TieRow, TieType
from graph.ties import spec
from loaders.context import LoadContext, Pending, tie_row
from loaders.identifiers import to_half_width
from loaders.mapping import Source
from loaders.quarantine import QuarantineReason
from loaders.transform import RowProblem, RowTransform


def load_ties(context: LoadContext, source: Source, files: list[Path]) -> None:
    """Write the ties of each row; a row whose ties were all made by earlier rows counts as merged."""
    assert source.tie is not None and source.source is not None and source.target is not None
    started = time.perf_counter()
    report, raws = context.read(source, files, "ties")
    transform = context.row_transform(source)
    ties_seen = context.ties_seen
    batch = Pending()
    done = 0
    for raw_source in raws:
        for raw in raw_source.records:
            done += 1
            if raw.problem is not None:
                context.refuse(report, raw_source.path, raw, raw.problem, raw.message)
                continue
            try:
                ties = _ties(context, source, transform, raw.values)
            except RowProblem as problem:
                context.refuse(report, raw_source.path, raw, problem.reason, problem.message)
                continue
            keys = [_tie_key(tie) for tie in ties]
            if all(key in ties_seen for key in keys):
                report.merged += 1
            else:
                report.loaded += 1
            ties_seen.update(keys)
            batch.ties.extend(ties)
            batch.rows += 1
            if batch.rows >= context.batch_size:
                context.flush(report, batch, done, report.rows_read)
    context.flush(report, batch, report.rows_read, report.rows_read)
    report.seconds = round(time.perf_counter() - started, 3)


def _ties(context: LoadContext, source: Source, transform: RowTransform, values: dict[str, str]) -> list[TieRow]:
    assert source.tie is not None and source.source is not None and source.target is not None
    code = values.get(source.tie.type_from or "", "").strip() if source.tie.type_from else None
    types = source.tie.types_for(code)
    if types is None:
        raise RowProblem(QuarantineReason.UNKNOWN_CODE, f"tie type column {source.tie.type_from}: code not in map")
    typed = transform(values)
    ties: list[TieRow] = []
    for tie_type in types:
        tie_spec = spec(tie_type)
        ends: list[str] = []
        for end, label in ((source.source, tie_spec.source), (source.target, tie_spec.target)):
            key = to_half_width(values.get(end.from_, "")).strip()
            if not key:
                raise RowProblem(QuarantineReason.MISSING_VALUE, f"tie end column {end.from_} empty")
            if label is NodeLabel.CUSTOMER:
                found = context.crosswalk().get(f"{end.system or source.system}:{key}")
            else:
                found = end.prefix + key if end.prefix + key in context.known(label) else None
            if found is None:
                raise RowProblem(QuarantineReason.ORPHAN, f"{tie_type}: no {label} for column {end.from_}")
            ends.append(found)
        if ends[0] == ends[1] and tie_spec.source is tie_spec.target:
            raise RowProblem(QuarantineReason.SELF_TIE, f"{tie_type} from a {tie_spec.source} to itself")
        ties.append(tie_row(tie_type, ends[0], ends[1], typed.properties))
    return ties


def _tie_key(tie: TieRow) -> tuple[TieType, str, str]:
    if spec(tie.type).symmetric and tie.target < tie.source:
        return (tie.type, tie.target, tie.source)
    return (tie.type, tie.source, tie.target)
