"""The incremental pipeline against the whole-graph reference, and its caching.

The fast path must give the same graph, findings and answers as the reference path:
owlrl's closure, one whole-graph pySHACL run, rdflib's writers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Dataset, Graph
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from kg.build import Paths
from kg.cli import main
from kg.export import flatten, graph_files, read_dataset
from kg.pipeline.run import Pipeline
from kg.validate import validate_files

from .conftest import ROOT, Project


def _paths(data: Path, build: Path) -> Paths:
    return Paths(data=data, ontology=ROOT / "ontology", queries=ROOT / "queries", build=build)


def _run(data: Path, build: Path) -> Pipeline:
    pipeline = Pipeline(_paths(data, build), quiet=True)
    pipeline.build()
    pipeline.infer()
    return pipeline


def _diff(ours: Graph, reference: Graph) -> str:
    _, only_ours, only_reference = graph_diff(to_isomorphic(ours), to_isomorphic(reference))
    return (f"only in ours: {sorted(only_ours)[:5]}\n"
            f"only in the reference: {sorted(only_reference)[:5]}")


def test_fast_closure_equals_owlrl(tmp_path: Path) -> None:
    """The per-chunk closure derives exactly owlrl's (cleaned) OWL 2 RL closure."""
    _run(ROOT / "data", tmp_path / "fast")
    folders = ["--data", str(ROOT / "data"), "--ontology", str(ROOT / "ontology"),
               "--build-dir", str(tmp_path / "ref")]
    assert main(["infer", "--reasoner", "owlrl", *folders]) == 3  # nothing built there yet
    assert main(["build", *folders]) == 0
    assert main(["infer", "--reasoner", "owlrl", *folders]) == 0
    fast = (tmp_path / "fast" / "inferred.nt").read_bytes()
    slow = (tmp_path / "ref" / "inferred.nt").read_bytes()
    assert fast.count(b"\n") > 1000
    assert fast == slow


def test_the_ontology_uses_only_axioms_the_fast_closure_covers() -> None:
    from kg.build import load_ontology
    from kg.pipeline.closure import Closure

    assert Closure(load_ontology(ROOT / "ontology" / "dip.ttl")).unsupported == []


def test_outputs_equal_the_whole_graph_writers(tmp_path: Path) -> None:
    """N-Quads and N-Triples byte for byte; TriG, Turtle and JSON-LD as the same graphs."""
    _run(ROOT / "data", tmp_path / "b")
    out = tmp_path / "b"
    dataset = read_dataset(out / "asserted.nq")
    graphs = {g.identifier: g for g in dataset.graphs() if len(g)}
    reference = graph_files(tmp_path / "ref" / "asserted", graphs)  # type: ignore[arg-type]
    for suffix in (".nq", ".nt"):
        assert (out / f"asserted{suffix}").read_text(encoding="utf-8") == \
            reference[tmp_path / "ref" / f"asserted{suffix}"]
    union = flatten(dataset)
    turtle = Graph().parse(out / "asserted.ttl", format="turtle")
    assert isomorphic(turtle, union), _diff(turtle, union)
    jsonld = Dataset()
    jsonld.parse(out / "asserted.jsonld", format="json-ld")
    assert sorted(jsonld.quads()) == sorted(dataset.quads())
    trig = Dataset()
    trig.parse(out / "asserted.trig", format="trig")
    for graph in dataset.graphs():
        if len(graph):
            assert isomorphic(trig.graph(graph.identifier), graph), graph.identifier
    inferred = Graph().parse(out / "inferred.nt", format="nt")
    for suffix, fmt in ((".ttl", "turtle"), (".jsonld", "json-ld"), (".trig", "trig")):
        parsed = Dataset()
        parsed.parse(out / f"inferred{suffix}", format=fmt)
        assert isomorphic(flatten(parsed), inferred), suffix


def test_outputs_are_deterministic(tmp_path: Path) -> None:
    _run(ROOT / "data", tmp_path / "one")
    _run(ROOT / "data", tmp_path / "two")
    for path in sorted((tmp_path / "one").glob("*.*")):
        assert path.read_bytes() == (tmp_path / "two" / path.name).read_bytes(), path.name


def _findings(pipeline: Pipeline) -> list[tuple[str, ...]]:
    result = pipeline.validate()
    return sorted({(f["severity"], f["focus"], f["path"], f["message"], f["value"], f["shape"])
                   for f in result.findings})


def _reference(build: Path) -> list[tuple[str, ...]]:
    result = validate_files([build / "asserted.nq", build / "inferred.nq"],
                            ROOT / "ontology" / "shapes.ttl", ROOT / "ontology" / "dip.ttl",
                            None)
    return sorted({(f.severity, f.focus, f.path, f.message, f.value, f.shape)
                   for f in result.findings})


def test_findings_equal_one_whole_graph_pyshacl_run(tmp_path: Path) -> None:
    pipeline = _run(ROOT / "data", tmp_path / "b")
    assert _findings(pipeline) == _reference(tmp_path / "b") == []


def test_findings_on_a_broken_corpus_equal_the_reference(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    registry = data / "entities.yaml"
    # Soong is no longer a party (his concessions and offers break PartyActorShape, a
    # SPARQL constraint), and one claim is dated after its document (another one).
    text = registry.read_text(encoding="utf-8")
    assert "  parties: [soong, stalin, " in text
    registry.write_text(text.replace("  parties: [soong, stalin, ", "  parties: [stalin, ", 1),
                        encoding="utf-8")
    cable = data / "curation" / "1945-07-11-harriman-soong.yaml"
    cable.write_text(cable.read_text(encoding="utf-8").replace(
        "    date: 1945-07-11\n    time_expression: tonight",
        "    date: 1945-07-19\n    time_expression: tonight", 1), encoding="utf-8")
    pipeline = _run(data, tmp_path / "b")
    ours = _findings(pipeline)
    assert len(ours) >= 3
    shapes = {f[5].rsplit("#", 1)[-1].rstrip(">") for f in ours}
    assert shapes >= {"PartyActorShape", "ClaimShape"}, shapes
    assert ours == _reference(tmp_path / "b")


def _parts(data: Path) -> int:
    """Chunks of a corpus: each document, the registry and the link decisions."""
    return len(list((data / "curation").glob("*.yaml"))) + 2


def _rebuilt(data: Path, build: Path) -> list[str]:
    return Pipeline(_paths(data, build), quiet=True).build().rebuilt


def _shorten_a_quote(data: Path) -> tuple[Path, str]:
    """Shorten one claim's quote in the cable; return the file and its text before."""
    cable = data / "curation" / "1945-07-11-harriman-soong.yaml"
    text = cable.read_text(encoding="utf-8")
    assert 'quote: "Stalin received Soong for another talk tonight"' in text
    cable.write_text(text.replace('quote: "Stalin received Soong for another talk tonight"',
                                  'quote: "Stalin received Soong for another talk"'),
                     encoding="utf-8")
    return cable, text


def test_only_what_changed_is_rebuilt(scratch: Project) -> None:
    build = scratch.build
    assert len(_rebuilt(scratch.data, build)) == _parts(scratch.data)
    assert _rebuilt(scratch.data, build) == []
    before = (build / "asserted.nq").read_bytes()
    cable, text = _shorten_a_quote(scratch.data)
    assert _rebuilt(scratch.data, build) == ["doc/1945-07-11-harriman-soong"]
    assert (build / "asserted.nq").read_bytes() != before
    cable.write_text(text, encoding="utf-8")
    assert _rebuilt(scratch.data, build) == ["doc/1945-07-11-harriman-soong"]
    assert (build / "asserted.nq").read_bytes() == before


ASSERTED = ("nq", "nt", "trig", "jsonld", "ttl")


def test_an_edit_rewrites_only_its_documents_parts_of_the_outputs(
        scratch: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parts of the five files whose chunks did not change are copied from the files
    as they were; the result is byte for byte a fresh build's. A file changed by hand is
    written whole again."""
    from kg.pipeline import outputs

    build = scratch.build
    _rebuilt(scratch.data, build)
    made: list[str] = []
    original = outputs.Segments.part

    def counting(self: outputs.Segments, out: object, key: str, make: object) -> int:
        if key not in self.old:
            made.append(f"{self.path.suffix} {key}")
        return original(self, out, key, make)  # type: ignore[arg-type]

    monkeypatch.setattr(outputs.Segments, "part", counting)
    cable, text = _shorten_a_quote(scratch.data)
    assert _rebuilt(scratch.data, build) == ["doc/1945-07-11-harriman-soong"]
    assert made, "nothing was made again"
    assert len(made) < 30, made  # of about a hundred parts
    assert {key.split()[0] for key in made} == {f".{s}" for s in ASSERTED}
    fresh = tmp_path / "fresh"
    _rebuilt(scratch.data, fresh)
    for suffix in ASSERTED:
        name = f"asserted.{suffix}"
        assert (build / name).read_bytes() == (fresh / name).read_bytes(), name

    made.clear()
    with (build / "asserted.nt").open("a", encoding="utf-8") as stream:
        stream.write("# changed by hand\n")
    cable.write_text(text, encoding="utf-8")
    assert _rebuilt(scratch.data, build) == ["doc/1945-07-11-harriman-soong"]
    spans = len(Pipeline(_paths(scratch.data, build)).cache.state["asserted_parts"][
        str(build / "asserted.nt")]["parts"])
    assert len([key for key in made if key.startswith(".nt ")]) == spans > 10  # all made
    assert b"changed by hand" not in (build / "asserted.nt").read_bytes()


def test_the_closure_is_kept_when_no_entailment_can_change(
        scratch: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A corrected quote changes no entailment and no triple an entailment could equal:
    the closure is not merged again, and the inferred files are a fresh build's. An edit
    that changes an entailment merges it again."""
    from kg.pipeline import outputs

    build = scratch.build
    _run(scratch.data, build)
    merged: list[int] = []
    original = outputs.minus

    def counting(lines: object, sorted_file: Path) -> object:
        merged.append(1)
        return original(lines, sorted_file)  # type: ignore[arg-type]

    monkeypatch.setattr(outputs, "minus", counting)
    cable, _ = _shorten_a_quote(scratch.data)
    _run(scratch.data, build)
    assert merged == []
    fresh = tmp_path / "fresh"
    _run(scratch.data, fresh)
    assert merged == [1]
    assert (build / "inferred.nt").read_bytes() == (fresh / "inferred.nt").read_bytes()

    edited = cable.read_text(encoding="utf-8")
    assert "    act: Demand\n" in edited
    cable.write_text(edited.replace("    act: Demand\n", "    act: Offer\n", 1),
                     encoding="utf-8")
    _run(scratch.data, build)
    assert merged == [1, 1]
    shutil.rmtree(fresh)
    _run(scratch.data, fresh)
    assert (build / "inferred.nt").read_bytes() == (fresh / "inferred.nt").read_bytes()


def test_the_closure_basis_decides_on_predicates(tmp_path: Path) -> None:
    from kg.pipeline.cache import sha256_file
    from kg.pipeline.run import _closure_holds

    closure = tmp_path / "closure.nt"
    closure.write_text("<a> <p> <b> .\n", encoding="utf-8")
    basis = {"derived": "d1", "derived_predicates": ["<p>"], "asserted": {"<p>": "a",
                                                                            "<r>": "b"}}
    known = {**basis, "digest": sha256_file(closure)}
    assert _closure_holds(known, basis, closure)
    assert _closure_holds(known, {**basis, "asserted": {"<p>": "a", "<r>": "c"}}, closure)
    assert not _closure_holds(known, {**basis, "asserted": {"<p>": "b", "<r>": "b"}}, closure)
    assert not _closure_holds(known, {**basis, "asserted": {"<r>": "b"}}, closure)
    assert not _closure_holds(known, {**basis, "derived": "d2"}, closure)
    closure.write_text("<a> <p> <c> .\n", encoding="utf-8")  # changed by hand
    assert not _closure_holds(known, basis, closure)


def test_a_store_removed_by_hand_is_filled_again(scratch: Project) -> None:
    """Nothing changed and the store is not opened; the store removed, the next run
    loads every graph and the entailments into a new one."""
    import pyoxigraph as ox

    build = scratch.build
    _run(scratch.data, build)

    def quads() -> int:
        return len(ox.Store.read_only(str(build / "store")))

    before = quads()
    assert before > 1000
    mtime = (build / "store" / "CURRENT").stat().st_mtime_ns
    assert _rebuilt(scratch.data, build) == []
    assert (build / "store" / "CURRENT").stat().st_mtime_ns == mtime
    shutil.rmtree(build / "store")
    _run(scratch.data, build)
    assert quads() == before


def test_an_entity_edit_redoes_the_documents_naming_it(scratch: Project) -> None:
    _rebuilt(scratch.data, scratch.build)
    registry = scratch.data / "entities.yaml"
    text = registry.read_text(encoding="utf-8")
    assert "  label: Winston S. Churchill\n" in text
    registry.write_text(text.replace("  label: Winston S. Churchill\n",
                                     "  label: Winston Spencer Churchill\n"), encoding="utf-8")
    rebuilt = _rebuilt(scratch.data, scratch.build)
    # Churchill signs the Yalta agreement and is named in no July document.
    assert "doc/1945-02-11-yalta-agreement-far-east" in rebuilt
    assert "doc/1945-07-11-harriman-soong" not in rebuilt
    assert "entities" in rebuilt


def test_queries_on_the_store_equal_rdflib(built: Project) -> None:
    from kg.cli import embedded_engine
    from kg.queries import list_queries, run

    paths = _paths(built.data, built.build)
    store, reference = embedded_engine(paths), embedded_engine(paths, "rdflib")
    for query in list_queries(paths.queries):
        if query.name in ("positions-over-time", "yalta-comparison", "attribution"):
            continue  # slow on rdflib; test_queries compares them on their goldens
        assert run(query, store).rows == run(query, reference).rows, query.name


@pytest.mark.parametrize("tty", [False])
def test_progress_is_quiet_off_a_terminal(tty: bool, capsys: pytest.CaptureFixture[str]) -> None:
    from kg.pipeline.progress import Progress

    bar = Progress("compile", 10)
    assert bar._bar is None  # stderr is captured: not a terminal
    bar.advance(10)
    bar.close()
    assert capsys.readouterr().err == ""


def test_a_document_is_validated_again_when_a_document_it_answers_changes(
        scratch: Project) -> None:
    pipeline = _run(scratch.data, scratch.build)
    assert pipeline.validate().validated == _parts(scratch.data)
    telegram = scratch.data / "curation" / "1945-07-07-harriman-telegram-071545.yaml"
    text = telegram.read_text(encoding="utf-8")
    old = 'quote: "I took the occasion of Soong’s lunch with me informally today"'
    assert old in text
    telegram.write_text(text.replace(old, 'quote: "I took the occasion of Soong’s lunch"'),
                        encoding="utf-8")
    pipeline = _run(scratch.data, scratch.build)
    result = pipeline.validate()
    # The telegram, and the documents whose claims answer the telegram's (the July 11
    # cable among them); no other.
    prefix = "https://w3id.org/dipkg/id/doc/1945-07-07-harriman-telegram-071545/"
    answering = [name for name, entry in pipeline.cache.entries.items()
                 if any(iri.startswith(prefix) for iri in entry.meta.get("external", []))]
    assert "doc/1945-07-11-harriman-soong" in answering
    assert result.validated == 1 + len(answering) < _parts(scratch.data)
    assert result.conforms


def test_validating_every_target_then_keeping_the_focus_gives_the_same_findings() -> None:
    """The standings are validated without passing pySHACL a focus list (it compares each
    target with the whole list); the findings kept for the focus nodes are the same."""
    from rdflib import RDF, Literal, Namespace, URIRef
    from rdflib.namespace import XSD

    from kg.build import load_ontology
    from kg.pipeline import shacl

    dip = Namespace("https://w3id.org/dipkg/ontology#")
    status = "https://w3id.org/dipkg/id/status/"
    claim = URIRef("https://w3id.org/dipkg/id/doc/d/claim/1")
    data = Graph()
    data.add((claim, RDF.type, dip.Claim))  # a document's node: only its type is here
    good, bad = URIRef(status + "good"), URIRef(status + "bad")
    for node in (good, bad):
        data.add((node, RDF.type, dip.DatedStanding))
        data.add((node, dip.restsOn, claim))
        data.add((node, dip.standingStatus, dip.Disputed))
    data.add((good, dip.asOf, Literal("1945-07-11", datatype=XSD.date)))
    data.add((bad, dip.asOf, Literal("1945-07-11")))  # not an xsd:date
    shapes, _ = shacl.split_shapes(Graph().parse(ROOT / "ontology" / "shapes.ttl"))
    ontology = load_ontology(ROOT / "ontology" / "dip.ttl")

    def found(select: bool) -> list[tuple[str, ...]]:
        return sorted((f["focus"], f["path"], f["message"]) for f in shacl.validate_chunk(
            data, shapes, ontology, [good, bad], select_focus=select))

    selected = found(True)
    assert selected == found(False)
    # The bad standing's date, and the missing issue and negotiation of both, are found;
    # the claim, which has only its type here, is not reported.
    assert {(f[0].rsplit("/", 1)[-1], f[1]) for f in selected} == {
        ("bad>", "dip:asOf"), ("bad>", "dip:standingOf"), ("bad>", "dip:standingIn"),
        ("good>", "dip:standingOf"), ("good>", "dip:standingIn")}, selected


def test_shapes_that_target_none_of_the_focus_are_not_run_and_nothing_changes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A document's data graph holds the registry: the shapes that target only registry
    entries lose their targets for it, and its findings equal those of pySHACL run with
    every shape on every target (kept for the document's own nodes)."""
    from rdflib import RDF, URIRef
    from rdflib.namespace import SH

    from kg.build import load_ontology
    from kg.pipeline import shacl

    _run(ROOT / "data", tmp_path / "b")
    data = flatten(read_dataset(tmp_path / "b" / "asserted.nq"))
    data.parse(tmp_path / "b" / "inferred.nt", format="nt")
    shapes, _ = shacl.split_shapes(Graph().parse(ROOT / "ontology" / "shapes.ttl"))
    ontology = load_ontology(ROOT / "ontology" / "dip.ttl")
    doc = "https://w3id.org/dipkg/id/doc/1945-07-11-harriman-soong"
    own = {s for s in data.subjects() if isinstance(s, URIRef) and str(s).startswith(doc)}
    dip = "https://w3id.org/dipkg/ontology#"
    claim = sorted(s for s in own if (s, RDF.type, URIRef(dip + "Claim")) in data)[0]
    data.remove((claim, URIRef(dip + "issue"), None))  # a broken claim of its own

    pruned = shacl.targeting(shapes, data, ontology, own)
    idle = {str(s).rsplit("#", 1)[-1] for s in shapes.subjects(SH.targetClass, None)
            if (s, SH.targetClass, None) not in pruned}
    assert {"PersonShape", "NegotiationShape"} <= idle, idle
    assert not {"ClaimShape", "DocumentShape", "AnchorShape"} & idle, idle

    def found() -> list[tuple[str, ...]]:
        return sorted((f["focus"], f["path"], f["message"]) for f in shacl.validate_chunk(
            data, shapes, ontology, own, select_focus=False))

    ours = found()
    monkeypatch.setattr(shacl, "targeting", lambda shapes, *_: shapes)
    reference = found()
    assert any(f[0] == claim.n3() and "issue" in f[1] for f in ours), ours
    assert ours == reference


def test_a_document_local_constraint_finds_in_its_graph_what_the_whole_store_finds(
        scratch: Project) -> None:
    """An anchor whose quote is not the text at its offsets, and a claim that quotes past
    the point where its text breaks off, are found in their document's view exactly as
    on the whole store; another document's view finds nothing."""
    import pyoxigraph as ox

    from kg.pipeline import shacl
    from kg.pipeline.run import document_view

    pipeline = _run(scratch.data, scratch.build)
    _, constraints = shacl.split_shapes(Graph().parse(ROOT / "ontology" / "shapes.ttl"))
    local = [c for c in constraints if c.local]
    assert [str(c.shape).rsplit("#", 1)[-1] for c in local] == [
        "PartialTextShape", "SourceTextShape"]
    store = pipeline.store()
    metas = {name: pipeline.cache.entries[name].meta for name in (
        "doc/1945-07-11-harriman-soong", "doc/1945-07-10-harriman-outer-mongolia-sinkiang",
        "doc/1945-08-14-harriman-141040")}
    oa = "http://www.w3.org/ns/oa#"

    def first(doc: str, predicate: str) -> ox.Quad:
        graph = ox.NamedNode(metas[doc]["graphs"][0]["graph"])
        return sorted(store.store.quads_for_pattern(None, ox.NamedNode(predicate), None, graph),
                      key=str)[0]

    def replace(old: ox.Quad, value: ox.Literal) -> None:
        store.store.remove(old)
        store.store.add(ox.Quad(old.subject, old.predicate, value, old.graph_name))

    # The cable: an anchor quotes words its text does not have.
    replace(first("doc/1945-07-11-harriman-soong", oa + "exact"),
            ox.Literal("words the text does not have"))
    # The telegram that breaks off: a claim's anchor ends past the break (and so no
    # longer quotes its text either).
    replace(first("doc/1945-07-10-harriman-outer-mongolia-sinkiang", oa + "end"), ox.Literal(
        "99999", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#nonNegativeInteger")))

    def findings(engine: object) -> list[tuple[str, str]]:
        return sorted((f["focus"], f["shape"]) for f in shacl.store_findings(
            engine, local, lambda focus: ""))  # type: ignore[arg-type]

    whole = findings(store)
    shapes = sorted(shape.rsplit("#", 1)[-1].rstrip(">") for _, shape in whole)
    assert shapes == ["PartialTextShape", "SourceTextShape", "SourceTextShape"], whole
    views = [findings(document_view(store, meta)) for meta in metas.values()]
    assert sorted(f for view in views for f in view) == whole
    assert views[2] == []
