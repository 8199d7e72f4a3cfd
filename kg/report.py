"""The main job's closing summary: who conceded what, and what remains disputed.

Both sections are answers of stored queries (``who-conceded-what.rq`` and
``open-issues.rq``), printed for a person, each point with its supporting quote
and who says so.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from kg.build import Paths
from kg.queries import find_query, run
from kg.sparql import Engine, Results, Term

WIDTH = 96


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent,
                         subsequent_indent=" " * len(indent))


def _text(row: Mapping[str, Term | None], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value)


def _concession(row: Mapping[str, Term | None]) -> list[str]:
    date, counterpart = _text(row, "date"), _text(row, "counterpart")
    when = f" on {date}" if date else " (date not stated)"
    to = f" to {counterpart}" if counterpart else ""
    return [
        _wrap(f"{_text(row, 'conceder')} conceded{to}{when}, on {_text(row, 'issue')}: "
              f"{_text(row, 'concession')}.", "  * "),
        _wrap(f'"{_text(row, "quote")}"', "      "),
        _wrap(f"{_text(row, 'speaker')}'s account, reported by {_text(row, 'reportedBy')} "
              f"[{_text(row, 'document')}]", "      -- "),
        "",
    ]


def render(concessions: Results, disputed: Results) -> str:
    out = ["WHO CONCEDED WHAT TO WHOM", ""]
    if not concessions.rows:
        out.append("  (no concessions reported)")
    for row in concessions.rows:
        out.extend(_concession(row))
    out += ["WHAT REMAINS DISPUTED, AND WHERE EACH SIDE STANDS", ""]
    by_issue: dict[tuple[str, str], list[Mapping[str, Term | None]]] = {}
    for row in disputed.rows:
        by_issue.setdefault((_text(row, "issue"), _text(row, "negotiation")), []).append(row)
    if not by_issue:
        out.append("  (no disputed issues)")
    for (issue, negotiation), positions in by_issue.items():
        out.append(f"  * {issue}" + (f" (in the {negotiation})" if negotiation else ""))
        for position in positions:
            out.append(_wrap(f"{_text(position, 'party')} ({_text(position, 'act')}): "
                             f"{_text(position, 'position')}", "      "))
            out.append(_wrap(f'"{_text(position, "quote")}"', "          "))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def report(paths: Paths, engine: Engine) -> str:
    concessions = run(find_query("who-conceded-what", paths.query_dirs), engine)
    disputed = run(find_query("open-issues", paths.query_dirs), engine)
    return render(concessions, disputed)
