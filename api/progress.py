"""Progress of long commands: one bar per stage on a terminal, a line per stage start and end in a log,
fed by the ``progress(stage, done, total)`` callbacks that the generator, loaders and analytics accept."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from loaders.progress import Count

ProgressCallback = Callable[[str, int, int], None]


@contextmanager
def stage_bars(console: Console, width: int = 28) -> Iterator[ProgressCallback]:
    """A callback that adds a bar the first time a stage reports and updates it afterwards.

    A total of 0 means the stage's size is not known; a :class:`Count` total names its unit. When the
    console is not a terminal (a log file, a pipe, CI), bars would stay invisible until the end and
    then be printed once more with the values they last showed, so no bar is drawn: each stage prints a
    line as it starts and one as it ends, counting what it says it counts.
    """
    if console.is_terminal:
        with _bars(console, width) as progress:
            yield progress
    else:
        yield _log_lines(console)


@contextmanager
def _bars(console: Console, width: int) -> Iterator[ProgressCallback]:
    bars = Progress(
        TextColumn(f"{{task.description:<{width}}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    tasks: dict[str, TaskID] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(stage, total=total or None)
        bars.update(tasks[stage], completed=done, total=total or None)

    with bars:
        yield progress


def _log_lines(console: Console) -> ProgressCallback:
    started: dict[str, float] = {}
    units: dict[str, str] = {}
    ended: set[str] = set()

    def say(stage: str, text: str) -> None:
        console.print(f"{stage}: {text}", highlight=False, markup=False, soft_wrap=True)

    def counted(stage: str, number: int) -> str:
        unit = units.get(stage, "")
        return f"{number:,} {unit.removesuffix('s') if number == 1 else unit}".rstrip()

    def progress(stage: str, done: int, total: int) -> None:
        if isinstance(total, Count):
            units[stage] = total.unit
        # A bare total of 1 is one step: "1 to do" would say nothing.
        counts = total > 1 or stage in units
        if stage not in started:
            started[stage] = time.monotonic()
            say(stage, f"started, {counted(stage, total)} to do" if counts else "started")
        if total and done >= total and stage not in ended:
            ended.add(stage)
            seconds = f"in {time.monotonic() - started[stage]:,.1f} s"
            say(stage, f"done, {counted(stage, done)} {seconds}" if counts else f"done {seconds}")

    return progress
