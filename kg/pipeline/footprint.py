"""What a query reads, so its answer is computed again only when that changed.

A SPARQL query whose triple patterns all name their predicate can only match triples
with those predicates: its answer is a function of those triples (and of the query
and its parameters). The *footprint* of a query holds every IRI in rdflib's algebra
of it (triple patterns, property paths, ``EXISTS`` inside filters, subqueries): a
superset of the predicates it reads, which is safe for a key. A pattern with a
variable predicate or a negated property set (``!p``) can match any triple: such a
query reads everything.

Each chunk records, at compile time, a digest of its lines for each predicate
(:func:`predicate_digests`); the inferred graph records the same for its lines. The
*state* of a predicate in the store is the digest of those per-chunk digests, and a
query's key is its text, its parameters and the states of its footprint's
predicates. Editing one quote changes the state of ``dip:quote`` and ``oa:exact``
only: the status rules, and the queries that read neither, keep their answers.

A query that calls a function whose value is not fixed by the data (``NOW``,
``RAND``, ``UUID``, ``STRUUID``, ``BNODE``) or reaches another endpoint (``SERVICE``)
is never cached.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdflib import URIRef, Variable
from rdflib.paths import NegatedPath
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.sparql.parserutils import CompValue

from kg.export import write_atomically

EVERYTHING = None
_UNCACHEABLE = re.compile(r"\b(?:(?:NOW|RAND|UUID|STRUUID|BNODE)\s*\(|SERVICE\b)", re.IGNORECASE)


class _Everything(Exception):
    """The query can read any triple."""


def _triples(node: CompValue) -> list[Any]:
    """The (subject, predicate, object) patterns of a basic graph pattern or triples block."""
    if node.name == "BGP":
        return list(node.get("triples") or [])
    flat = [term for group in node.get("triples") or [] for term in group]
    if len(flat) % 3:
        raise _Everything  # a shape this reader does not know: assume the worst
    return [tuple(flat[i:i + 3]) for i in range(0, len(flat), 3)]


def _walk(node: Any, out: set[str], seen: set[int]) -> None:
    """Every IRI in the algebra (a superset of the predicates read: safe for a key)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, URIRef):
        out.add(str(node))
    elif isinstance(node, NegatedPath):
        raise _Everything
    elif isinstance(node, PropertyPath):
        for attr in ("arg", "args", "path"):
            _walk(getattr(node, attr, None), out, seen)
    elif isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            raise _Everything
        if node.name in ("BGP", "TriplesBlock"):
            for triple in _triples(node):
                if isinstance(triple[1], Variable):
                    raise _Everything
        for value in node.values():
            _walk(value, out, seen)
    elif isinstance(node, dict):
        for value in node.values():
            _walk(value, out, seen)
    elif isinstance(node, list | tuple | set):
        for value in node:
            _walk(value, out, seen)


@lru_cache(maxsize=256)
def footprint(query: str) -> frozenset[str] | None:
    """The predicates ``query`` can read, or None when it can read any triple.

    >>> sorted(footprint("PREFIX d: <http://e/> SELECT ?x WHERE { ?x d:p/d:q ?y }"))
    ['http://e/p', 'http://e/q']
    >>> footprint("SELECT ?p WHERE { ?x ?p ?y }") is None
    True
    """
    if not cacheable(query):
        return EVERYTHING
    # Parsed in a thread of its own: pyparsing keeps exceptions from its backtracking in
    # reference cycles, and a frame's callers stay alive with it; a thread's frames have
    # no callers here (an open store among them would stay locked until gc ran).
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_footprint, query).result()


def _footprint(query: str) -> frozenset[str] | None:
    from rdflib.plugins.sparql import algebra, parser

    try:
        tree = algebra.translateQuery(parser.parseQuery(query))
    except Exception:  # rdflib cannot parse it: assume it reads everything
        return EVERYTHING
    out: set[str] = set()
    try:
        _walk(tree.algebra, out, set())
    except _Everything:
        return EVERYTHING
    return frozenset(out)


def cacheable(query: str) -> bool:
    """False when the answer may change with nothing in the store changed."""
    return not _UNCACHEABLE.search(_strip_strings(query))


def _strip_strings(query: str) -> str:
    """The query without its comments, strings and IRIs (the tokenizer of kg.queries)."""
    from kg.queries import _TOKEN

    return _TOKEN.sub(" ", query)


def predicate_of(line: str) -> str:
    """The predicate IRI of an N-Triples or N-Quads line (no spaces in its first terms)."""
    return line.split(" ", 2)[1][1:-1]


def predicate_digests(lines: Iterable[str]) -> dict[str, str]:
    """For each predicate, the SHA-256 of the lines (in their order) that use it."""
    hashes: dict[str, Any] = {}
    for line in lines:
        predicate = predicate_of(line)
        digest = hashes.get(predicate)
        if digest is None:
            digest = hashes[predicate] = hashlib.sha256()
        digest.update(line.encode("utf-8"))
        digest.update(b"\n")
    return {predicate: digest.hexdigest() for predicate, digest in sorted(hashes.items())}


class Footprints:
    """Footprints kept in a JSON file by the SHA-256 of the query text.

    Reading a query's footprint means parsing it with rdflib (tens of milliseconds);
    a run that finds every answer cached would spend most of its time there.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.known: dict[str, list[str] | None] = {}
        self.dirty = False
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self.known = loaded
        except (OSError, ValueError):
            pass

    def __call__(self, query: str) -> frozenset[str] | None:
        digest = hashlib.sha256(query.encode("utf-8")).hexdigest()
        if digest in self.known:
            found = self.known[digest]
            return None if found is None else frozenset(found)
        reads = footprint(query)
        self.known[digest] = None if reads is None else sorted(reads)
        self.dirty = True
        return reads

    def save(self) -> None:
        if self.dirty:
            write_atomically({self.path: json.dumps(self.known, sort_keys=True)})
            self.dirty = False


class StoreState:
    """The digest of each predicate's triples in the store, from its parts' digests.

    ``parts`` maps a part of the store (a chunk, the inferred graph) to its predicate
    digests; ``fixed`` is what every answer depends on anyway (the ontology graph).
    """

    def __init__(self, parts: Mapping[str, Mapping[str, str]], fixed: str,
                 footprints: Footprints | None = None) -> None:
        self.fixed = fixed
        self.footprint = footprints or footprint
        combined: dict[str, Any] = {}
        for name in sorted(parts):
            for predicate, digest in parts[name].items():
                state = combined.get(predicate)
                if state is None:
                    state = combined[predicate] = hashlib.sha256()
                state.update(f"{name} {digest}\n".encode())
        self.predicates = {p: h.hexdigest() for p, h in combined.items()}
        everything = hashlib.sha256(fixed.encode())
        for predicate in sorted(self.predicates):
            everything.update(f"{predicate} {self.predicates[predicate]}\n".encode())
        self.everything = everything.hexdigest()

    def key(self, *queries: str, extra: str = "") -> str | None:
        """The key of the answers to ``queries`` (None: do not cache them)."""
        if not all(cacheable(q) for q in queries):
            return None
        digest = hashlib.sha256(f"{self.fixed}\n{extra}\n".encode())
        predicates: set[str] = set()
        for query in queries:
            digest.update(query.encode("utf-8"))
            reads = self.footprint(query)
            if reads is EVERYTHING:
                digest.update(f"* {self.everything}\n".encode())
                return digest.hexdigest()
            predicates |= reads
        for predicate in sorted(predicates):
            digest.update(f"{predicate} {self.predicates.get(predicate, '')}\n".encode())
        return digest.hexdigest()
