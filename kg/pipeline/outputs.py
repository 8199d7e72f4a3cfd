"""The five output formats, assembled from the chunks' cached fragments.

Memory is bounded by the largest chunk, not the corpus: every whole-corpus file is
written as a stream, from files the chunks wrote once.

- N-Quads and N-Triples are the chunks' sorted lines merged into one sorted stream
  (lines are compared as strings, as ``sorted()`` did for the whole corpus): chunks
  whose line ranges do not overlap (a document's subjects share its IRI prefix) are
  copied as they are, only overlapping ones are merged line by line. The bytes are
  those of :mod:`kg.export`.
- TriG is one block per named graph in graph IRI order, each block written by rdflib
  for its chunk (``longturtle``), under the union of their prefixes: again the bytes
  of :mod:`kg.export`.
- JSON-LD holds one graph object per named graph, sorted as :mod:`kg.export` sorts
  them, each compacted by rdflib for its chunk: the same bytes.
- Turtle (the union of the graphs), and the inferred graph's TriG, Turtle and JSON-LD,
  are written by Oxigraph's streaming serialisers from the sorted N-Triples. They
  differ in layout from rdflib's ``longturtle`` (subjects in sorted order, tabs,
  ``@prefix``) and the inferred JSON-LD is in expanded form; each holds the same
  triples (a test compares them as graphs with rdflib's writers).

Every file is written to a temporary name and renamed at the end, all or none
(:func:`commit`).
"""

from __future__ import annotations

import heapq
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from kg.export import context_document
from kg.namespace import INFERRED_GRAPH
from kg.pipeline.chunks import WRITER_PREFIXES


@dataclass
class Fragment:
    """A sorted file of lines and its first and last line."""

    path: Path
    first: str
    last: str


def merge_lines(fragments: Sequence[Fragment], out: IO[str], distinct: bool = True) -> int:
    """Write the sorted union of the fragments' lines to ``out``; return the number written.

    Fragments whose ranges do not overlap any other are copied whole.
    """
    parts = sorted((f for f in fragments if f.first), key=lambda f: (f.first, f.last))
    groups: list[list[Fragment]] = []
    high = ""
    for frag in parts:
        if groups and frag.first <= high:
            groups[-1].append(frag)
            high = max(high, frag.last)
        else:
            groups.append([frag])
            high = frag.last
    written = 0
    for group in groups:
        if len(group) == 1:
            # One chunk's file (the size of a document), copied whole.
            text = group[0].path.read_text(encoding="utf-8")
            out.write(text)
            written += text.count("\n")
            continue
        with ExitStack() as stack:
            streams = [stack.enter_context(f.path.open(encoding="utf-8")) for f in group]
            previous = None
            for line in heapq.merge(*streams):
                if distinct and line == previous:
                    continue
                out.write(line)
                previous = line
                written += 1
    return written


def minus(lines: Iterable[str], sorted_file: Path) -> Iterator[str]:
    """The sorted ``lines`` not in the sorted file (a streaming merge-join)."""
    with sorted_file.open(encoding="utf-8") as stream:
        other = next(stream, None)
        for line in lines:
            while other is not None and other < line:
                other = next(stream, None)
            if other != line:
                yield line


def distinct_merge(*iterables: Iterable[str]) -> Iterator[str]:
    previous = None
    for line in heapq.merge(*iterables):
        if line != previous:
            yield line
            previous = line


class Writer:
    """Temporary files for a set of outputs, renamed into place together."""

    def __init__(self) -> None:
        self.temps: list[tuple[Path, Path]] = []

    def open(self, path: Path) -> IO[str]:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        self.temps.append((Path(name), path))
        return os.fdopen(handle, "w", encoding="utf-8", newline="\n")

    def temp_of(self, path: Path) -> Path:
        return next(temp for temp, final in self.temps if final == path)

    def discard(self) -> None:
        for temp, _ in self.temps:
            temp.unlink(missing_ok=True)
        self.temps = []

    def commit(self) -> list[Path]:
        umask = os.umask(0)
        os.umask(umask)
        for temp, path in self.temps:
            os.chmod(temp, 0o666 & ~umask)
            os.replace(temp, path)
        done = sorted(path for _, path in self.temps)
        self.temps = []
        return done


class _SortedHeader:
    """A byte sink that writes Oxigraph's ``@prefix`` header in sorted order.

    Oxigraph prints the prefixes it is given in an order of its own; sorting them
    makes the file's bytes depend only on its triples.
    """

    def __init__(self, raw: IO[bytes], count: int) -> None:
        self.raw = raw
        self.count = count
        self.buffer = b""

    def write(self, data: bytes) -> int:
        if self.count <= 0:
            self.raw.write(data)
            return len(data)
        self.buffer += data
        lines = self.buffer.split(b"\n")
        if len(lines) - 1 >= self.count:
            header, rest = lines[: self.count], b"\n".join(lines[self.count:])
            self.raw.write(b"\n".join(sorted(header)) + b"\n" + rest)
            self.count = 0
            self.buffer = b""
        return len(data)

    def flush(self) -> None:
        if self.count > 0 and self.buffer:
            lines = self.buffer.split(b"\n")
            self.raw.write(b"\n".join(sorted(lines[:-1]) + lines[-1:]))
            self.buffer = b""
        self.raw.flush()


def _oxigraph_write(source_nt: Path, target: IO[str], fmt: ox.RdfFormat,
                    graph: str | None = None) -> None:
    """Stream the triples of an N-Triples file into another format."""
    prefixes = WRITER_PREFIXES
    triples = ox.parse(path=str(source_nt), format=ox.RdfFormat.N_TRIPLES)
    items: Iterable[Any] = triples
    if graph is not None:
        name = ox.NamedNode(graph)
        items = (ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)
    target.flush()
    with open(target.fileno(), "wb", closefd=False) as raw:
        if fmt == ox.RdfFormat.JSON_LD:
            ox.serialize(items, raw, format=fmt)
        else:
            sink = _SortedHeader(raw, len(prefixes))
            ox.serialize(items, sink, format=fmt, prefixes=prefixes)  # type: ignore[arg-type]
            sink.flush()


@dataclass
class GraphBlock:
    graph: str
    chunk: Path


def write_asserted(stem: Path, chunk_dirs: Sequence[Path], metas: Sequence[dict[str, object]],
                   writer: Writer) -> int:
    """``stem``.nq/.nt/.trig/.jsonld/.ttl from the chunks; returns the number of quads."""
    quads = [Fragment(d / "quads.nq", str(m["first"]) + "\n", str(m["last"]) + "\n")
             for d, m in zip(chunk_dirs, metas, strict=True)]
    with writer.open(stem.with_suffix(".nq")) as out:
        count = merge_lines(quads, out, distinct=False)
    triples = [Fragment(d / "triples.nt", str(m["nt_first"]) + "\n", str(m["nt_last"]) + "\n")
               for d, m in zip(chunk_dirs, metas, strict=True)]
    with writer.open(stem.with_suffix(".nt")) as out:
        merge_lines(triples, out)
    blocks = []
    for folder, meta in zip(chunk_dirs, metas, strict=True):
        for item in meta["graphs"]:  # type: ignore[attr-defined]
            blocks.append(GraphBlock(item["graph"], folder))
    blocks.sort(key=lambda b: b.graph)
    with writer.open(stem.with_suffix(".trig")) as out:
        out.write(_header())
        for block in blocks:
            out.write(str(_graph_items(block.chunk)[block.graph]["trig"]))
    with writer.open(stem.with_suffix(".jsonld")) as out:
        out.write("[")
        for n, block in enumerate(blocks):
            out.write(("," if n else "") + str(_graph_items(block.chunk)[block.graph]["jsonld"]))
        out.write("]\n")
    with writer.open(stem.with_suffix(".ttl")) as out:
        _oxigraph_write(writer.temp_of(stem.with_suffix(".nt")), out, ox.RdfFormat.TURTLE)
    return count


def _header() -> str:
    return "".join(f"@prefix {p}: <{i}> .\n" for p, i in sorted(WRITER_PREFIXES.items()))


def _graph_items(folder: Path) -> dict[str, dict[str, object]]:
    items = json.loads((folder / "graphs.json").read_text(encoding="utf-8"))
    return {item["graph"]: item for item in items}


def write_inferred(stem: Path, closure: Iterable[str], rules: Iterable[str],
                   writer: Writer) -> int:
    """``stem``.* from the sorted closure lines and the sorted rule lines (N-Triples)."""
    count = 0
    graph = f" <{INFERRED_GRAPH}> ."
    with writer.open(stem.with_suffix(".nt")) as nt, writer.open(stem.with_suffix(".nq")) as nq:
        for line in distinct_merge(closure, rules):
            nt.write(line)
            nq.write(line[: line.rstrip().rfind(" .")] + graph + "\n")
            count += 1
    source = writer.temp_of(stem.with_suffix(".nt"))
    with writer.open(stem.with_suffix(".trig")) as out:
        _oxigraph_write(source, out, ox.RdfFormat.TRIG, str(INFERRED_GRAPH))
    with writer.open(stem.with_suffix(".ttl")) as out:
        _oxigraph_write(source, out, ox.RdfFormat.TURTLE)
    with writer.open(stem.with_suffix(".jsonld")) as out:
        _oxigraph_write(source, out, ox.RdfFormat.JSON_LD, str(INFERRED_GRAPH))
    return count


def write_context(path: Path, writer: Writer) -> None:
    with writer.open(path) as out:
        out.write(json.dumps(context_document(), indent=2, sort_keys=True) + "\n")


def copy_file(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
