"""The working store: an on-disk Oxigraph store under ``build/store``.

It holds exactly the graphs of the build outputs -- one per document, the registry,
the link decisions, the Wikidata facts, ``graph/inferred`` -- and the ontology in
``graph/ontology``, so a query on it answers as it would on the files. Chunks replace
their graphs one by one; the status rules, the cross-document checks, the stored
queries and ``kg report`` run here.

Only one process can open the store for writing; readers (``kg query``) open it
read-only while no build runs. The manifest (:mod:`kg.pipeline.cache`) records which
chunk key each graph holds, and is saved only after the store took the change, so an
interrupted run is repaired by the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from kg.errors import InputError
from kg.sparql import OxigraphEngine, Term, _syntax, from_ox, to_ox

STORE_DIR = "store"


def open_store(build_dir: Path, read_only: bool = False) -> ox.Store:
    path = build_dir / STORE_DIR
    try:
        if read_only:
            return ox.Store.read_only(str(path))
        path.mkdir(parents=True, exist_ok=True)
        return ox.Store(str(path))
    except OSError as exc:
        hint = ("another kg command is using the build; wait for it to finish"
                if "lock" in str(exc).lower() else "run `kg build` first")
        raise InputError(f"cannot open the working store {path}: {exc}", hint=hint) from None


class WorkStore(OxigraphEngine):
    """The on-disk store, with the queries of :class:`kg.sparql.OxigraphEngine`."""

    def __init__(self, store: ox.Store) -> None:
        self.store = store

    def replace_graphs(self, old: Iterable[str], quads_file: Path | None) -> None:
        """Drop the graphs a chunk had, load the chunk's quads (one file of N-Quads)."""
        for name in old:
            self.store.remove_graph(ox.NamedNode(name))
        if quads_file is not None and quads_file.stat().st_size:
            self.store.bulk_load(path=str(quads_file), format=ox.RdfFormat.N_QUADS)

    def replace_graph_from(self, graph: str, nt_file: Path) -> None:
        self.store.remove_graph(ox.NamedNode(graph))
        self.load_into(graph, nt_file)

    def load_into(self, graph: str, nt_file: Path) -> None:
        """Add the triples of an N-Triples file to a graph."""
        name = ox.NamedNode(graph)
        if nt_file.stat().st_size:
            self.store.bulk_load(path=str(nt_file), format=ox.RdfFormat.N_TRIPLES,
                                 to_graph=name)

    def add_triples(self, graph: str, triples: Iterable[tuple[Any, Any, Any]]) -> None:
        name = ox.NamedNode(graph)
        self.store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), name)
                          for s, p, o in triples)

    def remove_triples(self, graph: str, triples: Iterable[tuple[Any, Any, Any]]) -> None:
        name = ox.NamedNode(graph)
        for s, p, o in triples:
            self.store.remove(ox.Quad(to_ox(s), to_ox(p), to_ox(o), name))

    def contains(self, triple: tuple[Any, Any, Any]) -> bool:
        s, p, o = (to_ox(t) for t in triple)
        return next(iter(self.store.quads_for_pattern(s, p, o, None)), None) is not None

    def graphs(self) -> set[str]:
        return {g.value for g in self.store.named_graphs()}

    def describe(self, iris: Iterable[str]) -> Graph:
        """Every triple (in any graph) whose subject is one of ``iris``."""
        graph = Graph()
        for iri in iris:
            for quad in self.store.quads_for_pattern(ox.NamedNode(iri), None, None, None):
                graph.add((from_ox(quad.subject), from_ox(quad.predicate),  # type: ignore[arg-type]
                           from_ox(quad.object)))
        return graph

    def types(self, iris: Iterable[str]) -> list[tuple[str, str]]:
        """The (node, class) pairs of the nodes' ``rdf:type`` triples, in any graph."""
        kind = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        out = []
        for iri in iris:
            for quad in self.store.quads_for_pattern(ox.NamedNode(iri), kind, None, None):
                if isinstance(quad.object, ox.NamedNode):
                    out.append((iri, quad.object.value))
        return out

    def flush(self) -> None:
        self.store.flush()


class GraphView(OxigraphEngine):
    """Queries on some graphs of the store only: their union is the default graph."""

    def __init__(self, store: ox.Store, graphs: Iterable[str]) -> None:
        self.store = store
        self.graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [
            ox.NamedNode(g) for g in graphs]

    def _query(self, query: str, bindings: Mapping[str, Term] | None = None) -> Any:
        from kg.queries import inline_values

        text = inline_values(query, dict(bindings)) if bindings else query
        try:
            return self.store.query(text, default_graph=self.graphs)
        except SyntaxError as exc:
            raise _syntax(exc) from None
