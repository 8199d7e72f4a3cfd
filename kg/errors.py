"""Errors a user can cause, each with the exit code the command line returns.

Exit codes (documented in README.md):

* 0 -- success
* 1 -- the data does not conform (SHACL violations, violation queries with rows)
* 2 -- usage error (unknown sub-command, query or parameter; bad option value)
* 3 -- input could not be read or is invalid (curation, text checksum, query syntax)
* 4 -- a triplestore or remote service failed (connection, authentication, verification)

A :class:`KgError` is printed as ``Error: message (where: ...)`` followed by a hint,
never as a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXIT_OK = 0
EXIT_NOT_CONFORMING = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_REMOTE = 4


@dataclass
class Problem:
    """One thing wrong with an input, located as precisely as we can.

    >>> print(Problem("quote not found", "data/x.yaml", 12, "claim c03", "check the spelling"))
    data/x.yaml:12: claim c03: quote not found
      hint: check the spelling
    """

    message: str
    file: str | None = None
    line: int | None = None
    item: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        item = f"{self.item}: " if self.item else ""
        text = f"{where}{item}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class KgError(Exception):
    """A user-facing error; ``exit_code`` says how the command ends."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, *, hint: str | None = None,
                 problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems = problems or []

    def render(self) -> str:
        lines = [f"Error: {self.message}"]
        for problem in self.problems:
            lines.extend("  " + part for part in str(problem).splitlines())
        if self.hint:
            lines.append(f"Hint: {self.hint}")
        return "\n".join(lines)


class InputError(KgError):
    """Curation, text or query file that cannot be read or is invalid (exit 3)."""

    exit_code = EXIT_INPUT


class UsageError(KgError):
    """The command was called wrongly (exit 2)."""

    exit_code = EXIT_USAGE


class NotConforming(KgError):
    """The graph does not conform to its shapes or checks (exit 1)."""

    exit_code = EXIT_NOT_CONFORMING


class RemoteError(KgError):
    """A triplestore or web service failed or refused (exit 4)."""

    exit_code = EXIT_REMOTE


@dataclass
class ProblemList:
    """Collects problems so a user sees all of them at once, not one per run."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, file: str | None = None, line: int | None = None,
            item: str | None = None, hint: str | None = None) -> None:
        self.problems.append(Problem(message, file, line, item, hint))

    def raise_if_any(self, summary: str) -> None:
        if self.problems:
            ordered = sorted(self.problems, key=lambda p: (p.file or "", p.line or 0))
            raise InputError(f"{summary}: {len(self.problems)} problem(s)", problems=ordered)
