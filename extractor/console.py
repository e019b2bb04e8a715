"""Rich consoles for the command lines: full width in a terminal, wide enough for tables in a log."""

from __future__ import annotations

import sys

from rich.console import Console

LOG_WIDTH = 200


def make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else LOG_WIDTH)
