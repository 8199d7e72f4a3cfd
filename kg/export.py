"""Write graphs to files: deterministic bytes, atomic replacement.

The same input gives byte-identical files: N-Triples and N-Quads lines are
sorted, Turtle is rdflib's ``longturtle`` (sorted subjects and predicates), TriG
is one ``longturtle`` block per named graph in IRI order, and JSON-LD is
re-serialised with sorted keys and sorted arrays (JSON-LD arrays other than
``@list`` are unordered, so sorting changes nothing in meaning).

A set of files is written to temporary names first and renamed only when every
one of them was produced, so a failure leaves the previous files as they were.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from kg.errors import InputError
from kg.namespace import PREFIXES

# File suffix -> rdflib parser name, for reading our own outputs back.
PARSE_FORMAT = {".trig": "trig", ".nq": "nquads", ".ttl": "turtle", ".nt": "nt",
                ".jsonld": "json-ld"}


def describe_parse_error(path: Path, exc: Exception) -> str:
    """rdflib's Turtle errors carry the line and reason; show them without byte reprs."""
    why = getattr(exc, "_why", None)
    line = getattr(exc, "lines", None)
    if why is not None and isinstance(line, int):
        return f"{path}:{line + 1}: {why}"
    return f"{path}: {exc}"


def _bound(graph: Graph) -> Graph:
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True, replace=True)
    return graph


def is_generalized(triple: tuple[Node, Node, Node]) -> bool:
    """True for triples RDF 1.1 does not allow (literal subject or predicate, etc.)."""
    s, p, _ = triple
    return isinstance(s, Literal) or not isinstance(p, URIRef)


def plain(triples: Iterable[tuple[Node, Node, Node]]) -> Graph:
    """A graph of the given triples, in sorted order, with the project's prefixes."""
    graph = _bound(Graph())
    for triple in sorted(triples):
        if is_generalized(triple):
            raise ValueError(f"generalized triple cannot be written: {triple}")
        graph.add(triple)
    return graph


def merge(*graphs: Graph) -> Graph:
    """A new graph holding the triples of all ``graphs`` (the inputs are not changed)."""
    union = Graph()
    for graph in graphs:
        for triple in graph:
            union.add(triple)
    return union


def flatten(dataset: Dataset) -> Graph:
    """The triples of every graph of a dataset, without graph names."""
    union = Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        union.add((s, p, o))
    return union


def ntriples(graph: Graph) -> str:
    lines = sorted(line for line in graph.serialize(format="nt").splitlines() if line.strip())
    return "\n".join(lines) + ("\n" if lines else "")


def nquads(dataset: Dataset) -> str:
    lines = sorted(line for line in dataset.serialize(format="nquads").splitlines()
                   if line.strip())
    return "\n".join(lines) + ("\n" if lines else "")


def turtle(graph: Graph) -> str:
    return str(_bound(graph).serialize(format="longturtle"))


def _body(text: str) -> tuple[list[str], str]:
    """Split longturtle output into its PREFIX lines and its body."""
    prefixes: list[str] = []
    body: list[str] = []
    for line in text.splitlines():
        (prefixes if line.startswith("PREFIX ") else body).append(line)
    return prefixes, "\n".join(body).strip("\n")


def trig(graphs: Mapping[URIRef, Graph]) -> str:
    """TriG with one block per named graph, in graph IRI order."""
    prefix_lines: set[str] = set()
    blocks = []
    for name in sorted(graphs):
        prefixes, body = _body(turtle(plain(graphs[name])))
        prefix_lines.update(prefixes)
        # No re-indentation: it would change the content of multi-line literals.
        blocks.append(f"<{name}> {{\n{body}\n}}\n")
    return "\n".join(sorted(prefix_lines)) + "\n\n" + "\n".join(blocks)


def _sorted_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_json(item) if key != "@list" else [_sorted_json(i) for i in item]
                for key, item in value.items()}
    if isinstance(value, list):
        items = [_sorted_json(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))
    return value


def context_document() -> dict[str, Any]:
    """The JSON-LD context shipped beside the JSON-LD output."""
    return {"@context": dict(sorted(PREFIXES.items()))}


def jsonld(graphs: Mapping[URIRef, Graph]) -> str:
    raw = dataset_of(graphs).serialize(format="json-ld", context=context_document()["@context"],
                            auto_compact=True)
    data = json.loads(raw)
    if isinstance(data, dict) and "@context" in data:
        data["@context"] = "context.jsonld"
    return json.dumps(_sorted_json(data), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dataset_of(graphs: Mapping[URIRef, Graph]) -> Dataset:
    dataset = Dataset()
    for name in sorted(graphs):
        target = dataset.graph(name)
        for triple in sorted(graphs[name]):
            target.add(triple)
    return dataset


def write_atomically(files: Mapping[Path, str]) -> None:
    """Write every file, or none: temporary files first, then renames."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, content in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                            dir=path.parent)
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(content)
            temps.append((Path(name), path))
    except OSError as exc:
        for temp, _ in temps:
            temp.unlink(missing_ok=True)
        raise InputError(f"cannot write output: {exc}",
                         hint="check that the output folder is writable") from None
    except BaseException:
        for temp, _ in temps:
            temp.unlink(missing_ok=True)
        raise
    umask = os.umask(0)
    os.umask(umask)
    for temp, path in temps:
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)


def graph_files(stem: Path, graphs: Mapping[URIRef, Graph]) -> dict[Path, str]:
    """Every output format of a set of named graphs: ``stem``.trig/.nq/.ttl/.nt/.jsonld."""
    union = plain(triple for graph in graphs.values() for triple in graph)
    named = {name: plain(graph) for name, graph in graphs.items()}
    return {
        stem.with_suffix(".trig"): trig(named),
        stem.with_suffix(".nq"): nquads(dataset_of(named)),
        stem.with_suffix(".ttl"): turtle(union),
        stem.with_suffix(".nt"): ntriples(union),
        stem.with_suffix(".jsonld"): jsonld(named),
    }


def read_dataset(path: Path) -> Dataset:
    """Parse one of our TriG or N-Quads outputs back into a dataset."""
    dataset = Dataset()
    try:
        dataset.parse(path, format=PARSE_FORMAT[path.suffix])
    except FileNotFoundError:
        raise InputError(f"{path} does not exist", hint="run `kg build` first") from None
    return dataset
