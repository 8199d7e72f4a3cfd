"""One chunk's work, in a worker process: compile, derive, serialise, cache.

A worker reads one curation file (or the registry, or the link decisions), compiles
it into its named graph(s) exactly as :mod:`kg.compile` does for the whole corpus,
derives its entailments (:mod:`kg.pipeline.closure`) and writes, into the chunk's
cache folder, everything the later stages read instead of the graph:

- ``quads.nq``: its quads as sorted N-Quads lines (the lines of ``asserted.nq``);
- ``triples.nt``: its triples as sorted, distinct N-Triples lines (of ``asserted.nt``);
- ``derived.nt``: its entailments, sorted (of ``inferred.nt``);
- ``graphs.json``: per named graph, its TriG block and its JSON-LD graph object, as
  the whole-corpus writers of :mod:`kg.export` would print them.

Workers are forked from the main process after it has read the ontology and the
registry (:func:`prepare`), so nothing is parsed twice.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.term import Node

from kg.compile import Corpus, act_types, compile_document, coverage
from kg.curation import load_curation
from kg.errors import KgError, Problem
from kg.linking import link_graphs
from kg.namespace import ENTITIES_GRAPH, ID, PREFIXES, document_graph
from kg.pipeline.cache import Entry, combine, sha256_file
from kg.pipeline.closure import Closure
from kg.pipeline.footprint import predicate_digests
from kg.registry import Registry, registry_graph
from kg.sparql import to_ox

ENTITY_PREFIX = str(ID) + "entity/"
DOC_PREFIX = str(ID) + "doc/"


@dataclass
class Context:
    """What every worker shares: read once in the main process, inherited by fork."""

    data: Path
    ontology: Graph
    registry: Registry
    entity_hashes: dict[str, str]
    environment: str

    def __post_init__(self) -> None:
        self.types = act_types(self.ontology)
        self.closure = Context.closure_of(self.ontology)

    @staticmethod
    def closure_of(ontology: Graph) -> Closure:
        """The ontology's closure tables, built once per ontology graph."""
        found = _CLOSURES.get(id(ontology))
        if found is None or found[0] is not ontology:
            found = (ontology, Closure(ontology))
            _CLOSURES[id(ontology)] = found
        return found[1]


_CONTEXT: Context | None = None
_CLOSURES: dict[int, tuple[Graph, Closure]] = {}


def prepare(context: Context) -> None:
    global _CONTEXT
    _CONTEXT = context


def entity_hashes(registry: Registry) -> dict[str, str]:
    """A hash of each registry entry's data (not its line), to key the documents using it."""
    out = {}
    for key, ent in registry.entities.items():
        data = asdict(ent)
        data.pop("line", None)
        out[key] = combine(json.dumps(data, sort_keys=True, default=str))
    return out


# --- serialisation of one chunk's graphs (Oxigraph's writers) ---------------------------------

# Prefixes of the Turtle and TriG outputs: the project's, without those whose local
# names would need escaped slashes (doc:x\\/claim): those IRIs read better in full.
WRITER_PREFIXES = {k: v for k, v in sorted(PREFIXES.items()) if k not in ("doc", "id")}


def ox_quads(name: URIRef | None, triples: Iterable[tuple[Node, Node, Node]]) -> list[Any]:
    """The triples as Oxigraph quads (in ``name``) or triples, in sorted order."""
    graph = ox.NamedNode(str(name)) if name is not None else None
    out = []
    for s, p, o in sorted(triples):
        triple = (to_ox(s), to_ox(p), to_ox(o))
        out.append(ox.Quad(*triple, graph) if graph is not None else ox.Triple(*triple))
    return out


def _serialize(items: list[Any], fmt: ox.RdfFormat, **options: Any) -> str:
    data = ox.serialize(items, format=fmt, **options)
    assert data is not None  # without an output, Oxigraph returns the bytes
    return data.decode("utf-8")


def _lines(text: str) -> list[str]:
    return sorted({line for line in text.splitlines() if line.strip()})


def nt_lines(triples: Iterable[tuple[Node, Node, Node]]) -> list[str]:
    """Sorted, distinct N-Triples lines (as rdflib's N-Triples writer prints them too)."""
    return _lines(_serialize(ox_quads(None, triples), ox.RdfFormat.N_TRIPLES))


def trig_block(quads: list[Any]) -> str:
    """One named graph's block of TriG, without the prefix header."""
    text = _serialize(quads, ox.RdfFormat.TRIG, prefixes=WRITER_PREFIXES)
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("@prefix "))


def jsonld_object(quads: list[Any]) -> str:
    """One named graph as an expanded JSON-LD graph object (Oxigraph's writer)."""
    text = _serialize(quads, ox.RdfFormat.JSON_LD).strip()
    assert text.startswith("[") and text.endswith("]"), text[:40]
    return text[1:-1]


# --- the work ---------------------------------------------------------------------------------

@dataclass
class Outcome:
    """A worker's answer: the manifest entry, or the error to show (picklable)."""

    name: str
    entry: Entry | None = None
    error: tuple[str, str, str | None, list[Problem]] | None = None

    def raise_error(self) -> None:
        if self.error is not None:
            import kg.errors as errors

            kind, message, hint, problems = self.error
            cls = getattr(errors, kind, errors.InputError)
            raise cls(message, hint=hint, problems=problems)


def _write_chunk(folder: Path, graphs: Mapping[URIRef, Graph], derived: set[Any],
                 meta: dict[str, Any]) -> dict[str, Any]:
    """Write the chunk's files into ``folder`` (atomically: temporary folder, then rename)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    if (folder / "meta.json").is_file():  # the same key was computed before
        return dict(json.loads((folder / "meta.json").read_text(encoding="utf-8")))
    temp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        per_graph = {name: ox_quads(name, graphs[name]) for name in sorted(graphs)}
        quads = _lines(_serialize([q for g in per_graph.values() for q in g],
                                  ox.RdfFormat.N_QUADS))
        (temp / "quads.nq").write_text("".join(f"{q}\n" for q in quads), encoding="utf-8")
        triples = nt_lines(t for g in graphs.values() for t in g)
        (temp / "triples.nt").write_text("".join(f"{t}\n" for t in triples), encoding="utf-8")
        derived_lines = nt_lines(derived)
        (temp / "derived.nt").write_text("".join(f"{t}\n" for t in derived_lines),
                                         encoding="utf-8")
        blocks = [{"graph": str(name), "trig": trig_block(q), "jsonld": jsonld_object(q)}
                  for name, q in per_graph.items()]
        (temp / "graphs.json").write_text(json.dumps(blocks, ensure_ascii=False),
                                          encoding="utf-8")
        meta["quads"] = len(quads)
        meta["derived"] = len(derived_lines)
        meta["graphs"] = [{"graph": b["graph"], "triples": len(graphs[URIRef(b["graph"])])}
                          for b in blocks]
        meta["first"] = quads[0] if quads else ""
        meta["last"] = quads[-1] if quads else ""
        meta["nt_first"] = triples[0] if triples else ""
        meta["nt_last"] = triples[-1] if triples else ""
        meta["derived_first"] = derived_lines[0] if derived_lines else ""
        meta["derived_last"] = derived_lines[-1] if derived_lines else ""
        meta["predicates"] = predicate_digests(quads)
        meta["derived_predicates"] = predicate_digests(derived_lines)
        (temp / "meta.json").write_text(json.dumps(meta, sort_keys=True), encoding="utf-8")
        try:
            os.rename(temp, folder)
        except OSError:
            if not folder.is_dir():  # another run wrote the same key meanwhile: keep theirs
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return meta


def _graph_entities(graph: Graph, registry: Registry) -> set[str]:
    """Registry keys a graph names, and the keys those entries refer to."""
    keys = {str(o)[len(ENTITY_PREFIX):] for o in graph.objects()
            if isinstance(o, URIRef) and str(o).startswith(ENTITY_PREFIX)}
    for key in list(keys):
        ent = registry.get(key)
        if ent is not None:
            for refs in ent.refs.values():
                keys.update(refs)
    return {k for k in keys if k in registry}


def _external(graph: Graph, doc_id: str) -> list[str]:
    """IRIs of other documents' nodes this graph refers to (their types help validate it)."""
    own = f"{DOC_PREFIX}{doc_id}"
    return sorted({str(o) for o in graph.objects() if isinstance(o, URIRef)
                   and str(o).startswith(DOC_PREFIX) and str(o) != own
                   and not str(o).startswith(own + "/")})


def work_document(path: Path, cache_dir: Path) -> Outcome:
    """Compile one curation file into its cached chunk."""
    ctx = _CONTEXT
    assert ctx is not None, "prepare() was not called"
    try:
        from kg.compile import _display

        cur = load_curation(path, ctx.registry, ctx.types, _display(path))
        graph = compile_document(cur, ctx.registry, ctx.types)
        name = document_graph(cur.doc_id)
        used = _graph_entities(graph, ctx.registry)
        inputs = {str(path): sha256_file(path), str(cur.text_path): sha256_file(cur.text_path)}
        entities = {k: ctx.entity_hashes[k] for k in sorted(used)}
        key = combine(ctx.environment, *(f"{p} {h}" for p, h in sorted(inputs.items())),
                      *(f"{k} {h}" for k, h in entities.items()))
        cov = coverage(cur)
        meta = {
            "doc_id": cur.doc_id, "file": cur.path, "file_path": str(path),
            "claims": len(cur.claims), "mentions": len(cur.mentions),
            "editorial": len(cur.editorial) + len(cur.glosses),
            "coverage": {"total": cov.total, "uncovered": cov.uncovered, "no_act": cov.no_act},
            "claim_ids": sorted(c.id for c in cur.claims),
            "refs": [[r.doc_id, r.claim_id, r.file, r.line, r.item] for r in cur.external_refs],
            "external": _external(graph, cur.doc_id),
        }
        derived = ctx.closure.derive(graph)
        meta = _write_chunk(cache_dir / key, {name: graph}, derived, meta)
        return Outcome(f"doc/{cur.doc_id}", Entry(key, inputs, entities, meta))
    except KgError as exc:
        return Outcome(str(path), error=(type(exc).__name__, exc.message, exc.hint,
                                         exc.problems))


def work_shared(kind: str, inputs: dict[str, str], cache_dir: Path) -> Outcome:
    """The registry graph (``entities``) or the link graphs (``links``) as a chunk."""
    ctx = _CONTEXT
    assert ctx is not None, "prepare() was not called"
    try:
        if kind == "entities":
            graphs = {ENTITIES_GRAPH: registry_graph(ctx.registry)}
        else:
            graphs = link_graphs(ctx.data, ctx.registry)
        key = combine(ctx.environment, kind,
                      *(f"{p} {h}" for p, h in sorted(inputs.items())))
        union = Graph()
        for graph in graphs.values():
            for triple in graph:
                union.add(triple)
        meta = _write_chunk(cache_dir / key, graphs, ctx.closure.derive(union),
                            {"kind": kind})
        return Outcome(kind, Entry(key, inputs, {}, meta))
    except KgError as exc:
        return Outcome(kind, error=(type(exc).__name__, exc.message, exc.hint, exc.problems))


__all__ = ["Context", "Corpus", "Outcome", "entity_hashes", "prepare", "work_document",
           "work_shared"]
