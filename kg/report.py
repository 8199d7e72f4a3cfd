"""The main job's closing summary: who conceded what, and where each issue stood.

``kg report`` reads the standings on one date (``--as-of DATE``; by default the date
of the latest document of the corpus). Every section is the answer of a stored query,
printed for a person, each point with its supporting quote and who says so:

* who conceded what to whom, on or before the date (``who-conceded-what.rq``);
* where each issue of each negotiation stood on the date, and each party's latest
  position on the disputed ones (``standing-on.rq``);
* what third parties (Washington) advised on or before the date
  (``third-party-advice.rq``), kept apart from the parties' positions.
"""

from __future__ import annotations

import datetime
import textwrap
from collections.abc import Mapping

from rdflib import Literal
from rdflib.namespace import XSD

from kg.build import Paths
from kg.queries import StoredQuery, find_query, run
from kg.sparql import Engine, Results, Term

WIDTH = 96
# The order in which statuses are printed, and how each heading reads.
STATUS_ORDER = ("disputed", "open", "agreed", "settled by the final agreement",
                "not yet raised")
# The date a report reads by default: the latest document of the corpus.
LAST_DATE = """
PREFIX dip: <https://w3id.org/dipkg/ontology#>
SELECT (MAX(?date) AS ?last) WHERE { ?document a dip:Document ; dip:date ?date . }
"""


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


def _when(row: Mapping[str, Term | None]) -> str:
    date, basis = _text(row, "positionDate"), _text(row, "dateBasis")
    if not date:
        return ""
    return f"{date}" + (" (the document's date)" if basis == "document's date" else "")


def _standings(standings: Results, as_of: datetime.date) -> list[str]:
    out = [f"WHERE EACH ISSUE STOOD ON {as_of.isoformat()}, AND WHERE EACH SIDE STOOD", ""]
    by_negotiation: dict[str, dict[str, dict[str, list[Mapping[str, Term | None]]]]] = {}
    for row in standings.rows:
        per_status = by_negotiation.setdefault(_text(row, "negotiation"), {})
        per_status.setdefault(_text(row, "status"), {}).setdefault(
            _text(row, "issue"), []).append(row)
    if not by_negotiation:
        out.append("  (no issues)")
    for negotiation, statuses in by_negotiation.items():
        out.append(f"  In the {negotiation}:")
        for status in sorted(statuses, key=lambda s: (STATUS_ORDER.index(s)
                                                      if s in STATUS_ORDER else 99, s)):
            by_issue = statuses[status]
            if status != "disputed":
                out.append(_wrap(f"{status}: " + "; ".join(by_issue), "    - "))
                continue
            for issue, rows in by_issue.items():
                out.append(f"    - disputed: {issue}")
                for position in rows:
                    if not _text(position, "party"):
                        out.append("        (no party's own position on it: disputed through "
                                   "a narrower issue)")
                        continue
                    party, act = _text(position, "party"), _text(position, "act")
                    when = _when(position) or "undated"
                    out.append(_wrap(f"{party} ({act}, {when}): {_text(position, 'position')}",
                                     "        "))
                    quote, doc = _text(position, "quote"), _text(position, "document")
                    out.append(_wrap(f'"{quote}" [{doc}]', "            "))
        out.append("")
    return out


def _advice(advice: Results, as_of: datetime.date) -> list[str]:
    out = [f"WHAT WASHINGTON AND OTHER THIRD PARTIES ADVISED, UP TO {as_of.isoformat()}", ""]
    rows = sorted((r for r in advice.rows if _text(r, "date") <= as_of.isoformat()),
                  key=lambda r: (_text(r, "date"), _text(r, "document"), _text(r, "issueName")))
    if not rows:
        out.append("  (nothing recorded)")
    for row in rows:
        to = f" to {_text(row, 'counterpart')}" if _text(row, "counterpart") else ""
        out.append(_wrap(f"{_text(row, 'date')}, {_text(row, 'adviser')}{to}, on "
                         f"{_text(row, 'issueName')}: {_text(row, 'advice')}", "  * "))
        out.append(_wrap(f'"{_text(row, "quote")}" [{_text(row, "document")}]', "      "))
    out.append("")
    return out


def render(concessions: Results, standings: Results, advice: Results,
           as_of: datetime.date) -> str:
    out = [f"WHO CONCEDED WHAT TO WHOM, UP TO {as_of.isoformat()}", ""]
    if not concessions.rows:
        out += ["  (no concessions reported)", ""]
    for row in concessions.rows:
        out.extend(_concession(row))
    out += _standings(standings, as_of)
    out += _advice(advice, as_of)
    return "\n".join(out).rstrip() + "\n"


def last_date(engine: Engine) -> datetime.date | None:
    """The date of the latest document in the graph (None for an empty graph)."""
    rows = engine.select(LAST_DATE).rows
    value = rows[0].get("last") if rows else None
    if not isinstance(value, Literal) or not isinstance(value.toPython(), datetime.date):
        return None
    result = value.toPython()
    assert isinstance(result, datetime.date)
    return result


def report(paths: Paths, engine: Engine, as_of: datetime.date | None = None) -> str:
    """The report on ``as_of`` (default: the latest document's date)."""
    date = as_of or last_date(engine) or datetime.date.today()
    bound = Literal(date, datatype=XSD.date)
    asks: list[tuple[StoredQuery, dict[str, Term]]] = [
            (find_query("who-conceded-what", paths.query_dirs), {"until": bound}),
            (find_query("standing-on", paths.query_dirs), {"date": bound}),
            (find_query("third-party-advice", paths.query_dirs), {})]
    prefetch = getattr(engine, "prefetch", None)
    if prefetch is not None:  # the cached store: ask the changed ones side by side
        prefetch([(query.text, bindings) for query, bindings in asks])
    concessions, standings, advice = (run(query, engine, bindings) for query, bindings in asks)
    return render(concessions, standings, advice, date)
