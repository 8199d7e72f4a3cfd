"""The entailments the queries and shapes rely on, derived per chunk without owlrl.

The ontology declares class and property hierarchies, domains and ranges, and no
other axiom kind (no inverse, transitive, functional or equivalent terms: a test
checks this). Under OWL 2 RL those give four rules -- ``cax-sco`` (types along
``rdfs:subClassOf``), ``prp-spo1`` (statements along ``rdfs:subPropertyOf``),
``prp-dom`` and ``prp-rng`` -- each of which reads one data triple and the ontology.
So the closure of a corpus is the union of the closures of its chunks, and a chunk's
entailments can be derived once and cached with it.

What is kept is what :mod:`kg.reason` keeps of owlrl's closure: statements about the
project's own resources (subjects under ``id/``), no literal subjects, no trivial
types (``owl:Thing``). A test compares the two on the corpus.

>>> from rdflib import Graph, URIRef
>>> from rdflib.namespace import RDF, RDFS
>>> onto = Graph()
>>> A, B, p, q = (URIRef(f"https://w3id.org/dipkg/ontology#{n}") for n in "ABpq")
>>> _ = onto.add((A, RDFS.subClassOf, B)).add((p, RDFS.subPropertyOf, q))
>>> _ = onto.add((q, RDFS.domain, A))
>>> x, y = URIRef("https://w3id.org/dipkg/id/x"), URIRef("https://w3id.org/dipkg/id/y")
>>> sorted(str(o)[-1] for s, p_, o in Closure(onto).derive([(x, p, y)]))
['A', 'B', 'y']
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from kg.namespace import ID

Triple = tuple[Node, Node, Node]

# Types every resource gets in OWL RL; they tell a reader nothing (as in kg.reason).
TRIVIAL_TYPES = frozenset({OWL.Thing, RDFS.Resource})
# Axiom kinds the four rules above do not cover: an ontology using one needs its rule here.
UNSUPPORTED_AXIOMS = (OWL.inverseOf, OWL.equivalentClass, OWL.equivalentProperty,
                      OWL.propertyChainAxiom, OWL.hasKey, OWL.intersectionOf,
                      OWL.unionOf, OWL.someValuesFrom, OWL.allValuesFrom, OWL.hasValue,
                      OWL.sameAs)
UNSUPPORTED_TYPES = (OWL.TransitiveProperty, OWL.SymmetricProperty, OWL.FunctionalProperty,
                     OWL.InverseFunctionalProperty)


def _ancestors(edges: dict[Node, set[Node]], start: Node) -> frozenset[Node]:
    """Every node reachable from ``start`` along ``edges`` (not ``start`` itself, unless cyclic)."""
    seen: set[Node] = set()
    todo = list(edges.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    return frozenset(seen)


class Closure:
    """The ontology's hierarchies, domains and ranges, ready to apply to data triples."""

    def __init__(self, ontology: Graph) -> None:
        self.unsupported = sorted(
            {str(p) for p in UNSUPPORTED_AXIOMS if (None, p, None) in ontology}
            | {str(t) for t in UNSUPPORTED_TYPES if (None, RDF.type, t) in ontology})
        self._sub_class: dict[Node, set[Node]] = {}
        self._sub_property: dict[Node, set[Node]] = {}
        self._domain: dict[Node, set[Node]] = {}
        self._range: dict[Node, set[Node]] = {}
        for table, predicate in ((self._sub_class, RDFS.subClassOf),
                                 (self._sub_property, RDFS.subPropertyOf),
                                 (self._domain, RDFS.domain), (self._range, RDFS.range)):
            for s, o in ontology.subject_objects(predicate):
                table.setdefault(s, set()).add(o)
        self.super_classes = cache(self._super_classes)
        self.super_properties = cache(self._super_properties)
        self.property_types = cache(self._property_types)

    def _super_classes(self, cls: Node) -> frozenset[Node]:
        """The class and every class above it."""
        return frozenset({cls}) | _ancestors(self._sub_class, cls)

    def _super_properties(self, prop: Node) -> frozenset[Node]:
        """The property and every property above it."""
        return frozenset({prop}) | _ancestors(self._sub_property, prop)

    def _property_types(self, prop: Node) -> tuple[frozenset[Node], frozenset[Node]]:
        """The classes a subject (domain) and an object (range) of ``prop`` belong to."""
        domains: set[Node] = set()
        ranges: set[Node] = set()
        for sup in self.super_properties(prop):
            for cls in self._domain.get(sup, ()):
                domains |= self.super_classes(cls)
            for cls in self._range.get(sup, ()):
                ranges |= self.super_classes(cls)
        return frozenset(domains), frozenset(ranges)

    def derive(self, triples: Iterable[Triple]) -> set[Triple]:
        """What the four rules derive from ``triples`` that is not among them (kept as above)."""
        given = set(triples)
        out: set[Triple] = set()
        for s, p, o in given:
            if p == RDF.type:
                for cls in self.super_classes(o):
                    out.add((s, RDF.type, cls))
                continue
            for sup in self.super_properties(p):
                out.add((s, sup, o))
            domains, ranges = self.property_types(p)
            for cls in domains:
                out.add((s, RDF.type, cls))
            if not isinstance(o, Literal):
                for cls in ranges:
                    out.add((o, RDF.type, cls))
        # A type derived from a domain or range also climbs the class hierarchy: the
        # tables above already hold the super-classes, so one pass is enough.
        return {t for t in out - given if keep(t)}


def keep(triple: Triple) -> bool:
    """Statements about the project's own resources, without trivial types."""
    s, p, o = triple
    if isinstance(s, Literal) or not isinstance(p, URIRef):
        return False
    if not str(s).startswith(str(ID)):
        return False
    if p == OWL.sameAs and s == o:
        return False
    return not (p == RDF.type and o in TRIVIAL_TYPES)
