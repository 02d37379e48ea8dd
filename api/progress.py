"""Progress bars for long commands: one bar per stage, fed by the ``progress(stage, done, total)`` callbacks
that the generator, loaders and analytics accept."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

ProgressCallback = Callable[[str, int, int], None]


@contextmanager
def stage_bars(console: Console, width: int = 28) -> Iterator[ProgressCallback]:
    """A callback that adds a bar the first time a stage reports and updates it afterwards.

    A total of 0 means the stage's size is not known. When the console is not a terminal (a log file, a
    pipe, CI), bars would stay invisible until the end, so each stage prints a line as it starts and ends.
    """
    bars = Progress(
        TextColumn(f"{{task.description:<{width}}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    tasks: dict[str, TaskID] = {}
    started: dict[str, float] = {}
    plain = not console.is_terminal

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(stage, total=total or None)
            started[stage] = time.monotonic()
            if plain:
                console.print(f"{stage}: started" + (f", {total:,} to do" if total else ""), highlight=False)
        bars.update(tasks[stage], completed=done, total=total or None)
        if plain and total and done >= total and stage in started:
            seconds = time.monotonic() - started.pop(stage)
            console.print(f"{stage}: done, {done:,} in {seconds:,.1f} s", highlight=False)

    with bars:
        yield progress
