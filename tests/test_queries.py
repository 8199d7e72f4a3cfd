"""Stored queries: golden answers, headers that match, both engines agree, errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rdflib.plugins.sparql import prepareQuery

from kg.build import Paths
from kg.cli import embedded_engine, main
from kg.errors import KgError
from kg.queries import StoredQuery, bind, inline_values, list_queries, parse_query_file, run
from kg.sparql import Term, to_csv
from tests.conftest import ROOT, Project, may_be_empty

QUERIES = sorted((ROOT / "queries").glob("*.rq"))
GOLDEN = ROOT / "tests" / "golden"


def paths_of(project: Project) -> Paths:
    return Paths(data=project.data, ontology=ROOT / "ontology", queries=ROOT / "queries",
                 build=project.build)


@pytest.fixture(scope="module")
def engines(built: Project):  # type: ignore[no-untyped-def]
    paths = paths_of(built)
    return embedded_engine(paths, "oxigraph"), embedded_engine(paths, "rdflib")


def test_the_required_queries_exist() -> None:
    names = {p.stem for p in QUERIES}
    required = {"who-conceded-what", "open-issues", "offers", "demands", "agreements",
                "meetings", "attribution", "beyond-yalta", "editorial"}
    assert required <= names


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_header_agrees_with_projected_variables(path: Path) -> None:
    stored = parse_query_file(path)
    assert stored.summary, "every query states its question in a #+ summary: line"
    projected = [str(v) for v in prepareQuery(stored.text).algebra["PV"]]
    assert stored.columns == projected
    assert "ORDER BY" in stored.text.upper(), "results must be ordered deterministically"


def _cases() -> list[tuple[Path, dict[str, str]]]:
    """Every stored query, once per `#+ example:` line (once with no bindings if none)."""
    cases: list[tuple[Path, dict[str, str]]] = []
    for path in QUERIES:
        examples = parse_query_file(path).examples
        cases += [(path, example) for example in examples] or [(path, {})]
    return cases


CASES = _cases()


def _case_id(case: tuple[Path, dict[str, str]]) -> str:
    path, example = case
    return path.stem + ("@" + ",".join(f"{k}={v}" for k, v in example.items()) if example else "")


def _bindings(stored: StoredQuery, example: dict[str, str]) -> dict[str, Term]:
    return bind(stored, [f"{k}={v}" for k, v in example.items()])


def test_a_query_with_required_parameters_has_examples() -> None:
    for path in QUERIES:
        stored = parse_query_file(path)
        if any(not p.optional for p in stored.params.values()):
            assert stored.examples, f"{path.name}: give `#+ example:` bindings for the goldens"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_golden_answers(case: tuple[Path, dict[str, str]], engines,  # type: ignore[no-untyped-def]
                        request: pytest.FixtureRequest) -> None:
    path, example = case
    stored = parse_query_file(path)
    answer = to_csv(run(stored, engines[0], _bindings(stored, example)))
    golden = GOLDEN / f"{_case_id(case)}.csv"
    if request.config.getoption("--update-golden"):
        golden.write_bytes(answer.encode("utf-8"))
    if not golden.exists():
        pytest.fail(f"no golden file {golden.relative_to(ROOT)}: run pytest --update-golden, "
                    "then check every row against the source text")
    assert answer == golden.read_bytes().decode("utf-8")
    if stored.is_violation_check:
        assert answer.count("\r\n") == 1, "a violation check must return no rows"
    elif not may_be_empty(stored.name):
        assert answer.count("\r\n") > 1, "a competency question must have answers"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_rdflib_and_oxigraph_give_the_same_answers(case: tuple[Path, dict[str, str]],
                                                   engines) -> None:  # type: ignore[no-untyped-def]
    path, example = case
    stored = parse_query_file(path)
    bindings = _bindings(stored, example)
    assert to_csv(run(stored, engines[0], bindings)) == to_csv(run(stored, engines[1], bindings))


def test_who_conceded_what_answers_the_cables(engines) -> None:  # type: ignore[no-untyped-def]
    stored = parse_query_file(ROOT / "queries" / "who-conceded-what.rq")
    rows = run(stored, engines[0]).rows
    found = {(str(r["conceder"]), str(r["concession"])) for r in rows}
    assert found == {
        ("Joseph Stalin", "the guards of the railways to be Chinese"),
        ("Joseph Stalin", "no rights to move Soviet troops in Manchuria"),
        ("T. V. Soong", "China to recognize the independence of Outer Mongolia after the war"),
        ("Chiang Kai-shek", "China to recognize the independence of Outer Mongolia after the "
         "war, providing a plebiscite favours independence; not to be announced until after "
         "the war"),
        ("T. V. Soong", "a single Soviet manager of both railroads with a Chinese assistant "
         "manager"),
    }


def test_who_conceded_what_until_a_date(engines) -> None:  # type: ignore[no-untyped-def]
    """`until` keeps concessions dated on or before it (their own date, or the document's)."""
    stored = parse_query_file(ROOT / "queries" / "who-conceded-what.rq")
    rows = run(stored, engines[0], bind(stored, ["until=1945-07-10"])).rows
    assert {str(r["conceder"]) for r in rows} == {"Chiang Kai-shek"}


def test_open_issues_at_the_end_are_the_islands_and_the_ports(engines) -> None:  # type: ignore[no-untyped-def]
    """As the corpus ends, only the new Soviet demand of August (Hurley, Aug. 5) is disputed."""
    stored = parse_query_file(ROOT / "queries" / "open-issues.rq")
    issues = {str(r["issue"]) for r in run(stored, engines[0]).rows}
    assert issues == {"fortification of the islands south of Port Arthur", "the ports"}


# --- Time: standing-on and changes, checked against the words of the documents ---------

def _standing(engines, date: str) -> dict[str, list[dict[str, str]]]:  # type: ignore[no-untyped-def]
    """standing-on rows of the Sino-Soviet negotiation on a date, by issue."""
    stored = parse_query_file(ROOT / "queries" / "standing-on.rq")
    rows = run(stored, engines[0], bind(stored, [f"date={date}"])).rows
    by_issue: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        if str(row["negotiation"]) == "Sino-Soviet negotiations of 1945":
            by_issue.setdefault(str(row["issue"]), []).append(
                {k: "" if v is None else str(v) for k, v in row.items()})
    return by_issue


def _status(rows: list[dict[str, str]]) -> str:
    statuses = {r["status"] for r in rows}
    assert len(statuses) == 1, statuses
    return statuses.pop()


def test_standing_on_july_7(engines) -> None:  # type: ignore[no-untyped-def]
    issues = _standing(engines, "1945-07-07")
    # Telegram 071545: "Stalin's demand for formal recognition of the independence of
    # Outer Mongolia" is Soong's "principal worry"; he is still "trying to find a formula":
    # the issue is raised but neither agreed nor disputed.
    mongolia = issues["status of Outer Mongolia"]
    assert _status(mongolia) == "open"
    stalin = [r for r in mongolia if r["party"] == "Joseph Stalin"]
    assert [(r["act"], r["quote"], r["positionDate"], r["dateBasis"]) for r in stalin] == [
        ("demand", "Stalin’s demand for formal recognition of the independence of Outer "
         "Mongolia", "1945-07-07", "document's date")]
    # The management of the railways is first reported in dispute on July 11.
    assert _status(issues["control of the management of the railways"]) == "not yet raised"
    # July 1 cable: "Stalin agreed and stated that such relations were equally important to
    # the Soviet Union" (the night of June 30).
    relations = issues["Sino-Soviet relations"]
    assert _status(relations) == "agreed"
    assert any(r["quote"].startswith("Stalin agreed and stated that such relations")
               and r["positionDate"] == "1945-06-30" and r["dateBasis"] == "act's own date"
               for r in relations)


def test_standing_on_july_10_outer_mongolia_is_agreed(engines) -> None:  # type: ignore[no-untyped-def]
    # July 10 cable: "Agreement appears to have been reached over Outer Mongolia. After the
    # war the Generalissimo agrees that China will recognize the independence of Outer
    # Mongolia, providing a plebiscite is held which favors independence."
    mongolia = _standing(engines, "1945-07-10")["status of Outer Mongolia"]
    assert _status(mongolia) == "agreed"
    chiang = [r for r in mongolia if r["party"] == "Chiang Kai-shek"]
    assert [(r["act"], r["positionDate"]) for r in chiang] == [("concession", "1945-07-09")]
    assert chiang[0]["quote"].startswith("After the war the Generalissimo agrees that China "
                                         "will recognize the independence of Outer Mongolia")


def test_standing_on_july_11(engines) -> None:  # type: ignore[no-untyped-def]
    issues = _standing(engines, "1945-07-11")
    # July 11 cable: "The final point not agreed to regarding the railroads is control of
    # the management. Stalin still insists on a majority of the directors which Soong has
    # resisted."
    management = issues["control of the management of the railways"]
    assert _status(management) == "disputed"
    assert {(r["party"], r["act"], r["quote"]) for r in management} == {
        ("Joseph Stalin", "demand", "Stalin still insists on a majority of the directors"),
        ("T. V. Soong", "rejection", "which Soong has resisted"),
        ("T. V. Soong", "offer", "Soong's offer is for joint operation with equal "
         "participation in the management and the board"),
    }
    assert _status(issues["status of Outer Mongolia"]) == "agreed"
    # "Generalissimo Stalin agreed, after long argument, that the guards should be Chinese"
    assert _status(issues["guards of the railways"]) == "agreed"
    assert _status(issues["fortification of the islands south of Port Arthur"]) == \
        "not yet raised"


def test_standing_on_august_14(engines) -> None:  # type: ignore[no-untyped-def]
    issues = _standing(engines, "1945-08-14")
    # Telegram 141040: "Board of Directors of the railroads will be equally Chinese and
    # Soviet but one of Chinese will be chairman ... In return for this Soong ... has agreed
    # that there should be a single Soviet manager of both railroads".
    management = issues["control of the management of the railways"]
    assert _status(management) == "settled by the final agreement"
    soong = [r for r in management if r["party"] == "T. V. Soong"]
    assert {r["act"] for r in soong} == {"agreement", "concession"}
    assert all(r["positionDate"] == "1945-08-13" for r in soong)
    for issue in ("military zone under Soviet control", "regime of the port of Dairen",
                  "guards of the railways", "Port Arthur as a Soviet naval base",
                  "ownership and lease of the port facilities of Dairen"):
        assert _status(issues[issue]) == "settled by the final agreement", issue
    # Hurley, August 5: "Soviet has made new demand that China agree not to fortify islands
    # for a hundred miles south of Port Arthur. Dr. Soong said China will not agree"; the
    # stored copy of telegram 141040 breaks off before saying whether the agreement
    # settled it.
    islands = issues["fortification of the islands south of Port Arthur"]
    assert _status(islands) == "disputed"
    assert {(r["party"], r["act"]) for r in islands} == {
        ("Union of Soviet Socialist Republics", "demand"), ("Republic of China", "rejection")}
    # Washington's advice of August 11 on the railway gauge is not a position of a party:
    # the gauge is no issue of the negotiation.
    assert "gauge of the railways" not in issues


def test_changes_from_july_11_to_august_14_list_the_settled_issues(engines) -> None:  # type: ignore[no-untyped-def]
    stored = parse_query_file(ROOT / "queries" / "changes.rq")
    rows = run(stored, engines[0], bind(stored, ["from=1945-07-11", "to=1945-08-14"])).rows
    moves = {(str(r["issue"]), str(r["statusBefore"]), str(r["statusAfter"])) for r in rows}
    for issue in ("control of the management of the railways",
                  "military zone under Soviet control", "regime of the port of Dairen"):
        assert (issue, "disputed", "settled by the final agreement") in moves
    assert ("guards of the railways", "agreed", "settled by the final agreement") in moves
    assert ("fortification of the islands south of Port Arthur", "not yet raised",
            "disputed") in moves
    # The acts that changed the management: the agreed board and Soong's concession.
    management = [r for r in rows
                  if str(r["issue"]) == "control of the management of the railways"]
    assert ("T. V. Soong", "concession", "a Soviet majority of the directors of the railways"
            ) not in {(str(r["party"]), str(r["act"]), str(r["position"])) for r in management}
    stalin = [r for r in management if str(r["party"]) == "Joseph Stalin"]
    assert {str(r["positionBefore"]) for r in stalin} == {
        "a Soviet majority of the directors of the railways"}
    assert {str(r["quote"]) for r in stalin} == {
        "Board of Directors of the railroads will be equally Chinese and Soviet but one of "
        "Chinese will be chairman and in case of a difference the chairman will have the "
        "deciding vote"}
    # Outer Mongolia, agreed on July 9, did not change.
    assert "status of Outer Mongolia" not in {m[0] for m in moves}


def test_third_party_advice_keeps_washington_apart(engines) -> None:  # type: ignore[no-untyped-def]
    stored = parse_query_file(ROOT / "queries" / "third-party-advice.rq")
    rows = run(stored, engines[0]).rows
    advisers = {str(r["adviser"]) for r in rows}
    assert advisers <= {"Harry S. Truman", "James F. Byrnes", "Harry S. Truman and James F. "
                        "Byrnes", "United States of America", "W. Averell Harriman"}
    assert {(str(r["date"]), str(r["issueName"])) for r in rows} >= {
        ("1945-07-04", "status of Outer Mongolia"),
        ("1945-07-23", "Chinese concurrence in the Yalta terms"),
        ("1945-08-11", "gauge of the railways")}
    truman = [r for r in rows if str(r["document"]) == "1945-07-23-truman-to-chiang"
              and str(r["issueName"]) == "Chinese concurrence in the Yalta terms"]
    assert [str(r["quote"]) for r in truman] == [
        "I asked that you carry out the Yalta agreement but I had not asked that you make any "
        "concession in excess of that agreement"]


def test_yalta_outcome_names_who_gave_way_and_who_judged(engines) -> None:  # type: ignore[no-untyped-def]
    stored = parse_query_file(ROOT / "queries" / "yalta-outcome.rq")
    rows = {str(r["issueName"]): r for r in run(stored, engines[0]).rows}
    mongolia = rows["status of Outer Mongolia"]
    assert str(mongolia["yaltaQuote"]).startswith("The status quo in Outer-Mongolia")
    assert "Chiang Kai-shek: China to recognize the independence" in str(mongolia["gaveWay"])
    assert ('T. V. Soong (reported by W. Averell Harriman): goes beyond the agreement '
            '("he feels he has gone beyond the Yalta agreement"') in str(mongolia["judgements"])
    railroads = rows["the railroads"]
    assert "with a Chinese chairman who has the deciding vote" in str(railroads["finallyAgreed"])
    assert str(rows["transfer of the Kuril Islands"]["finallyAgreed"]) == "none reported"


def test_parameters_are_bound(built: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert built.run("query", "who-conceded-what", "--param", "actor=soong",
                     "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    conceders = {b["conceder"]["value"] for b in doc["results"]["bindings"]}
    assert conceders == {"T. V. Soong"}


def test_a_hostile_parameter_value_is_refused(built: Project,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = built.run("query", "offers", "--param", "actor=x> } ?s ?p ?o { <y")
    assert code == 2
    assert "is neither a registry key nor an IRI" in capsys.readouterr().err


def test_inline_values_escapes_literals() -> None:
    from rdflib import Literal
    text = inline_values('SELECT ?x WHERE { ?x ?p ?o }', {"x": Literal('a" } DROP ALL')})
    assert 'VALUES (?x) { ("a\\" } DROP ALL") }' in text


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "table"])
def test_formats(built: Project, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert built.run("query", "beyond-yalta", "--format", fmt) == 0
    out = capsys.readouterr().out
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert rows[0][:3] == ["party", "claim", "quote"]
        assert rows[1][2] == "he feels he has gone beyond the Yalta agreement"
    elif fmt == "tsv":
        assert out.splitlines()[0].startswith("?party\t?claim\t?quote")
        assert '"he feels he has gone beyond the Yalta agreement"' in out
    elif fmt == "json":
        doc = json.loads(out)
        assert doc["head"]["vars"][0] == "party"
        assert doc["results"]["bindings"][0]["party"] == {"type": "literal",
                                                          "value": "T. V. Soong"}
    else:
        assert "T. V. Soong" in out and "(1 row)" in out


def test_unknown_query(built: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert built.run("query", "who-concede-what") == 2
    err = capsys.readouterr().err
    assert "Error: unknown query 'who-concede-what'" in err
    assert "did you mean who-conceded-what?" in err


def test_syntax_error_names_file_and_line(built: Project, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.rq"
    broken.write_text("#+ summary: broken\nSELECT ?s\nWHERE {\n  ?s ?p \n}\n", encoding="utf-8")
    assert built.run("query", str(broken)) == 3
    err = capsys.readouterr().err
    assert f"{broken}:5: SPARQL syntax error" in err


def test_unknown_parameter(built: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert built.run("query", "offers", "--param", "speaker=soong") == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'speaker' for query offers" in err
    assert "parameters of offers: actor" in err


def test_missing_parameter(built: Project, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    query = tmp_path / "by-party.rq"
    query.write_text("#+ summary: claims by a party\n#+ columns: claim\n"
                     "#+ param: party iri - the party\n"
                     "PREFIX dip: <https://w3id.org/dipkg/ontology#>\n"
                     "SELECT ?claim WHERE { ?claim dip:actor ?party } ORDER BY ?claim\n",
                     encoding="utf-8")
    assert built.run("query", str(query)) == 2
    assert "missing parameter 'party' for query by-party" in capsys.readouterr().err
    assert built.run("query", str(query), "--param", "party=stalin", "--format", "csv") == 0
    assert len(capsys.readouterr().out.splitlines()) > 5


def test_missing_build_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "offers", "--queries", str(ROOT / "queries"),
                 "--ontology", str(ROOT / "ontology"), "--build-dir", str(tmp_path / "none")])
    assert code == 3
    assert "does not exist" in capsys.readouterr().err


def test_list(built: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert built.run("query", "--list") == 0
    out = capsys.readouterr().out
    assert "who-conceded-what [--param actor=...]" in out


def test_every_query_file_parses() -> None:
    for stored in list_queries(ROOT / "queries"):
        assert stored.columns, stored.name


@pytest.mark.parametrize("name", ["who-conceded-what", "offers", "demands"])
@pytest.mark.parametrize("party", ["stalin", "soong", "truman"])
def test_bound_parameters_give_the_same_answers_on_both_engines(
        engines, name: str, party: str) -> None:  # type: ignore[no-untyped-def]
    from kg.queries import bind
    stored = parse_query_file(ROOT / "queries" / f"{name}.rq")
    bindings = bind(stored, [f"actor={party}"])
    oxigraph = to_csv(run(stored, engines[0], bindings))
    assert oxigraph == to_csv(run(stored, engines[1], bindings))
    unbound = to_csv(run(stored, engines[0]))
    assert set(oxigraph.splitlines()) <= set(unbound.splitlines())


def test_a_registry_key_of_the_wrong_type_is_refused(
        built: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """`dairen` is a place, not an issue: an error, not an empty answer."""
    assert built.run("query", "positions-over-time", "--param", "issue=dairen") == 2
    err = capsys.readouterr().err
    assert "issue: 'dairen' is of type Place, not Issue" in err
    assert "dairen-port-regime" in err  # the issues it may have meant
    assert built.run("query", "offers", "--param", "actor=ports") == 2
    assert "actor: 'ports' is of type Issue, not Government or Person or State" in \
        capsys.readouterr().err


def test_a_bad_parameter_type_declaration_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "q.rq"
    path.write_text("#+ param: x string:Issue - no\nSELECT ?x WHERE { ?x ?p ?o }\n",
                    encoding="utf-8")
    with pytest.raises(KgError) as failure:
        parse_query_file(path)
    assert "iri:Type|Type" in failure.value.render()


def test_a_bad_example_declaration_is_an_error(built: Project, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "q.rq"
    path.write_text("#+ summary: a query\n#+ columns: x\n#+ param: date date - a date\n"
                    "#+ example: 1945-07-11\nSELECT ?x WHERE { ?x ?p ?o } ORDER BY ?x\n",
                    encoding="utf-8")
    code = main(["query", str(path), "--param", "date=1945-07-11",
                 "--build-dir", str(built.build)])
    err = capsys.readouterr().err
    assert code == 3
    assert err.startswith("Error: bad example declaration")
    assert "q.rq:4: #+ example: 1945-07-11" in err
    assert "write `#+ example: NAME=VALUE [NAME=VALUE...]`" in err
    assert "Traceback" not in err


def test_standing_on_requires_its_date(built: Project,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert built.run("query", "standing-on") == 2
    err = capsys.readouterr().err
    assert "missing parameter 'date' for query standing-on" in err
    assert built.run("query", "standing-on", "--param", "date=July 11") == 2
    assert "date: 'July 11' is not a date" in capsys.readouterr().err


def test_a_misspelt_registry_key_is_refused(built: Project,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert built.run("query", "who-conceded-what", "--param", "actor=stallin") == 2
    err = capsys.readouterr().err
    assert "actor: 'stallin' is not a key of the entity registry" in err
    assert "did you mean stalin?" in err


def test_missing_queries_folder_is_explained(built: Project, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["query", "open-issues", "--queries", str(tmp_path / "nowhere"),
                 "--build-dir", str(built.build)])
    assert code == 3
    assert "stored queries folder" in capsys.readouterr().err


def test_missing_query_file_is_an_input_error(built: Project,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert built.run("query", "no-such-file.rq") == 3
    assert "query file no-such-file.rq does not exist" in capsys.readouterr().err
