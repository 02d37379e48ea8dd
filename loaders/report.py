"""The load report: per source, rows read = loaded + merged + quarantined, and where the refused rows went."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field
from rich.console import Console
from rich.table import Table

from graph.errors import AccountingError
from graph.model import GraphCounts
from graph.store import WriteResult


class SourceReport(BaseModel):
    """What happened to one source's rows.

    ``loaded``: the row made or updated its node or ties. ``merged``: the row's node or ties were
    already made by an earlier row of this load (another record of the same customer, a repeated tie).
    ``quarantined``: refused, see ``reasons`` and the quarantine file. ``new``, ``updated`` and
    ``unchanged`` count what the written nodes and ties were to the store (a row writes several).
    """

    name: str
    system: str
    role: str  # customers | nodes | ties
    files: list[str]
    rows_read: int = 0
    loaded: int = 0
    merged: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = Field(default_factory=dict)
    nodes_written: int = 0
    ties_written: int = 0
    new: int = 0
    """Nodes and ties this source's writes made (they were not in the store)."""
    updated: int = 0
    """Nodes and ties that were in the store and whose properties this source's writes changed."""
    unchanged: int = 0
    """Nodes and ties that were in the store as this source wrote them: a reload of the same file counts all here."""
    path: str = "rows"
    """How the source was loaded: ``columns`` (the column-wise bulk path) or ``rows``."""
    path_note: str = ""
    """Why a source that could have gone column-wise went row by row."""
    seconds: float = 0.0
    warnings: list[str] = Field(default_factory=list)
    """Loaded, but worth a look: dates in the future or more than 110 years back, by column."""

    def count_written(self, result: WriteResult) -> None:
        """Add what one of the source's writes did to the store."""
        self.nodes_written += result.nodes
        self.ties_written += result.ties
        self.new += result.created
        self.updated += result.updated
        self.unchanged += result.unchanged

    def count_reason(self, reason: str) -> None:
        self.quarantined += 1
        counts = Counter(self.reasons)
        counts[reason] += 1
        self.reasons = dict(sorted(counts.items()))

    def check_accounting(self) -> None:
        """Every row read is accounted for exactly once; raises ``AccountingError`` otherwise."""
        accounted = self.loaded + self.merged + self.quarantined
        if self.rows_read != accounted:
            raise AccountingError(
                f"source {self.name}: {self.rows_read} rows read but {accounted} accounted for "
                f"({self.loaded} loaded + {self.merged} merged + {self.quarantined} quarantined)"
            )

    @property
    def quarantined_share(self) -> float:
        return self.quarantined / self.rows_read if self.rows_read else 0.0

    def top_reasons(self, most: int = 3) -> str:
        """The most frequent quarantine reasons, e.g. ``orphan 4,500, bad_date 3``."""
        counted = sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))[:most]
        return ", ".join(f"{reason} {count:,}" for reason, count in counted)


class LoadReport(BaseModel):
    mapping: str
    mapping_path: str
    seconds: float
    sources: list[SourceReport]
    counts: GraphCounts
    quarantine_path: str
    review_path: str
    review_pending: int
    merged_by_score: int

    @property
    def rows_read(self) -> int:
        return sum(source.rows_read for source in self.sources)

    @property
    def quarantined(self) -> int:
        return sum(source.quarantined for source in self.sources)

    def over_quarantine_share(self, share: float) -> list[str]:
        """One line per source that quarantined more than ``share`` of its rows, with its top reasons."""
        return [
            f"source {source.name}: {source.quarantined:,} of {source.rows_read:,} rows quarantined "
            f"({source.quarantined_share:.1%}, more than {share:.1%}): {source.top_reasons()}"
            for source in self.sources
            if source.quarantined_share > share
        ]

    def write(self, report_dir: Path) -> Path:
        path = report_dir / "report.json"
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        return path


def render(report: LoadReport, console: Console) -> None:
    """A readable summary: one line per source, then the totals and where to look next."""
    table = Table(title=f"Load of {report.mapping} ({report.seconds:.1f} s)")
    headers = ("source", "role", "read", "loaded", "merged", "quarantined", "new", "updated", "unchanged", "reasons")
    for header in headers:
        table.add_column(header, justify="left" if header in ("source", "role", "reasons") else "right")
    for source in report.sources:
        reasons = ", ".join(f"{name} {count}" for name, count in source.reasons.items())
        table.add_row(
            source.name,
            source.role,
            f"{source.rows_read:,}",
            f"{source.loaded:,}",
            f"{source.merged:,}",
            f"[red]{source.quarantined:,}[/red]" if source.quarantined else "0",
            f"{source.new:,}",
            f"{source.updated:,}",
            f"{source.unchanged:,}",
            reasons,
        )
    console.print(table)
    for source in report.sources:
        for warning in source.warnings:
            console.print(f"[yellow]warning[/yellow] {source.name}: {warning}", markup=True, highlight=False)
    rate = report.rows_read / report.seconds if report.seconds else 0.0
    console.print(
        f"{report.rows_read:,} rows read ({rate:,.0f} rows/s), {report.quarantined:,} quarantined -> "
        f"{report.quarantine_path}; {report.review_pending} pairs to review (crm-graph review)."
    )
