"""Type confirmation through the Wikidata Query Service, against the stand-in on 127.0.0.1.

``kg link propose``, ``check`` and ``verify`` confirm each item's type with one
batched Query Service request per run (``?item wdt:P31/wdt:P279* ?class``), so an
item typed with a narrower class (a subclass of historical country) is confirmed.
When the Query Service fails, the commands fall back to the direct P31 and say so,
unless ``--strict-types``. The items and classes are made up (Q900101 and up).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib.plugins.sparql import prepareQuery
from werkzeug import Request, Response

from kg import __version__
from kg.cli import main
from kg.errors import EXIT_INPUT, EXIT_OK, EXIT_REMOTE, RemoteError
from kg.linking import (
    VIA_DIRECT,
    VIA_QUERY,
    TypeCheck,
    assess,
    load_links,
    parse_type_bindings,
    type_query,
)
from kg.registry import load_registry
from kg.wikidata import Item
from tests.wikidata_fake import (
    HISTORICAL_COUNTRY,
    HUMAN,
    SPARQL_JSON,
    FakeWikidata,
    link_data,
    loopback_server,
    malformed,
    slow,
    status,
)
from tests.wikidata_fake import entity as item

CONTACT = "mailto:curator@example.org"
CONFIRMED_BY_QUERY = f"type: confirmed, {VIA_QUERY}"
FALLBACK = "type from direct P31 only: query service unavailable ("
NOT_BY_P31 = "type not confirmed: instance of Q900160, not Q6256, Q3024240 or Q3624078 " \
             "(direct P31 only)"
NOT_A_SUBCLASS = "not a subclass of Q6256, Q3024240 or Q3624078 (query service)"

REGISTRY = """\
ivan:
  type: Person
  label: Ivan Testovich
  description: A made-up negotiator.
ruritania:
  type: State
  label: Ruritania
  description: A made-up kingdom, typed in Wikidata with a narrower class.
fenwick:
  type: State
  label: Grand Fenwick
  description: A made-up duchy whose item has no state class at all.
port-testa:
  type: Place
  label: Port Testa
  description: A made-up port (places have no type check).
"""

LINKS = """\
ivan:
  wikidata: Q900101
  match: exact
  status: verified
  checked: 2026-01-01
  method: wikidata-api
  source: "Wikidata Action API wbgetentities, item Q900101, revision 5"
ruritania:
  wikidata: Q900104
  status: candidate
  reason: not yet checked
fenwick:
  wikidata: Q900105
  status: candidate
  reason: not yet checked
port-testa:
  wikidata: Q900106
  status: candidate
  reason: not yet checked
"""


@pytest.fixture
def fake() -> Iterator[FakeWikidata]:
    with loopback_server() as server:
        yield _items(FakeWikidata(server).install())


def _items(wd: FakeWikidata) -> FakeWikidata:
    wd.add(item("Q900101", "Ivan Testovich", "made-up negotiator", types=[HUMAN],
                born="1879-12-18", died="1953-03-05"))
    wd.add(item("Q900102", "Ivan Testovich", "made-up namesake", types=[HUMAN],
                born="1890-01-01"))
    # Ruritania is an instance of a made-up class two subclass steps below
    # historical country: its direct P31 alone does not confirm it.
    wd.add(item("Q900104", "Ruritania", "made-up kingdom", types=["Q900160"],
                inception="1900-01-01"))
    wd.add(item("Q900160", "made-up former monarchy", subclass_of=["Q900161"]))
    wd.add(item("Q900161", "made-up former realm", subclass_of=[HISTORICAL_COUNTRY]))
    wd.add(item("Q900107", "Ruritania", "made-up novel", types=["Q900162"]))
    wd.add(item("Q900105", "Grand Fenwick", "made-up hill", types=["Q900170"],
                inception="1400-01-01"))
    wd.add(item("Q900106", "Port Testa", "made-up port", types=["Q900171"],
                coordinates=(38.8125, 121.25)))
    return wd


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return link_data(tmp_path / "data", REGISTRY, LINKS)


def link(data: Path, fake: FakeWikidata, *args: str) -> int:
    return main(["link", *args, "--data", str(data), "--interval", "0", "--contact", CONTACT,
                 "--api", fake.api_url, "--sparql", fake.sparql_url])


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def block(out: str, start: str) -> str:
    """The line of ``out`` starting with ``start`` and the lines indented below it."""
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    end = next((i for i in range(first + 1, len(lines))
                if _indent(lines[i]) <= _indent(lines[first])), len(lines))
    return "\n".join(lines[first:end])


# --- the query ----------------------------------------------------------------------------

def test_the_query_binds_validated_ids_with_values() -> None:
    query = type_query(["Q900104", "Q900101", "Q900104", "Q900010"])
    assert "VALUES ?item { wd:Q900010 wd:Q900101 wd:Q900104 }" in query, query
    assert "VALUES ?class { wd:Q5 wd:Q6256 wd:Q3024240 wd:Q3624078 }" in query
    assert "?item wdt:P31/wdt:P279* ?class ." in query
    prepareQuery(query)  # valid SPARQL 1.1 (the prefixes are declared)
    assert type_query(["Q900101", "Q900104"]) == type_query(["Q900104", "Q900101"])
    for bad in ("Q0", "Q12 } ?x ?y ?z . VALUES ?item { wd:Q1", "P31", "q42", "Q42\n", ""):
        with pytest.raises(ValueError):
            type_query(["Q900101", bad])


def test_bindings_that_are_not_wikidata_items_are_refused() -> None:
    good = {"item": {"type": "uri", "value": "http://www.wikidata.org/entity/Q900104"},
            "class": {"type": "uri", "value": "http://www.wikidata.org/entity/Q3024240"}}
    assert parse_type_bindings([good], ["Q900104", "Q900105"]) == {
        "Q900104": frozenset({HISTORICAL_COUNTRY}), "Q900105": frozenset()}
    literal = {**good, "class": {"type": "literal", "value": "Q3024240"}}
    with pytest.raises(RemoteError):
        parse_type_bindings([literal], ["Q900104"])
    with pytest.raises(RemoteError):
        parse_type_bindings(["Q900104"], ["Q900104"])


def test_assess_with_and_without_the_query(data: Path) -> None:
    registry = load_registry(data / "entities.yaml")
    state = registry.entities["ruritania"]
    narrow = Item("Q900104", item("Q900104", "Ruritania", types=["Q900160"],
                                  inception="1900-01-01"))
    direct = assess(state, narrow)
    assert (direct.type_ok, direct.type_via, direct.score) == (False, VIA_DIRECT, 0.86)
    assert direct.notes[0] == NOT_BY_P31
    queried = assess(state, narrow, types=TypeCheck({"Q900104": frozenset({HISTORICAL_COUNTRY})}))
    assert (queried.type_ok, queried.type_via, queried.score) == (True, VIA_QUERY, 1.0)
    assert queried.notes == [] and queried.type_summary == CONFIRMED_BY_QUERY
    denied = assess(state, narrow, types=TypeCheck({"Q900104": frozenset()}))
    assert denied.type_ok is False and NOT_A_SUBCLASS in denied.notes[0]
    person = registry.entities["ivan"]
    ship = Item("Q900108", item("Q900108", "Ivan Testovich", types=["Q900163"]))
    judged = assess(person, ship, types=TypeCheck({"Q900108": frozenset()}))
    assert judged.problems[0] == "not a human: instance of Q900163, not Q5, nor of a subclass of it"


# --- through the commands ---------------------------------------------------------------------

def test_subclass_typed_state_is_confirmed_by_the_query(data: Path, fake: FakeWikidata,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    assert link(data, fake, "propose", "ruritania") == EXIT_OK
    out = capsys.readouterr().out
    row = block(out, "  1.00  Q900104")
    assert f"Ruritania -- made-up kingdom  [names 1.00; {CONFIRMED_BY_QUERY}]" in row
    assert "type not confirmed" not in row
    novel = block(out, "  0.76  Q900107")  # a namesake of another class: not confirmed
    assert "type: not confirmed, query service (P31/P279*)" in novel
    assert FALLBACK not in out
    assert len(fake.sparql_log) == 1
    sent = fake.sparql_log[0]
    assert sent["format"] == "json" and "maxlag" not in sent
    assert "VALUES ?item { wd:Q900104 wd:Q900107 }" in sent["query"]
    assert fake.sparql_accepts == ["application/sparql-results+json"]
    assert fake.user_agents[-1].startswith(f"dipkg/{__version__} ({CONTACT}) python-requests/")


def test_one_query_for_every_candidate_of_the_run(data: Path, fake: FakeWikidata,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    unverified = LINKS.replace("status: verified", "status: candidate")
    (data / "links.yaml").write_text(unverified, encoding="utf-8")
    assert link(data, fake, "propose", "ivan", "ruritania", "fenwick", "port-testa") == EXIT_OK
    out = capsys.readouterr().out
    assert len(fake.sparql_log) == 1, "one Query Service request, not one per item"
    query = fake.sparql_log[0]["query"]
    # Every candidate of a Person or State, none of the Place's (it has no type check).
    assert "VALUES ?item { wd:Q900101 wd:Q900102 wd:Q900104 wd:Q900105 wd:Q900107 }" in query
    assert CONFIRMED_BY_QUERY in block(out, "  1.00  Q900101")
    assert CONFIRMED_BY_QUERY in block(out, "  1.00  Q900104")
    fenwick = block(out, "fenwick (State: Grand Fenwick)")
    assert "type: not confirmed, query service (P31/P279*)" in fenwick
    assert NOT_A_SUBCLASS in fenwick
    assert "type:" not in block(out, "port-testa (Place: Port Testa)")

    fake.sparql_log.clear()
    assert link(data, fake, "check") == EXIT_OK
    out = capsys.readouterr().out
    assert len(fake.sparql_log) == 1
    assert "VALUES ?item { wd:Q900101 wd:Q900104 wd:Q900105 }" in fake.sparql_log[0]["query"]
    assert CONFIRMED_BY_QUERY in block(out, "ruritania: candidate Q900104")
    assert CONFIRMED_BY_QUERY in block(out, "ivan: candidate Q900101")


def test_verify_records_how_the_type_was_confirmed(data: Path, fake: FakeWikidata,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert link(data, fake, "verify", "ruritania", "Q900104", "--write") == EXIT_OK
    out = capsys.readouterr().out
    assert CONFIRMED_BY_QUERY in out and "note:" not in out
    entry = load_links(data / "links.yaml", load_registry(data / "entities.yaml")
                       ).entries["ruritania"]
    assert entry.status == "verified" and entry.reason is not None
    assert f"(score 1.00); {CONFIRMED_BY_QUERY}." in entry.reason
    assert len(fake.sparql_log) == 1


def test_query_429_waits_for_retry_after(data: Path, fake: FakeWikidata,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    fake.sparql_script = [status(429, retry_after="1")]
    started = time.monotonic()
    assert link(data, fake, "check", "ruritania") == EXIT_OK
    assert time.monotonic() - started >= 1.0
    out = capsys.readouterr().out
    assert len(fake.sparql_log) == 2
    assert FALLBACK not in out and CONFIRMED_BY_QUERY in out


@pytest.mark.parametrize("failure", ["500", "timeout"])
@pytest.mark.parametrize("action", [["check"], ["propose", "ruritania"],
                                    ["verify", "ruritania", "Q900104"]])
def test_query_service_down_falls_back_to_direct_p31(
        data: Path, fake: FakeWikidata, capsys: pytest.CaptureFixture[str],
        action: list[str], failure: str) -> None:
    def stage() -> None:
        fake.sparql_log.clear()
        fake.sparql_script = ([status(500)] * 2 if failure == "500"
                              else [slow(1.0)] * 2)

    options = ["--retries", "1", "--timeout", "0.4"]
    stage()
    assert link(data, fake, *action, *options) == EXIT_OK
    out = capsys.readouterr().out
    assert len(fake.sparql_log) == 2, "retried, then given up"
    assert FALLBACK in out
    reason = "HTTP 500" if failure == "500" else "no answer within 0.4 s"
    assert (f"{FALLBACK}Wikidata did not answer the type query after 2 attempts: {reason} "
            f"({fake.sparql_url}))") in out
    assert f"type: not confirmed, {VIA_DIRECT}" in out
    assert NOT_BY_P31 in out

    stage()
    assert link(data, fake, *action, *options, "--strict-types") == EXIT_REMOTE
    captured = capsys.readouterr()
    assert "the Query Service could not confirm the types and --strict-types was given" in (
        captured.err)
    assert "drop --strict-types" in captured.err
    assert "recorded" not in captured.out


def test_malformed_query_answer_falls_back_and_is_not_cached(
        data: Path, fake: FakeWikidata, capsys: pytest.CaptureFixture[str]) -> None:
    fake.sparql_script = [malformed()]
    assert link(data, fake, "check", "ruritania") == EXIT_OK
    out = capsys.readouterr().out
    assert f"{FALLBACK}Wikidata answered the type query with malformed JSON" in out
    assert f"type: not confirmed, {VIA_DIRECT}" in out
    fake.sparql_script = [malformed()]
    assert link(data, fake, "check", "ruritania", "--strict-types") == EXIT_REMOTE
    assert "malformed JSON" in capsys.readouterr().err
    # Nothing was cached: the next run asks again and gets a proper answer.
    assert link(data, fake, "check", "ruritania") == EXIT_OK
    assert CONFIRMED_BY_QUERY in capsys.readouterr().out
    assert len(fake.sparql_log) == 3


def test_answer_of_the_wrong_shape_falls_back_and_is_not_cached(
        data: Path, fake: FakeWikidata, capsys: pytest.CaptureFixture[str]) -> None:
    def literals(request: Request) -> Response:
        return Response('{"head": {"vars": ["item", "class"]}, "results": {"bindings": ['
                        '{"item": {"type": "literal", "value": "Q900104"}, '
                        '"class": {"type": "literal", "value": "Q3024240"}}]}}',
                        content_type=SPARQL_JSON)

    fake.sparql_script = [literals]
    assert link(data, fake, "check", "ruritania") == EXIT_OK
    assert "other than Wikidata items" in capsys.readouterr().out
    assert link(data, fake, "check", "ruritania", "--offline") == EXIT_OK
    assert f"{FALLBACK}the type query is not in the Wikidata cache" in capsys.readouterr().out


def test_offline_reuses_the_cached_query_answer(data: Path, fake: FakeWikidata,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert link(data, fake, "check") == EXIT_OK
    online = capsys.readouterr().out
    assert CONFIRMED_BY_QUERY in online and FALLBACK not in online
    requests = len(fake.log)
    assert link(data, fake, "check", "--offline", "--strict-types") == EXIT_OK
    assert capsys.readouterr().out == online
    assert len(fake.log) == requests, "no request at all offline"
    # The items are cached, but not a query on another set of items: fall back and say
    # so, or with --strict-types stop as on any other cache miss (exit 3).
    assert link(data, fake, "check", "ruritania", "--offline") == EXIT_OK
    out = capsys.readouterr().out
    assert (f"{FALLBACK}the type query is not in the Wikidata cache and --offline was given)"
            in out)
    assert f"type: not confirmed, {VIA_DIRECT}" in out
    assert link(data, fake, "check", "ruritania", "--offline", "--strict-types") == EXIT_INPUT
    assert "the type query is not in the Wikidata cache" in capsys.readouterr().err
    assert len(fake.log) == requests
