"""``kg link`` and the link graphs, against the Wikidata stand-in on 127.0.0.1.

The items are made up (Q900001 and up); no test reaches the internet. The
decisions file is checked like every input (file, line, key, hint); verified
links become SKOS mappings that pass the shapes and that OWL RL leaves alone; the
snapshot's facts answer the stored queries.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, SKOS
from rdflib.plugins.sparql import prepareQuery

from kg.build import Paths
from kg.cli import embedded_engine, main
from kg.errors import EXIT_INPUT, EXIT_NOT_CONFORMING, EXIT_OK, EXIT_REMOTE, InputError
from kg.linking import (
    LINKS_HEADER,
    LinkEntry,
    Links,
    assess,
    decision_graph,
    link_graphs,
    load_links,
    render_entry,
    snapshot_graph,
    update_links_file,
    write_snapshot,
)
from kg.namespace import DIP, LINKS_GRAPH, WD, WIKIDATA_GRAPH, entity
from kg.queries import parse_query_file, run
from kg.registry import load_registry
from kg.sparql import to_csv
from kg.wikidata import Item
from kg.yamlio import load_text
from tests.conftest import ROOT, Project
from tests.wikidata_fake import (
    HISTORICAL_COUNTRY,
    HUMAN,
    FakeWikidata,
    link_data,
    loopback_server,
    malformed,
    status,
)
from tests.wikidata_fake import entity as item

CONTACT = "mailto:curator@example.org"

REGISTRY = """\
ivan:
  type: Person
  label: Ivan Testovich
  alt: [Testovich]
  description: A made-up negotiator.
pyotr:
  type: Person
  label: Pyotr Petrov
  description: A made-up envoy.
ruritania:
  type: State
  label: Ruritania
  description: A made-up state.
port-testa:
  type: Place
  label: Port Testa
  description: A made-up port.
ports:
  type: Issue
  label: the ports
  description: The regime of the ports.
  concerns: [port-testa]
"""

LINKS = """\
# Test decisions (this comment must survive --write).

ivan:
  status: candidate
  reason: not yet checked against any source

# --- a section comment that must survive too ---

pyotr:
  wikidata: Q900003
  match: exact
  status: verified
  checked: 2026-01-01
  method: wikidata-api
  source: "Wikidata Action API wbgetentities, item Q900003, revision 5"
ruritania:
  status: candidate
  reason: not yet checked
port-testa:
  status: candidate
  reason: not yet checked
ports:
  status: none
  reason: an issue under negotiation
"""


@pytest.fixture
def fake() -> Iterator[FakeWikidata]:
    with loopback_server(threaded=False) as server:
        yield _items(FakeWikidata(server).install())


def _items(wd: FakeWikidata) -> FakeWikidata:
    wd.add(item("Q900001", "Ivan Testovich", "made-up negotiator", ["Testovich"], types=[HUMAN],
                born="1879-12-18", died="1953-03-05", lastrevid=2001))
    wd.add(item("Q900002", "Ivan Testovich", "made-up painter, a namesake", types=[HUMAN],
                born="1950-01-01"))
    wd.add(item("Q900003", "Pyotr Petrov", "made-up envoy", types=[HUMAN], born="1880-01-01",
                died="1940-05-01"))
    wd.add(item("Q900004", "Ruritania", "made-up country", types=[HISTORICAL_COUNTRY],
                inception="1900-01-01"))
    wd.add(item("Q900005", "Port Testa", "made-up port", types=["Q900050"],
                coordinates=(38.8125, 121.25)))
    return wd


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return link_data(tmp_path / "data", REGISTRY, LINKS)


def link(data: Path, fake: FakeWikidata | None, *args: str) -> int:
    options = ["--data", str(data), "--interval", "0", "--contact", CONTACT]
    if fake is not None:
        options += ["--api", fake.api_url, "--sparql", fake.sparql_url]
    return main(["link", *args, *options])


def links_file(data: Path) -> Links:
    return load_links(data / "links.yaml", load_registry(data / "entities.yaml"))


def links_of(data: Path) -> dict[str, LinkEntry]:
    return links_file(data).entries


# --- status ------------------------------------------------------------------------------

def test_status_lists_every_key_offline(small: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["link", "status", "--data", str(small)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "5 registry keys: 1 verified, 3 candidate, 1 without a link (none), " \
           "0 without a decision" in out
    assert "pyotr" in out and "Q900003" in out


def test_status_shows_keys_without_a_decision(small: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    (small / "links.yaml").write_text(LINKS.split("ruritania:")[0], encoding="utf-8")
    assert main(["link", "status", "--data", str(small)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "3 without a decision" in out and "MISSING" in out


# --- propose -----------------------------------------------------------------------------

def test_propose_ranks_and_records_candidates(small: Path, fake: FakeWikidata,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    before = (small / "links.yaml").read_text(encoding="utf-8")
    assert link(small, fake, "propose", "ivan", "--write") == EXIT_OK
    out = capsys.readouterr().out
    assert out.index("Q900001") < out.index("Q900002"), "the plausible item ranks first"
    assert "implausible: born 1950-01-01, after 1945-07-11" in out
    assert all(ua.startswith("dipkg/") and CONTACT in ua for ua in fake.user_agents)
    entries = links_of(small)
    ivan = entries["ivan"]
    assert ivan.status == "candidate" and ivan.wikidata is None, "a proposal asserts nothing"
    assert [c.id for c in ivan.candidates] == ["Q900001", "Q900002"]
    assert ivan.candidates[0].score > ivan.candidates[1].score
    after = (small / "links.yaml").read_text(encoding="utf-8")
    assert "# Test decisions (this comment must survive --write)." in after
    assert "# --- a section comment that must survive too ---" in after
    assert after.split("pyotr:")[1] == before.split("pyotr:")[1], "other entries untouched"
    assert entries["pyotr"].status == "verified"


def test_propose_never_touches_a_verified_link(small: Path, fake: FakeWikidata,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    before = (small / "links.yaml").read_text(encoding="utf-8")
    assert link(small, fake, "propose", "pyotr", "--write") == EXIT_OK
    assert "verified (Q900003); not re-proposed" in capsys.readouterr().out
    assert (small / "links.yaml").read_text(encoding="utf-8") == before


def test_propose_offline_repeats_from_the_cache(small: Path, fake: FakeWikidata,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert link(small, fake, "propose", "ivan") == EXIT_OK
    online = capsys.readouterr().out
    requests = len(fake.log)
    assert requests >= 2
    # The cache is keyed by URL and parameters: the same --api, but no network.
    assert link(small, fake, "propose", "ivan", "--offline") == EXIT_OK
    assert capsys.readouterr().out == online
    assert len(fake.log) == requests
    assert link(small, fake, "propose", "ruritania", "--offline") == EXIT_INPUT
    err = capsys.readouterr().err
    assert "'Ruritania' is not in the Wikidata cache" in err
    assert "without --offline" in err


def test_online_without_contact_is_a_usage_error(small: Path, fake: FakeWikidata,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("KG_CONTACT", raising=False)
    code = main(["link", "propose", "ivan", "--data", str(small), "--api", fake.api_url])
    assert code == 2
    assert "--contact" in capsys.readouterr().err
    assert not fake.log


# --- check -------------------------------------------------------------------------------

def test_check_reports_redirects_deletions_and_implausible_verified_links(
        small: Path, fake: FakeWikidata, capsys: pytest.CaptureFixture[str]) -> None:
    fake.redirects["Q900006"] = "Q900004"
    text = LINKS.replace("ruritania:\n  status: candidate",
                         "ruritania:\n  wikidata: Q900006\n  status: candidate")
    text = text.replace("port-testa:\n  status: candidate",
                        "port-testa:\n  wikidata: Q900007\n  status: candidate")
    text = text.replace("ivan:\n  status: candidate", "ivan:\n  wikidata: Q900002\n"
                        "  status: candidate")
    (small / "links.yaml").write_text(text, encoding="utf-8")
    assert link(small, fake, "check") == EXIT_NOT_CONFORMING
    out = capsys.readouterr().out
    assert "pyotr: verified Q900003 (Pyotr Petrov): FAILS" in out
    assert "implausible: died 1940-05-01, before 1945-07-11" in out
    assert "Q900006 was merged into Q900004 (a redirect): link Q900004 instead" in out
    assert "Q900007 does not exist (deleted, or never existed)" in out
    assert "implausible: born 1950-01-01" in out
    assert "checked 4 link(s): 4 fail, 1 of them verified" in out


def test_check_label_no_longer_matches(small: Path, fake: FakeWikidata,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    fake.items["Q900003"]["labels"]["en"]["value"] = "Orbital Station Mir"
    text = LINKS.replace("checked: 2026-01-01", "checked: 2026-01-01\n  as_of: 1939-01-01")
    (small / "links.yaml").write_text(text, encoding="utf-8")
    assert link(small, fake, "check", "pyotr") == EXIT_NOT_CONFORMING
    assert "label 'Orbital Station Mir' no longer matches 'Pyotr Petrov'" in (
        capsys.readouterr().out)


def test_check_passes_when_only_candidates_fail(small: Path, fake: FakeWikidata,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    text = LINKS.replace("checked: 2026-01-01", "checked: 2026-01-01\n  as_of: 1939-01-01")
    text = text.replace("ivan:\n  status: candidate", "ivan:\n  wikidata: Q900002\n"
                        "  status: candidate")
    (small / "links.yaml").write_text(text, encoding="utf-8")
    assert link(small, fake, "check") == EXIT_OK
    out = capsys.readouterr().out
    assert "pyotr: verified Q900003 (Pyotr Petrov): ok" in out
    assert "ivan: candidate Q900002 (Ivan Testovich): FAILS" in out


# --- verify ------------------------------------------------------------------------------

def test_verify_records_the_api_as_source(small: Path, fake: FakeWikidata,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert link(small, fake, "verify", "ivan", "Q900001") == EXIT_OK
    assert "nothing written" in capsys.readouterr().out
    assert links_of(small)["ivan"].status == "candidate"
    assert link(small, fake, "verify", "ivan", "Q900001", "--write") == EXIT_OK
    ivan = links_of(small)["ivan"]
    assert (ivan.status, ivan.wikidata, ivan.match, ivan.method) == (
        "verified", "Q900001", "exact", "wikidata-api")
    assert ivan.source is not None
    assert f"Wikidata Action API wbgetentities ({fake.api_url}), item Q900001, " \
           "revision 2001, retrieved " in ivan.source
    assert ivan.evidence == "label 'Ivan Testovich'; description 'made-up negotiator'"
    graph = decision_graph(links_file(small))
    assert (entity("ivan"), SKOS.exactMatch, WD.Q900001) in graph


def test_verify_refuses_an_implausible_item(small: Path, fake: FakeWikidata,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    before = (small / "links.yaml").read_text(encoding="utf-8")
    assert link(small, fake, "verify", "ivan", "Q900002", "--write") == EXIT_NOT_CONFORMING
    out = capsys.readouterr().out
    assert "FAILS the check, nothing recorded" in out and "born 1950-01-01" in out
    assert (small / "links.yaml").read_text(encoding="utf-8") == before


def test_verify_as_of_and_close_match(small: Path, fake: FakeWikidata) -> None:
    assert link(small, fake, "verify", "pyotr", "Q900003", "--as-of", "1939-06-01",
                "--match", "close", "--write") == EXIT_OK
    pyotr = links_of(small)["pyotr"]
    assert pyotr.match == "close" and str(pyotr.as_of) == "1939-06-01"
    graph = decision_graph(links_file(small))
    assert (entity("pyotr"), SKOS.closeMatch, WD.Q900003) in graph
    assert (entity("pyotr"), SKOS.exactMatch, WD.Q900003) not in graph


def test_verify_a_redirect_names_the_target(small: Path, fake: FakeWikidata,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    fake.redirects["Q900006"] = "Q900004"
    assert link(small, fake, "verify", "ruritania", "Q900006", "--write") == EXIT_NOT_CONFORMING
    assert "link Q900004 instead" in capsys.readouterr().out


# --- remote failures through the command -------------------------------------------------------

def test_429_is_waited_out(small: Path, fake: FakeWikidata) -> None:
    fake.script = [status(429, retry_after="1")]
    started = time.monotonic()
    assert link(small, fake, "verify", "ivan", "Q900001") == EXIT_OK
    assert time.monotonic() - started >= 1.0


def test_exhausted_retries_exit_4(small: Path, fake: FakeWikidata,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    fake.script = [status(503, retry_after="0")] * 5
    assert link(small, fake, "check", "--retries", "1") == EXIT_REMOTE
    err = capsys.readouterr().err
    assert "Error: Wikidata did not answer the item Q900003 after 2 attempts: HTTP 503" in err
    assert "Hint:" in err


def test_malformed_answer_exit_4(small: Path, fake: FakeWikidata,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    fake.script = [malformed()]
    assert link(small, fake, "check") == EXIT_REMOTE
    assert "malformed JSON" in capsys.readouterr().err


# --- the decisions file as input -----------------------------------------------------------------

@pytest.mark.parametrize(("edit", "message", "line", "key", "hint"), [
    (("ivan:", "ivn:"), "'ivn' is not a key of the registry", 3, "ivn", "did you mean ivan?"),
    (('  source: "Wikidata Action API wbgetentities, item Q900003, revision 5"\n', ""),
     "a verified link needs source", 10, "pyotr", "a link is verified only when"),
    (("wikidata: Q900003", "wikidata: Q0123"), "wikidata must be an item id like Q42", 10,
     "pyotr", "copy the id from the source"),
    (("  reason: an issue under negotiation\n", ""), "status none needs a reason", 23, "ports",
     "e.g. reason:"),
    (("method: wikidata-api", "method: curator"), "not curator", 14, "pyotr",
     "set status: candidate"),
    (("  status: candidate\n  reason: not yet checked\nport", "  statu: candidate\nport"),
     "unknown field 'statu'", 17, "ruritania", "did you mean status?"),
])
def test_decision_errors_name_file_line_key_and_hint(
        small: Path, edit: tuple[str, str], message: str, line: int, key: str, hint: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = small / "links.yaml"
    text = LINKS.replace(*edit, 1)
    assert text != LINKS
    path.write_text(text, encoding="utf-8")
    assert main(["link", "status", "--data", str(small)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"{path}:{line}: {key}: " in err and message in err, err
    assert hint in err


def test_two_exact_links_to_one_item_are_refused(small: Path) -> None:
    text = LINKS.replace("ivan:\n  status: candidate\n  reason: not yet checked against any "
                         "source", "ivan:\n  wikidata: Q900003\n  status: verified\n"
                         "  checked: 2026-01-01\n  method: stored-source\n  source: a file")
    (small / "links.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        links_of(small)
    assert "already the exact match of" in caught.value.render()


def test_a_malformed_candidate_is_refused_not_truncated(small: Path) -> None:
    """`{id: Q1, Q2, label: ...}` parses with Q2 as a key: an error, not a lost candidate."""
    text = LINKS.replace("ivan:\n  status: candidate\n", "ivan:\n  status: candidate\n"
                         "  candidates:\n    - {id: Q900003, Q900004, label: two items, "
                         "score: 0.5}\n")
    assert text != LINKS
    (small / "links.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        links_of(small)
    rendered = caught.value.render()
    assert "candidate Q900003: unknown field(s) Q900004" in rendered
    assert "links.yaml:" in rendered and "ivan" in rendered


def test_an_item_id_with_a_trailing_newline_is_not_an_id() -> None:
    from kg.wikidata import QID
    assert QID.match("Q42") and not QID.match("Q42\n") and not QID.match("Q042")


def test_build_refuses_a_key_without_decision(small: Path) -> None:
    (small / "links.yaml").write_text(LINKS.split("ruritania:")[0], encoding="utf-8")
    with pytest.raises(InputError) as caught:
        link_graphs(small, load_registry(small / "entities.yaml"))
    text = caught.value.render()
    for key in ("ruritania", "port-testa", "ports"):
        assert f"{key}: no link decision for the registry key '{key}'" in text
    assert "kg link propose ruritania --write" in text


def test_no_links_file_means_no_link_graphs(small: Path) -> None:
    (small / "links.yaml").unlink()
    assert link_graphs(small, load_registry(small / "entities.yaml")) == {}


def test_render_reads_back(small: Path) -> None:
    for entry in links_of(small).values():
        entry.reason = (entry.reason or "") + ' with "quotes", a colon: and Lüshun'
        again = load_text(render_entry(entry), "x")[entry.key]
        assert again.get("reason") == entry.reason
        assert again.get("status") == entry.status
    assert LINKS_HEADER.startswith("# Links from the registry")


def test_compile_asserts_only_verified_links(small: Path) -> None:
    text = LINKS.replace("ivan:\n  status: candidate", "ivan:\n  wikidata: Q900001\n"
                         "  status: candidate")
    (small / "links.yaml").write_text(text, encoding="utf-8")
    graphs = link_graphs(small, load_registry(small / "entities.yaml"))
    graph = graphs[LINKS_GRAPH]
    decision = URIRef("https://w3id.org/dipkg/id/link/ivan")
    assert (decision, DIP.linkStatus, DIP.CandidateLink) in graph
    assert (decision, DIP.linkTarget, WD.Q900001) in graph
    assert not list(graph.triples((entity("ivan"), None, WD.Q900001)))
    assert (entity("pyotr"), SKOS.exactMatch, WD.Q900003) in graph
    assert (URIRef("https://w3id.org/dipkg/id/link/ports"), DIP.linkStatus, DIP.NoLink) in graph
    assert WIKIDATA_GRAPH not in graphs  # no snapshot yet


# --- facts copied from a stored copy (facts:) ------------------------------------------------

STORED = "repository owner/name, file people/pyotr.md (commit 0123456789ab)"
FACTS_LINKS = LINKS.replace(
    '  method: wikidata-api\n  source: "Wikidata Action API wbgetentities, item Q900003, '
    'revision 5"\n',
    f'  method: stored-source\n  source: "{STORED}"\n'
    f'  facts:\n'
    f'    source: "{STORED}"\n'
    f'    born: 1880-01-01          # P569\n'
    f'    died: 1940-05-01          # P570\n'
    f'    evidence: "date_of_birth: 1880-01-01T00:00:00Z"\n')
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
WDT = "http://www.wikidata.org/prop/direct/"


def test_facts_links_differ_from_links() -> None:
    assert FACTS_LINKS != LINKS and "  facts:\n" in FACTS_LINKS
    assert FACTS_LINKS.splitlines()[15] == "  facts:"  # line 16


@pytest.mark.parametrize(("edit", "message", "line", "hint"), [
    (("  status: verified\n  checked", "  status: candidate\n  checked"),
     "only a verified decision with method: stored-source may carry facts", 16,
     "remove facts:"),
    (("method: stored-source", "method: wikidata-api"),
     "only a verified decision with method: stored-source may carry facts", 16,
     "kg link snapshot reads the facts"),
    ((f'    source: "{STORED}"\n    born', "    born"),
     "facts need source:", 16, "repository, file and commit"),
    ((f'    source: "{STORED}"\n', '    source: ""\n'),
     "facts need source:", 17, "repository, file and commit"),
    (("born: 1880-01-01 ", "born: 1880-01-01T00:00:00Z "),
     "facts: born must be a day YYYY-MM-DD", 18, "without a time"),
    (("born: 1880-01-01 ", "born: 1880-13-01 "),
     "facts: born must be a day YYYY-MM-DD", 18, "without a time"),
    (("    died: 1940-05-01          # P570\n",
      '    died: 1940-05-01\n    coordinates: "Point(121.25 138.8)"\n'),
     "facts: coordinates must be \"Point(LONGITUDE LATITUDE)\"", 20, "as Wikidata writes P625"),
    (("    died: 1940-05-01          # P570\n",
      '    died: 1940-05-01\n    coordinates: "38.8 121.25"\n'),
     "facts: coordinates must be", 20, "as Wikidata writes P625"),
    (("    died: 1940-05-01", "    dissolve: 1940-05-01"),
     "facts: unknown field 'dissolve'", 19, "did you mean dissolved?"),
    (("  facts:\n", "  facts: born 1880\n  factz:\n"),
     "facts must be a mapping", 16, None),
])
def test_facts_errors_name_file_line_key_and_hint(
        small: Path, edit: tuple[str, str], message: str, line: int, hint: str | None,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = small / "links.yaml"
    text = FACTS_LINKS.replace(*edit, 1)
    assert text != FACTS_LINKS
    path.write_text(text, encoding="utf-8")
    assert main(["link", "status", "--data", str(small)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"{path}:{line}: pyotr: " in err and message in err, err
    if hint:
        assert hint in err, err


def test_facts_of_one_item_are_given_once(small: Path) -> None:
    text = FACTS_LINKS.replace(
        "port-testa:\n  status: candidate\n  reason: not yet checked\n",
        f'port-testa:\n  wikidata: Q900003\n  match: close\n  status: verified\n'
        f'  checked: 2026-01-01\n  method: stored-source\n  source: "{STORED}"\n'
        f'  facts:\n    source: "{STORED}"\n    coordinates: "Point(121.25 38.8125)"\n')
    (small / "links.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        links_of(small)
    assert "the facts of Q900003 are already copied in the decision for pyotr" in (
        caught.value.render())


def test_facts_render_reads_back(small: Path) -> None:
    path = small / "links.yaml"
    path.write_text(FACTS_LINKS.replace(
        "    died: 1940-05-01          # P570\n",
        '    died: 1940-05-01\n    coordinates: "Point(121.25 38.8125)"\n    label: Pyotr\n'),
        encoding="utf-8")
    entry = links_of(small)["pyotr"]
    assert entry.facts is not None and entry.facts.coordinates == (121.25, 38.8125)
    assert dict(entry.facts.dates) == {"born": date(1880, 1, 1), "died": date(1940, 5, 1)}
    update_links_file(path, {"pyotr": entry})
    assert "  facts:\n    source: " in path.read_text(encoding="utf-8")
    assert links_of(small)["pyotr"].facts == entry.facts


def test_compile_states_copied_facts_with_their_record(small: Path) -> None:
    (small / "links.yaml").write_text(FACTS_LINKS, encoding="utf-8")
    graphs = link_graphs(small, load_registry(small / "entities.yaml"))
    graph = graphs[WIKIDATA_GRAPH]
    assert (WD.Q900003, URIRef(WDT + "P569"), Literal("1880-01-01", datatype=XSD_DATE)) in graph
    assert (WD.Q900003, URIRef(WDT + "P570"), Literal("1940-05-01", datatype=XSD_DATE)) in graph
    record = URIRef("https://w3id.org/dipkg/id/wikidata/Q900003/stored-copy")
    prov = "http://www.w3.org/ns/prov#"
    dcterms = "http://purl.org/dc/terms/"
    assert (record, RDF.type, URIRef(prov + "Entity")) in graph
    assert graph.value(record, URIRef(dcterms + "subject")) == WD.Q900003
    assert graph.value(record, URIRef(dcterms + "source")) == Literal(STORED)
    assert graph.value(record, URIRef(prov + "wasDerivedFrom")) == URIRef(
        "https://w3id.org/dipkg/id/link/pyotr")
    assert graph.value(record, DIP.factOrigin) == DIP.StoredCopy
    assert graph.value(record, DIP.factEvidence) == Literal(
        "date_of_birth: 1880-01-01T00:00:00Z")
    assert len(graph) == 8  # two facts, six about the record


def test_copied_coordinates_are_stated_as_the_snapshot_states_them(small: Path) -> None:
    text = FACTS_LINKS.replace("    died: 1940-05-01          # P570\n",
                               '    coordinates: "Point(121.25 38.8125)"\n')
    (small / "links.yaml").write_text(text, encoding="utf-8")
    graph = link_graphs(small, load_registry(small / "entities.yaml"))[WIKIDATA_GRAPH]
    api = snapshot_graph([Item("Q900003", item("Q900003", "Pyotr Petrov",
                                               coordinates=(38.8125, 121.25)))], "API")
    point = URIRef(WDT + "P625")
    assert set(graph.objects(WD.Q900003, point)) == set(api.objects(WD.Q900003, point))
    assert graph.value(WD.Q900003, point).datatype == URIRef(
        "http://www.opengis.net/ont/geosparql#wktLiteral")


def test_copied_facts_stand_beside_the_snapshot(small: Path) -> None:
    (small / "links.yaml").write_text(FACTS_LINKS, encoding="utf-8")
    api = snapshot_graph([Item("Q900003", item("Q900003", "Pyotr Petrov", types=[HUMAN],
                                               born="1880-01-01", died="1940-05-01",
                                               lastrevid=77))], "Wikidata Action API")
    write_snapshot(small / "wikidata" / "snapshot.ttl", api)
    graph = link_graphs(small, load_registry(small / "entities.yaml"))[WIKIDATA_GRAPH]
    origins = {graph.value(record, DIP.factOrigin): record
               for record in graph.subjects(DIP.factOrigin, None)}
    assert set(origins) == {DIP.WikidataAPI, DIP.StoredCopy}
    assert str(origins[DIP.WikidataAPI]) == "https://w3id.org/dipkg/id/wikidata/Q900003"
    # the same fact from both origins is one triple; each record says where it came from
    assert len(list(graph.objects(WD.Q900003, URIRef(WDT + "P569")))) == 1


def test_real_corpus_negotiator_ages_from_stored_copies() -> None:
    """The golden answer, row by row: the age on 1945-07-11 from each birth date."""
    rows = (ROOT / "tests" / "golden" / "negotiator-ages.csv").read_text(
        encoding="utf-8").splitlines()
    assert rows == [
        "person,item,born,died,age",
        "Franklin D. Roosevelt,http://www.wikidata.org/entity/Q8007,1882-01-30,1945-04-12,",
        "Harry S. Truman,http://www.wikidata.org/entity/Q11613,1884-05-08,1972-12-26,61",
        "Joseph Stalin,http://www.wikidata.org/entity/Q855,1878-12-18,1953-03-05,66",
        "Winston S. Churchill,http://www.wikidata.org/entity/Q8016,1874-11-30,1965-01-24,70",
    ]
    links = load_links(ROOT / "data" / "links.yaml", load_registry(ROOT / "data" /
                                                                   "entities.yaml"))
    for key in ("stalin", "truman", "roosevelt", "churchill"):
        facts = links.entries[key].facts
        assert facts is not None and "SpocWiki/_Standards" in facts.source
        for _, day in facts.dates:
            assert day.isoformat() in (facts.evidence or ""), key


def test_assess_scores() -> None:
    registry = load_registry(ROOT / "data" / "entities.yaml")
    person = registry.entities["stalin"]
    alive = Item("Q900001", item("Q900001", "Joseph Stalin", types=[HUMAN],
                                 born="1878-12-18", died="1953-03-05"))
    ship = Item("Q900002", item("Q900002", "Stalin", types=["Q900099"]))
    assert assess(person, alive).score == 1.0
    judged = assess(person, ship)
    assert judged.score < 0.8 and judged.problems[0].startswith("not a human")


# --- the whole pipeline: snapshot, build, infer, validate, query ----------------------------------

@pytest.fixture
def linked(scratch: Project, fake: FakeWikidata) -> Project:
    """The corpus with two verified (made-up) links and a snapshot from the stand-in."""
    fake.add(item("Q900011", "Joseph Stalin", "made-up item for a test", ["Stalin"],
                  types=[HUMAN], born="1878-12-18", died="1953-03-05", lastrevid=3001))
    fake.add(item("Q900012", "Lushunkou District", "made-up district", types=["Q900050"],
                  coordinates=(38.8125, 121.25), lastrevid=3002))
    fake.add(item("Q900013", "Franklin Testevelt", "made-up president", types=[HUMAN],
                  born="1882-01-30", died="1945-04-12", lastrevid=3003))
    registry = load_registry(scratch.data / "entities.yaml")
    lines = [LINKS_HEADER]
    for key in registry.entities:
        entry = LinkEntry(key, status="none", reason="not needed by this test")
        if key == "stalin":
            entry = LinkEntry(key, status="candidate", reason="to be verified")
        if key == "port-arthur":
            entry = LinkEntry(key, status="candidate", reason="to be verified")
        lines.append("\n" + render_entry(entry))
    (scratch.data / "links.yaml").write_text("".join(lines), encoding="utf-8")
    assert link(scratch.data, fake, "verify", "stalin", "Q900011", "--write") == EXIT_OK
    fake.items["Q900012"]["aliases"]["en"] = [{"language": "en", "value": "Port Arthur"}]
    assert link(scratch.data, fake, "verify", "port-arthur", "Q900012", "--match", "close",
                "--write") == EXIT_OK
    assert link(scratch.data, fake, "snapshot") == EXIT_OK
    assert scratch.run("build") == EXIT_OK
    assert scratch.run("infer") == EXIT_OK
    return scratch


def _asserted(project: Project) -> Dataset:
    return Dataset().parse(project.build / "asserted.trig", format="trig")


def test_snapshot_holds_facts_with_provenance(linked: Project) -> None:
    snapshot = Graph().parse(linked.data / "wikidata" / "snapshot.ttl")
    wdt = "http://www.wikidata.org/prop/direct/"
    assert (WD.Q900011, URIRef(wdt + "P569"),
            Literal("1878-12-18", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date"))
            ) in snapshot
    assert (WD.Q900011, URIRef(wdt + "P31"), WD.Q5) in snapshot
    record = URIRef("https://w3id.org/dipkg/id/wikidata/Q900011")
    assert snapshot.value(record, DIP.itemRevision) == Literal(3001)
    assert snapshot.value(record, URIRef("http://www.w3.org/ns/prov#generatedAtTime"))
    dataset = _asserted(linked)
    assert len(dataset.graph(WIKIDATA_GRAPH)) == len(snapshot)


def test_snapshot_is_deterministic(linked: Project, fake: FakeWikidata) -> None:
    path = linked.data / "wikidata" / "snapshot.ttl"
    first = path.read_bytes()
    requests = len(fake.log)
    assert link(linked.data, fake, "snapshot", "--offline") == EXIT_OK
    assert path.read_bytes() == first and len(fake.log) == requests


def test_verified_links_are_skos_mappings(linked: Project) -> None:
    graph = _asserted(linked).graph(LINKS_GRAPH)
    assert (entity("stalin"), SKOS.exactMatch, WD.Q900011) in graph
    assert (entity("port-arthur"), SKOS.closeMatch, WD.Q900012) in graph
    assert not list(graph.triples((None, OWL.sameAs, None)))


def test_inference_neither_merges_nor_types_wikidata_items(linked: Project) -> None:
    inferred = Dataset().parse(linked.build / "inferred.trig", format="trig")
    triples = list(inferred.quads((None, None, None, None)))
    assert triples
    assert not [t for t in triples if t[1] == OWL.sameAs and str(t[0]).startswith(
        "https://w3id.org/dipkg/id/entity/")]
    wikidata = "http://www.wikidata.org/entity/"
    assert not [t for t in triples if str(t[0]).startswith(wikidata)]
    assert not [t for t in triples if t[1] == RDF.type and str(t[2]).startswith(
        "https://w3id.org/dipkg/ontology#") and str(t[0]).startswith(wikidata)]


def test_the_linked_corpus_conforms(linked: Project,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert linked.run("validate", "--quiet") == EXIT_OK
    assert "The graph conforms" in capsys.readouterr().out


def _paths(project: Project) -> Paths:
    return Paths(data=project.data, ontology=ROOT / "ontology", queries=ROOT / "queries",
                 build=project.build)


def test_negotiator_ages_from_the_snapshot(linked: Project) -> None:
    stored = parse_query_file(ROOT / "queries" / "negotiator-ages.rq")
    answers = [to_csv(run(stored, embedded_engine(_paths(linked), engine)))
               for engine in ("oxigraph", "rdflib")]
    assert answers[0] == answers[1]
    rows = answers[0].splitlines()
    assert rows[0] == "person,item,born,died,age"
    assert rows[1:] == ["Joseph Stalin,http://www.wikidata.org/entity/Q900011,1878-12-18,"
                        "1953-03-05,66"]


def test_places_with_coordinates_from_the_snapshot(linked: Project) -> None:
    stored = parse_query_file(ROOT / "queries" / "places-with-coordinates.rq")
    answers = [to_csv(run(stored, embedded_engine(_paths(linked), engine)))
               for engine in ("oxigraph", "rdflib")]
    assert answers[0] == answers[1]
    rows = answers[0].splitlines()
    assert rows[1:] == ["Port Arthur,http://www.wikidata.org/entity/Q900012,close,38.8125,121.25"]


def test_the_federated_example_parses_and_names_the_wikidata_service() -> None:
    path = ROOT / "queries" / "examples" / "wikidata-federated.rq"
    text = path.read_text(encoding="utf-8")
    assert "SERVICE <https://query.wikidata.org/sparql>" in text
    prepareQuery(text)
