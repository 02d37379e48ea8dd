"""A synthetic Chinese commercial bank: source-system exports, a mapping file and the ground truth.

``generate(customers, seed, out)`` writes the core, cards, wealth, loans and crm exports into ``out``,
with ``mapping.yaml`` (valid for :class:`loaders.mapping.Mapping`), ``ground_truth.json`` (the world's
mechanisms and parameters, who left when, injected bad rows) and ``README.md``. Same seed and world, same bytes.
The world (``effects.WORLDS``) says whether churn and product uptake spread along ties, have shared causes,
both or neither.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from loaders.generator import files_accounts, files_crm, files_customers, population, truth
from loaders.generator.common import Progress, child_rng
from loaders.generator.effects import DEFAULT_WORLD, WORLDS
from loaders.generator.export import SourceFile, line_numbers, write
from loaders.mapping import Mapping
from loaders.progress import Count

__all__ = ["DEFAULT_WORLD", "WORLDS", "GenerationSummary", "generate"]


class GenerationSummary(BaseModel):
    """What ``generate`` wrote."""

    customers: int
    persons: int
    companies: int
    accounts: int
    world: str
    churned: int
    taken_up_in_window: int
    bad_rows: int
    normalised: int
    files: dict[str, int]  # relative path -> data rows written (bad rows included)
    bytes: int
    seconds: float


def _files(data: population.Bank, seed: int) -> list[Any]:
    """Builders of every export, in loading order; each gets its own random stream."""

    def rng(name: str) -> Any:
        return child_rng(seed, "files", name)

    return [
        lambda: files_customers.core_persons(data, rng("persons")),
        lambda: files_customers.core_companies(data, rng("companies")),
        lambda: files_customers.card_customers(data, rng("cards")),
        lambda: files_accounts.products(),
        *[
            (lambda system=system: files_accounts.account_file(data, system, rng(system)))
            for system in files_accounts.LAYOUTS
        ],
        lambda: files_accounts.guarantees(data, rng("guarantees")),
        lambda: files_crm.staff_files(data),
        lambda: files_crm.interactions(data, rng("interactions")),
        lambda: files_crm.relation_files(data, rng("relations")),
    ]


def generate(
    customers: int, seed: int, out: Path, progress: Progress | None = None, world: str = DEFAULT_WORLD
) -> GenerationSummary:
    """Simulate ``customers`` customers in ``world`` and write the bank's exports into ``out``.

    ``progress(stage, done, total)`` is called as the simulation's steps finish, then as each export is written.
    """
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    data = population.build(customers, seed, progress, world)
    builders = _files(data, seed)
    written: list[SourceFile] = []
    rows: dict[str, int] = {}
    bad_rows: list[dict[str, Any]] = []
    normalised: list[dict[str, Any]] = []
    card_truth: list[dict[str, Any]] = []
    exports = Count(len(builders), "exports")
    if progress is not None:
        progress("write the exports", 0, exports)
    for done, builder in enumerate(builders):
        made = builder()
        if isinstance(made, tuple):  # the card customers come with the entity-resolution truth
            made, card_truth = made
        for file in made if isinstance(made, list) else [made]:
            rows[file.path] = write(out, file)
            bad_lines, clean_lines = line_numbers(file)
            for item, line in zip(file.bad, bad_lines, strict=True):
                (source, reason), *also = item.reasons.items()
                bad_rows.append(
                    {
                        "file": file.path,
                        "line": line,
                        "source": source,
                        "reason": str(reason),
                        "field": item.field,
                        "also": {s: str(r) for s, r in also},
                        "note": item.note,
                    }
                )
            for entry, line in zip(file.normalised, clean_lines, strict=True):
                normalised.append(
                    {"file": file.path, "line": line, "source": entry.source, "field": entry.field, "note": entry.note}
                )
            file.rows = ()  # let the row data go
            written.append(file)
        if progress is not None:
            progress("write the exports", done + 1, exports)
    document = truth.mapping_document(written)
    Mapping.model_validate(document)  # never write a mapping file the loader would refuse
    (out / "mapping.yaml").write_text(
        yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8"
    )
    truth_document = truth.ground_truth(data, bad_rows, normalised, card_truth)
    (out / "ground_truth.json").write_text(json.dumps(truth_document, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "README.md").write_text(truth.readme(data, written, rows, len(bad_rows)), encoding="utf-8")
    size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    return GenerationSummary(
        customers=data.n,
        persons=data.n_person,
        companies=data.n - data.n_person,
        accounts=len(data.accounts),
        world=data.world.name,
        churned=int(data.churn.churned.sum()),
        taken_up_in_window=int(data.measured["taken_up_in_window"]),  # type: ignore[call-overload]
        bad_rows=len(bad_rows),
        normalised=len(normalised),
        files=rows,
        bytes=size,
        seconds=round(time.perf_counter() - started, 2),
    )
