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
from kg.queries import inline_values, list_queries, parse_query_file, run
from kg.sparql import to_csv
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


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_golden_answers(path: Path, engines, request: pytest.FixtureRequest) -> None:  # type: ignore[no-untyped-def]
    stored = parse_query_file(path)
    answer = to_csv(run(stored, engines[0]))
    golden = GOLDEN / f"{stored.name}.csv"
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


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_rdflib_and_oxigraph_give_the_same_answers(path: Path, engines) -> None:  # type: ignore[no-untyped-def]
    stored = parse_query_file(path)
    assert to_csv(run(stored, engines[0])) == to_csv(run(stored, engines[1]))


def test_who_conceded_what_answers_the_cable(engines) -> None:  # type: ignore[no-untyped-def]
    stored = parse_query_file(ROOT / "queries" / "who-conceded-what.rq")
    rows = run(stored, engines[0]).rows
    found = {(str(r["conceder"]), str(r["concession"])) for r in rows}
    assert found == {
        ("Joseph Stalin", "the guards of the railways to be Chinese"),
        ("Joseph Stalin", "no rights to move Soviet troops in Manchuria"),
        ("T. V. Soong", "China to recognize the independence of Outer Mongolia after the war"),
    }


def test_open_issues_are_the_ports_and_railway_management(engines) -> None:  # type: ignore[no-untyped-def]
    stored = parse_query_file(ROOT / "queries" / "open-issues.rq")
    issues = {str(r["issue"]) for r in run(stored, engines[0]).rows}
    assert issues == {"control of the management of the railways",
                      "military zone under Soviet control", "regime of the port of Dairen"}


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
