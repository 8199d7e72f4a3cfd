"""The main job's closing summary: who conceded what, and what remains disputed.

Both sections are answers of stored queries (``who-conceded-what.rq`` and
``open-issues.rq``), printed for a person, each point with its supporting quote
and who says so.
"""

from __future__ import annotations

import textwrap
from collections import OrderedDict

from kg.build import Paths
from kg.queries import find_query, run
from kg.sparql import Engine, Results

WIDTH = 96


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(text, WIDTH, initial_indent=indent,
                         subsequent_indent=" " * len(indent))


def _cell(results: Results, row: dict[str, object], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value)


def render(concessions: Results, disputed: Results) -> str:
    out = ["WHO CONCEDED WHAT TO WHOM", ""]
    if not concessions.rows:
        out.append("  (no concessions reported)")
    for row in concessions.rows:
        get = lambda name: _cell(concessions, row, name)  # noqa: E731
        when = f" on {get('date')}" if get("date") else " (date not stated)"
        to = f" to {get('counterpart')}" if get("counterpart") else ""
        out.append(_wrap(f"{get('conceder')} conceded{to}{when}, on {get('issue')}: "
                         f"{get('concession')}.", "  * "))
        out.append(_wrap(f'"{get("quote")}"', "      "))
        out.append(_wrap(f"{get('speaker')}'s account, reported by {get('reportedBy')} "
                         f"[{get('document')}]", "      -- "))
        out.append("")
    out += ["WHAT REMAINS DISPUTED, AND WHERE EACH SIDE STANDS", ""]
    by_issue: OrderedDict[str, list[dict[str, object]]] = OrderedDict()
    for row in disputed.rows:
        by_issue.setdefault(_cell(disputed, row, "issue"), []).append(row)
    if not by_issue:
        out.append("  (no disputed issues)")
    for issue, rows in by_issue.items():
        out.append(f"  * {issue}")
        for row in rows:
            get = lambda name, row=row: _cell(disputed, row, name)  # noqa: E731
            out.append(_wrap(f"{get('party')} ({get('act')}): {get('position')}", "      "))
            out.append(_wrap(f'"{get("quote")}"', "          "))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def report(paths: Paths, engine: Engine) -> str:
    concessions = run(find_query("who-conceded-what", paths.queries), engine)
    disputed = run(find_query("open-issues", paths.queries), engine)
    return render(concessions, disputed)
