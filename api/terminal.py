"""The command line's console: wrapped to the width of a terminal, unwrapped everywhere else."""

from __future__ import annotations

from rich.console import Console, ConsoleDimensions

UNWRAPPED_WIDTH = 10_000
"""Columns offered when the output is not a terminal: no line of ours comes near it, so none is wrapped."""


class CommandConsole(Console):
    """A rich console that wraps text and fits tables to the terminal only when it writes to one.

    Into a pipe, a log file or a test's capture, rich would wrap at ``$COLUMNS`` (or 80), so what a script
    or a test reads would depend on the width of whichever terminal started it, and a path or a command
    line could be broken in two. There every line is kept whole. The choice is made at each print, because
    the stream can change after the console is made (``CliRunner`` swaps ``sys.stderr``); it looks at the
    stream itself, so ``FORCE_COLOR`` still colours a log without making it wrap.
    """

    @property
    def size(self) -> ConsoleDimensions:
        dimensions = super().size
        if self._writes_to_terminal():
            return dimensions
        return ConsoleDimensions(UNWRAPPED_WIDTH, dimensions.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size

    def _writes_to_terminal(self) -> bool:
        isatty = getattr(self.file, "isatty", None)
        try:
            return bool(isatty is not None and isatty())
        except ValueError:  # a closed stream
            return False
