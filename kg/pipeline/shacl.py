"""SHACL that scales: pySHACL per chunk, the SPARQL constraints on the store.

pySHACL stays the validator of record. Two things made the whole-graph run slow:
one pySHACL run over the whole corpus (its cost grows with the corpus), and the
shapes' SHACL-SPARQL constraints, which pySHACL re-parses for every focus node. So:

- the *core* shapes (every constraint but ``sh:sparql``) are checked per chunk, with
  the chunk's own nodes as focus nodes, over the chunk's graph, its entailments, the
  registry and the descriptions of the other documents' nodes it refers to;
- each ``sh:sparql`` constraint becomes one query on the working store: its
  ``SELECT`` with ``$this`` bound by the shape's targets (``sh:targetClass`` along
  ``rdfs:subClassOf*``, ``sh:targetSubjectsOf``, ``sh:targetObjectsOf``), its message
  filled from the row as pySHACL fills it.

A test checks that the findings are those of one whole-graph pySHACL run, on the
corpus and on a broken copy of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from kg.sparql import Engine, short
from kg.validate import quote_of

SEVERITY_NAMES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


def split_shapes(shapes: Graph) -> tuple[Graph, list[SparqlConstraint]]:
    """The shapes without their SPARQL constraints, and those constraints."""
    constraints = []
    core = Graph()
    skip: set[Node] = set()
    for shape, node in shapes.subject_objects(SH.sparql):
        constraints.append(SparqlConstraint.read(shapes, shape, node))
        skip.add(node)
    for triple in shapes:
        if triple[1] == SH.sparql or triple[0] in skip:
            continue
        core.add(triple)
    for prefix, iri in shapes.namespaces():
        core.bind(prefix, iri)
    constraints.sort(key=lambda c: (str(c.shape), c.select))
    return core, constraints


@dataclass
class SparqlConstraint:
    shape: Node
    severity: Node
    message: str
    select: str
    prefixes: dict[str, str]
    targets: list[tuple[str, URIRef]]
    local: bool = False  # reads only its focus's document graph (dips:documentLocal)

    @classmethod
    def read(cls, shapes: Graph, shape: Node, node: Node) -> SparqlConstraint:
        prefixes: dict[str, str] = {}
        for source in shapes.objects(node, SH.prefixes):
            for decl in shapes.objects(source, SH.declare):
                prefix = shapes.value(decl, SH.prefix)
                iri = shapes.value(decl, SH.namespace)
                if prefix is not None and iri is not None:
                    prefixes[str(prefix)] = str(iri)
        targets: list[tuple[str, URIRef]] = []
        for kind, predicate in (("class", SH.targetClass), ("subjects", SH.targetSubjectsOf),
                                ("objects", SH.targetObjectsOf), ("node", SH.targetNode)):
            targets += [(kind, t) for t in shapes.objects(shape, predicate)
                        if isinstance(t, URIRef)]
        messages = sorted(str(m) for m in shapes.objects(node, SH.message))
        local = shapes.value(node, DOCUMENT_LOCAL)
        return cls(shape, shapes.value(node, SH.severity) or SH.Violation,
                   messages[0] if messages else "", str(shapes.value(node, SH.select)),
                   prefixes, sorted(targets),
                   isinstance(local, Literal) and local.toPython() is True)

    def query(self) -> str:
        """The constraint as one query over the whole store, ``?this`` bound by the targets."""
        patterns = []
        for kind, target in self.targets:
            if kind == "class":
                patterns.append(f"{{ ?this <{RDF.type}>/<{RDFS_SUBCLASS}>* <{target}> }}")
            elif kind == "subjects":
                patterns.append(f"{{ ?this <{target}> [] }}")
            elif kind == "objects":
                patterns.append(f"{{ [] <{target}> ?this }}")
            else:
                patterns.append(f"{{ VALUES ?this {{ <{target}> }} }}")
        body = re.sub(r"\$this\b", "?this", self.select)
        where = re.search(r"\bWHERE\s*\{", body, re.IGNORECASE)
        assert where is not None, f"no WHERE in the SPARQL constraint of {self.shape}"
        bound = "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(patterns) + " } }"
        body = body[: where.end()] + "\n" + bound + "\n" + body[where.end():]
        head = "".join(f"PREFIX {p}: <{i}>\n" for p, i in sorted(self.prefixes.items()))
        return head + body


RDFS_SUBCLASS = URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf")
DOCUMENT_LOCAL = URIRef("https://w3id.org/dipkg/shapes#documentLocal")


def finding(severity: Node, focus: Node, path: Node | None, message: str, value: Node | None,
            shape: Node | None, quote: str) -> dict[str, str]:
    """A finding as the manifest keeps it: the terms in N3 and the text a person reads."""
    return {
        "severity": SEVERITY_NAMES.get(severity, str(severity).rsplit("#", 1)[-1]),  # type: ignore[call-overload]
        "focus_n3": focus.n3() if isinstance(focus, (URIRef, Literal)) else "",
        "focus": short(focus) if isinstance(focus, (URIRef, Literal)) else str(focus),
        "path": short(path) if isinstance(path, URIRef) else "",
        "path_n3": path.n3() if isinstance(path, URIRef) else "",
        "message": message,
        "value": short(value) if isinstance(value, (URIRef, Literal)) else "",
        "value_n3": value.n3() if isinstance(value, (URIRef, Literal)) else "",
        "shape": short(shape) if isinstance(shape, URIRef) else "",
        "shape_n3": shape.n3() if isinstance(shape, URIRef) else "",
        "quote": quote,
    }


def _path(report: Graph, node: Node) -> tuple[Node | None, str]:
    path = report.value(node, SH.resultPath)
    if path is None or isinstance(path, URIRef):
        return path, ""
    items = list(report.items(path))
    return None, " / ".join(short(i) for i in items if isinstance(i, URIRef)) or str(path)


def validate_chunk(data: Graph, shapes: Graph, ontology: Graph, focus: Iterable[Node],
                   select_focus: bool = True) -> list[dict[str, str]]:
    """pySHACL on one chunk's data graph, for its own focus nodes.

    With ``select_focus`` the focus nodes are passed to pySHACL, which checks each
    shape's targets against that list: targets times focus nodes, fine for a document,
    quadratic for the whole corpus's standings. Without it every target is validated
    and the findings are kept for the focus nodes only: the same findings, since a
    focus node's results do not depend on which other nodes are validated.
    """
    wanted = {n for n in focus if isinstance(n, URIRef)}
    nodes: list[str | URIRef] = sorted(wanted)
    if not nodes:
        return []
    shapes = targeting(shapes, data, ontology, wanted)
    _, report, _ = shacl_validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none", allow_warnings=True,
        abort_on_first=False, meta_shacl=False, advanced=False,
        focus_nodes=nodes if select_focus else None)
    assert isinstance(report, Graph)
    out = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus_node = report.value(result, SH.focusNode)
        if not select_focus and focus_node not in wanted:
            continue
        path, path_text = _path(report, result)
        shape = report.value(result, SH.sourceShape)
        if shape is not None and not isinstance(shape, URIRef):
            shape = shapes.value(predicate=SH.property, object=shape) or shape
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        item = finding(report.value(result, SH.resultSeverity) or SH.Violation,
                       focus_node, path, messages[0] if messages else "",  # type: ignore[arg-type]
                       report.value(result, SH.value), shape,
                       quote_of(data, focus_node) if focus_node is not None else "")
        if path_text:
            item["path"] = path_text
        out.append(item)
    return out


TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_TARGETED: dict[tuple[int, frozenset[Node]], tuple[Graph, Graph]] = {}


def targeting(shapes: Graph, data: Graph, ontology: Graph, wanted: set[URIRef]) -> Graph:
    """The shapes, without the targets of the shapes that select none of ``wanted``.

    A shape whose targets select none of the nodes being validated can only report on
    other nodes, whose findings are dropped; without its targets it is not run at all
    (it still serves where another shape refers to it with ``sh:node``). A document's
    data graph holds the registry, and the standings' holds the claims they name (only
    their types): their shapes are not run on them. The findings are the same.
    """
    classes: set[Node] = set()
    for node in wanted:
        for kind in data.objects(node, RDF.type):
            if kind not in classes:
                for graph in (ontology, data):
                    classes |= {c for c in graph.transitive_objects(kind, RDFS.subClassOf)
                                if c is not None}
    outgoing = {p for node in wanted for p in data.predicates(node, None)}
    incoming = {p for node in wanted for p in data.predicates(None, node)}
    selected: dict[Node, set[Any]] = {SH.targetClass: classes, SH.targetNode: wanted,
                SH.targetSubjectsOf: outgoing, SH.targetObjectsOf: incoming}
    idle: set[Node] = set()
    for predicate in TARGETS:
        for shape in shapes.subjects(predicate, None):
            idle.add(shape)
    for predicate in TARGETS:
        for shape, target in shapes.subject_objects(predicate):
            if target in selected[predicate]:
                idle.discard(shape)
    if not idle:
        return shapes
    key = (id(shapes), frozenset(idle))
    kept = _TARGETED.get(key)
    if kept is None or kept[0] is not shapes:  # (the graph is held, so its id is not reused)
        pruned = Graph()
        for triple in shapes:
            if not (triple[0] in idle and triple[1] in TARGETS):
                pruned.add(triple)
        for prefix, iri in shapes.namespaces():
            pruned.bind(prefix, iri)
        kept = _TARGETED[key] = (shapes, pruned)
    return kept[1]


_PLACEHOLDER = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


def store_findings(engine: Engine, constraints: Iterable[SparqlConstraint],
                   quote: Any) -> list[dict[str, str]]:
    """Each SPARQL constraint, run once on the store; ``quote(focus)`` gives a focus's words."""
    constraints = list(constraints)
    prefetch = getattr(engine, "prefetch", None)
    if prefetch is not None:  # the cached store: ask the changed ones side by side
        prefetch([(constraint.query(), None) for constraint in constraints])
    out = []
    for constraint in constraints:
        results = engine.select(constraint.query())
        for row in results.rows:
            focus = row.get("this")
            if focus is None:
                continue

            def fill(match: re.Match[str], row: Any = row) -> str:
                value = row.get(match.group(1))
                return "" if value is None else str(value)

            out.append(finding(constraint.severity, focus, row.get("path"),
                               _PLACEHOLDER.sub(fill, constraint.message), row.get("value"),
                               constraint.shape, quote(focus)))
    return out


def dedupe(findings: Iterable[dict[str, str]]) -> list[dict[str, str]]:
    """One of each finding, in the order ``kg validate`` prints them."""
    seen: dict[tuple[str, ...], dict[str, str]] = {}
    for item in findings:
        key = (item["severity"], item["focus"], item["path"], item["message"], item["value"],
               item["shape"])
        seen.setdefault(key, item)
    return sorted(seen.values(), key=lambda f: (f["severity"] != "Violation", f["focus"],
                                                f["path"], f["message"], f["value"]))


def report_graph(findings: Iterable[dict[str, str]], conforms: bool) -> Graph:
    """The SHACL validation report (``build/validation.ttl``) for the findings."""
    from rdflib import BNode
    from rdflib.util import from_n3

    graph = Graph()
    graph.bind("sh", SH)
    report = BNode()
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, Literal(conforms)))
    for n, item in enumerate(findings):
        result = BNode(f"r{n}")
        graph.add((report, SH.result, result))
        graph.add((result, RDF.type, SH.ValidationResult))
        graph.add((result, SH.resultSeverity, SH[item["severity"]]))
        graph.add((result, SH.resultMessage, Literal(item["message"])))
        for key, predicate in (("focus_n3", SH.focusNode), ("path_n3", SH.resultPath),
                               ("value_n3", SH.value), ("shape_n3", SH.sourceShape)):
            if item.get(key):
                graph.add((result, predicate, from_n3(item[key])))  # type: ignore[arg-type]
    return graph
