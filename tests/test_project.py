"""Project folders: the packaged vocabulary, kg init, kg.toml, finding the project, the API.

Each test starts a corpus of its own with `kg init` in a temporary folder and runs the
command line there (the current folder changed with monkeypatch), as a new user would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kg.api import Project
from kg.cli import main
from kg.errors import InputError
from kg.pipeline.cache import environment_key
from kg.project import packaged_ontology, packaged_queries, resolve_paths
from tests.conftest import ROOT


def test_the_repository_links_to_the_packaged_vocabulary() -> None:
    """One source: ontology/ and queries/ are symbolic links to the package data."""
    for name, packaged in (("ontology", packaged_ontology()), ("queries", packaged_queries())):
        link = ROOT / name
        assert link.is_symlink(), f"{name}/ must be a link to kg/vocab/{name}"
        assert link.resolve() == packaged.resolve()
    assert (packaged_ontology() / "rules").is_dir()


def test_the_repository_is_a_project() -> None:
    paths, config = resolve_paths(start=ROOT / "data" / "curation")
    assert config is not None and config.negotiations
    assert paths.data.resolve() == (ROOT / "data").resolve()
    assert paths.build.resolve() == (ROOT / "build").resolve()
    assert paths.project_queries is None  # its queries/ is the packaged folder itself


@pytest.fixture
def mine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A corpus started by `kg init --example`, the current folder inside it."""
    assert main(["init", str(tmp_path / "mine"), "--title", "My corpus", "--example"]) == 0
    monkeypatch.chdir(tmp_path / "mine")
    return tmp_path / "mine"


def test_init_writes_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "potsdam"
    assert main(["init", str(folder), "--negotiation", "potsdam-conference-1945"]) == 0
    assert "next: cd" in capsys.readouterr().out
    for path in ("kg.toml", "README.md", "data/entities.yaml", "data/README.md"):
        assert (folder / path).is_file(), path
    for path in ("data/text", "data/curation", "queries"):
        assert (folder / path).is_dir(), path
    registry = (folder / "data" / "entities.yaml").read_text(encoding="utf-8")
    assert registry.startswith("# yaml-language-server: $schema=")
    assert "potsdam-conference-1945:\n  type: Negotiation" in registry
    toml = (folder / "kg.toml").read_text(encoding="utf-8")
    assert 'title = "potsdam"' in toml and 'negotiations = ["potsdam-conference-1945"]' in toml
    # Never over an existing project.
    assert main(["init", str(folder)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_kg_finds_the_project_from_a_sub_folder(mine: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(mine / "data" / "curation")
    assert main(["build"]) == 0
    out = capsys.readouterr().out
    assert "example-memo: 2 claims" in out
    assert (mine / "build" / "asserted.trig").is_file()
    assert main(["infer"]) == 0
    assert main(["validate"]) == 0
    assert "The graph conforms" in capsys.readouterr().out
    assert not (mine / "data" / "curation" / "build").exists()


def test_outside_any_project_the_error_says_how_to_start_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["build"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Error: registry data/entities.yaml not found")
    assert "kg init" in err and "Traceback" not in err
    with pytest.raises(InputError, match=r"no kg\.toml"):
        Project.open(tmp_path)


@pytest.mark.parametrize(("toml", "message"), [
    ('[project]\ntitel = "x"\n', "[project]: unknown key 'titel'\n    hint: did you mean title?"),
    ('[paths]\ndata = 3\n', "[paths][data]: 3 is not of type 'string'"),
    ('[project]\nbase = "https://example.org/"\n', "differs from the packaged base IRI"),
    ('[project\n', "is not valid TOML"),
    ('[projet]\n', "unknown key 'projet'\n    hint: did you mean project?"),
])
def test_a_bad_kg_toml_is_an_input_error(mine: Path, toml: str, message: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (mine / "kg.toml").write_text(toml, encoding="utf-8")
    assert main(["build"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and message in err and "Traceback" not in err


def test_options_override_the_project(mine: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--build-dir", str(tmp_path / "elsewhere")]) == 0
    assert (tmp_path / "elsewhere" / "asserted.trig").is_file()
    assert not (mine / "build").exists()


QUERY = """#+ summary: Which documents are there? (the project's own query)
#+ columns: document
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX dip: <https://w3id.org/dipkg/ontology#>
SELECT ?document WHERE { ?d a dip:Document ; dcterms:identifier ?document . }
ORDER BY ?document
"""


def test_a_project_query_wins_over_the_packaged_one(mine: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (mine / "queries" / "offers.rq").write_text(QUERY, encoding="utf-8")
    (mine / "queries" / "documents.rq").write_text(QUERY, encoding="utf-8")
    assert main(["build"]) == 0 and main(["infer"]) == 0
    capsys.readouterr()
    assert main(["query", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "offers (project)" in listing and "documents (project)" in listing
    assert "who-conceded-what [--param actor=...] [--param until=...] (packaged)" in listing
    project = Project.open()
    assert project.query("offers") == [{"document": "example-memo"}]
    assert project.query("documents") == [{"document": "example-memo"}]


TERMS = """@prefix dip: <https://w3id.org/dipkg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .

dip:Ultimatum a owl:Class ;
    rdfs:subClassOf dip:Claim ;
    rdfs:label "ultimatum"@en ;
    skos:definition "A demand with a deadline."@en .
"""

SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix dip: <https://w3id.org/dipkg/ontology#> .
@prefix dips: <https://w3id.org/dipkg/shapes#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

dips:ClaimHasDateShape a sh:NodeShape ;
    rdfs:label "claims are dated" ;
    rdfs:comment "In this corpus every claim has a date."@en ;
    sh:targetClass dip:Claim ;
    sh:property [ sh:path dip:date ; sh:minCount 1 ; sh:severity sh:Warning ;
                  sh:message "The claim has no date." ] .
"""


def test_project_terms_and_shapes_are_merged(mine: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """A project's own act type is accepted; its shapes run; the cache key covers both."""
    (mine / "ontology").mkdir()
    (mine / "ontology" / "terms.ttl").write_text(TERMS, encoding="utf-8")
    (mine / "ontology" / "shapes.ttl").write_text(SHAPES, encoding="utf-8")
    toml = (mine / "kg.toml").read_text(encoding="utf-8")
    toml = toml.replace("ontology = []", 'ontology = ["ontology/terms.ttl"]')
    (mine / "kg.toml").write_text(toml.replace("shapes = []", 'shapes = ["ontology/shapes.ttl"]'),
                                  encoding="utf-8")
    curation = mine / "data" / "curation" / "example-memo.yaml"
    text = curation.read_text(encoding="utf-8")
    curation.write_text(text.replace("act: Demand", "act: Ultimatum"), encoding="utf-8")
    paths, _ = resolve_paths()
    before = environment_key(paths.ontology_file, paths.shapes_file)
    assert main(["build"]) == 0 and main(["infer"]) == 0 and main(["validate"]) == 0
    capsys.readouterr()
    # A changed shapes file of the project changes the key every chunk is cached under.
    (mine / "ontology" / "shapes.ttl").write_text(
        SHAPES.replace("sh:Warning", "sh:Violation"), encoding="utf-8")
    paths, _ = resolve_paths()
    assert environment_key(paths.ontology_file, paths.shapes_file) != before
    assert main(["build"]) == 0
    assert "compiled 2 of 2 parts" in capsys.readouterr().out  # document and registry
    # A Turtle error names the project's file, not the merged copy.
    (mine / "ontology" / "terms.ttl").write_text(TERMS + "dip:Broken a .\n", encoding="utf-8")
    assert main(["build"]) == 3
    assert os.path.join("ontology", "terms.ttl") in capsys.readouterr().err


def test_the_api_returns_findings_as_objects(mine: Path) -> None:
    project = Project.open(mine / "data")
    curation = mine / "data" / "curation" / "example-memo.yaml"
    text = curation.read_text(encoding="utf-8")
    curation.write_text(text.replace("modality: done", "modality: done\n    date: 1945-08-01",
                                     1).replace("    date: 1945-07-12\n", "", 1),
                        encoding="utf-8")
    project.build()
    project.infer()
    validation = project.validate()
    assert not validation.conforms
    assert validation.violations and all(f.severity == "Violation"
                                         for f in validation.violations)
    assert any("after its document" in f.message or "planned" in f.message
               for f in validation.violations)


def test_query_as_a_data_frame(mine: Path) -> None:
    project = Project.open()
    project.build()
    project.infer()
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match="needs pandas"):
            project.query("offers", as_frame=True)
        return
    frame = project.query("who-conceded-what", as_frame=True)
    assert list(frame.columns)[:2] == ["conceder", "counterpart"]


@pytest.mark.server
def test_the_api_loads_the_build_into_a_store(mine: Path, tmp_path: Path) -> None:
    from tests.servers import Oxigraph

    project = Project.open()
    project.build()
    project.infer()
    server = Oxigraph(tmp_path / "oxigraph").start()
    try:
        report = project.load(server.url, auth="none")
    finally:
        server.stop()
    graphs = dict(report.graphs)
    assert graphs["https://w3id.org/dipkg/graph/doc/example-memo"] > 0
    assert report.triples == sum(graphs.values())


def test_in_the_repository_queries_override_the_packaged_folder(tmp_path: Path) -> None:
    """--queries DIR replaces the packaged queries; the repository adds none of its own."""
    (tmp_path / "offers.rq").write_text(QUERY, encoding="utf-8")
    paths, _ = resolve_paths(queries=tmp_path, start=ROOT)
    assert paths.query_dirs == [tmp_path]
