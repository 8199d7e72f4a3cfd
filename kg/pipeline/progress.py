"""Progress for long runs: a bar with done, total and time left, only on a terminal.

>>> bar = Progress("compile", 3, quiet=True)
>>> bar.advance(); bar.close()
"""

from __future__ import annotations

import sys
from typing import Any


class Progress:
    """A tqdm bar on standard error when it is a terminal; silent otherwise."""

    def __init__(self, label: str, total: int, quiet: bool = False) -> None:
        self._bar: Any = None
        if not quiet and total > 1 and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=label, unit="doc", leave=False,
                             file=sys.stderr, dynamic_ncols=True)

    def advance(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
