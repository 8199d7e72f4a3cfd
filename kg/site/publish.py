"""The dataset described as Linked Data: VoID and DCAT, the shapes, the ontology page.

The description (``build/void.ttl``) is computed from the built graph: one
``void:subset`` per named graph with its triple count, the class partitions, the
licence, creator and version of the ontology header, the sources (each document's
URL) and the distributions (the export files of ``build/``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, OWL, SKOS, XSD

from kg.namespace import BASE, ONTOLOGY_IRI
from kg.sparql import Engine

VOID = Namespace("http://rdfs.org/ns/void#")
SH = Namespace("http://www.w3.org/ns/shacl#")
DATASET = URIRef(BASE + "dataset")

GRAPH_COUNTS = """SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }
GROUP BY ?g ORDER BY ?g"""
CLASS_COUNTS = """SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?class } }
GROUP BY ?class ORDER BY ?class"""
TOTAL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
SOURCES = """PREFIX dip: <https://w3id.org/dipkg/ontology#>
PREFIX schema: <https://schema.org/>
SELECT ?doc ?url WHERE { GRAPH ?g { ?doc a dip:Document ; schema:url ?url } } ORDER BY ?doc"""
HEADER = """PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?p ?o WHERE { GRAPH ?g { ?ont a owl:Ontology ; ?p ?o } } ORDER BY ?p ?o"""

DISTRIBUTIONS = (
    ("asserted.trig", "application/trig"), ("asserted.nq", "application/n-quads"),
    ("asserted.ttl", "text/turtle"), ("asserted.jsonld", "application/ld+json"),
    ("inferred.trig", "application/trig"), ("inferred.ttl", "text/turtle"),
    ("validation.ttl", "text/turtle"),
)


def describe_dataset(engine: Engine, version: str) -> Graph:
    """VoID and DCAT description of the built dataset."""
    g = Graph()
    for prefix, ns in (("void", VOID), ("dcat", DCAT), ("dcterms", DCTERMS)):
        g.bind(prefix, ns)
    g.add((DATASET, RDF.type, VOID.Dataset))
    g.add((DATASET, RDF.type, DCAT.Dataset))
    g.add((DATASET, DCTERMS.title, Literal("dipkg: a knowledge graph of diplomatic documents",
                                           lang="en")))
    g.add((DATASET, DCTERMS.description, Literal(
        "Hand-curated claims of diplomatic documents of 1945, each anchored in the words of "
        "its source and attributed to whoever asserts it.", lang="en")))
    g.add((DATASET, URIRef(str(DCAT) + "version"), Literal(version)))  # DCAT 3
    g.add((DATASET, OWL.versionInfo, Literal(version)))
    g.add((DATASET, VOID.vocabulary, ONTOLOGY_IRI))
    g.add((DATASET, VOID.uriSpace, Literal(BASE + "id/")))
    for row in engine.select(HEADER).rows:
        if row["p"] in (DCTERMS.license, DCTERMS.creator) and row["o"] is not None:
            g.add((DATASET, row["p"], row["o"]))
    total = engine.select(TOTAL).rows[0]["n"]
    g.add((DATASET, VOID.triples, Literal(int(total), datatype=XSD.integer)))  # type: ignore
    for row in engine.select(GRAPH_COUNTS).rows:
        graph = row["g"]
        subset = URIRef(f"{DATASET}/graph/{str(graph).rsplit('/graph/', 1)[-1]}")
        g.add((DATASET, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, URIRef("http://www.w3.org/ns/sparql-service-description#name"), graph))  # type: ignore[arg-type]
        g.add((subset, VOID.triples, Literal(int(row["n"]), datatype=XSD.integer)))  # type: ignore
    classes = engine.select(CLASS_COUNTS).rows
    g.add((DATASET, VOID.classes, Literal(len(classes), datatype=XSD.integer)))
    for row in classes:
        name = str(row["class"]).replace("#", "/").rsplit("/", 1)[-1]
        part = URIRef(f"{DATASET}/class/{name}")
        if (part, VOID["class"], None) in g:
            digest = hashlib.sha256(str(row["class"]).encode()).hexdigest()[:12]
            part = URIRef(f"{DATASET}/class/{digest}")
        g.add((DATASET, VOID.classPartition, part))
        g.add((part, VOID["class"], row["class"]))  # type: ignore[arg-type]
        g.add((part, VOID.entities, Literal(int(row["n"]), datatype=XSD.integer)))  # type: ignore
    for row in engine.select(SOURCES).rows:
        g.add((DATASET, DCTERMS.source, row["url"]))  # type: ignore[arg-type]
    for name, media in DISTRIBUTIONS:
        dist = URIRef(f"{DATASET}/distribution/{name}")
        g.add((DATASET, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCAT.mediaType, Literal(media)))
        g.add((dist, DCAT.downloadURL, URIRef(f"{BASE}data/{name}")))
        g.add((dist, DCTERMS.title, Literal(name)))
    return g


def shapes(path: Path) -> list[dict[str, Any]]:
    """Every node shape of ``shapes.ttl`` with its rule and its constraints' messages."""
    g = Graph().parse(path, format="turtle")
    result = []
    for shape in sorted(set(g.subjects(RDF.type, SH.NodeShape)), key=str):
        constraints = []
        for node in [shape, *sorted(g.objects(shape, SH.property), key=str)]:
            for message in sorted(g.objects(node, SH.message), key=str):
                path_ = g.value(node, SH.path)
                constraints.append({
                    "path": g.namespace_manager.normalizeUri(path_)
                    if isinstance(path_, URIRef) else ("(SPARQL)" if path_ is None else "path"),
                    "severity": str(g.value(node, SH.severity) or SH.Violation).rsplit("#")[-1],
                    "message": str(message)})
            for sparql in sorted(g.objects(node, SH.sparql), key=str):
                for message in sorted(g.objects(sparql, SH.message), key=str):
                    constraints.append({"path": "(SPARQL)", "message": str(message),
                                        "severity": str(g.value(sparql, SH.severity)
                                                        or g.value(node, SH.severity)
                                                        or SH.Violation).rsplit("#")[-1]})
        result.append({"iri": str(shape), "label": str(g.value(shape, RDFS.label) or shape),
                       "comment": str(g.value(shape, RDFS.comment) or ""),
                       "targets": sorted(g.namespace_manager.normalizeUri(t)
                                         for p in (SH.targetClass, SH.targetSubjectsOf,
                                                   SH.targetObjectsOf, SH.targetNode)
                                         for t in g.objects(shape, p) if isinstance(t, URIRef)),
                       "constraints": constraints})
    return result


def ontology_page(path: Path) -> str:
    """The ontology's documentation, made by pyLODE (OntPub profile): one HTML file."""
    root = logging.getLogger()
    level = root.level
    from pylode import OntPub  # it sets the root logger to INFO and DEBUG on import

    root.setLevel(logging.WARNING)
    # pyLODE takes every skos:ConceptScheme for an ontology header and merges their
    # titles into the page's; the schemes keep their type in the ontology itself.
    graph = Graph().parse(path, format="turtle")
    for scheme in list(graph.subjects(RDF.type, SKOS.ConceptScheme)):
        graph.remove((scheme, RDF.type, SKOS.ConceptScheme))
    try:
        html = str(OntPub(ontology=graph).make_html())
    finally:
        root.setLevel(level)
    return _sorted_json_ld(html)


_JSON_LD = re.compile(r'(<script id="schema.org" type="application/ld\+json">)(.*?)(</script>)',
                      re.DOTALL)


def _sorted_json_ld(html: str) -> str:
    """pyLODE's embedded JSON-LD lists nodes in set order, which changes from run to
    run; sort it (nodes by @id, keys by name) so the page is byte-identical."""

    def canonical(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: canonical(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            items = [canonical(v) for v in value]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return value

    def replace(match: re.Match[str]) -> str:
        data = canonical(json.loads(match.group(2)))
        return match.group(1) + "\n" + json.dumps(data, indent=2, ensure_ascii=False) + \
            "\n" + match.group(3)

    return _JSON_LD.sub(replace, html)
