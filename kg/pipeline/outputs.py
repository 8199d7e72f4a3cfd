"""The five output formats, assembled from the chunks' cached fragments.

Memory is bounded by the largest chunk, not the corpus: every whole-corpus file is
written as a stream, from files the chunks wrote once.

- N-Quads and N-Triples are the chunks' sorted lines merged into one sorted stream
  (lines are compared as strings, as ``sorted()`` did for the whole corpus), span by
  span (:func:`spans`): a span that only one chunk's file fills (a document's
  subjects share its IRI prefix) is copied as it is, the others are merged line by
  line. The bytes are those of :mod:`kg.export`.
- TriG is one block per named graph in graph IRI order, each block written by rdflib
  for its chunk (``longturtle``), under the union of their prefixes: again the bytes
  of :mod:`kg.export`.
- JSON-LD holds one graph object per named graph, sorted as :mod:`kg.export` sorts
  them, each compacted by rdflib for its chunk: the same bytes.
- Turtle (the union of the graphs) is written by Oxigraph span by span from the
  sorted N-Triples; the inferred graph's TriG, Turtle and JSON-LD by Oxigraph's
  streaming serialisers from its sorted N-Triples. They
  differ in layout from rdflib's ``longturtle`` (subjects in sorted order, tabs,
  ``@prefix``) and the inferred JSON-LD is in expanded form; each holds the same
  triples (a test compares them as graphs with rdflib's writers).

Every file is written to a temporary name and renamed at the end, all or none
(:func:`commit`). Each asserted file keeps an index of its parts (:class:`Segments`):
the next build copies the parts whose chunks are unchanged from the file as it is, so
an edit to one document rewrites that document's share of each file, not the corpus.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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


@dataclass
class Span:
    """The lines of the merged file from ``low`` (included) to ``high`` (excluded; None:
    to the end), and the fragments whose range meets it (each may have lines there)."""

    low: str
    high: str | None
    fragments: list[Fragment]

    @property
    def key(self) -> str:
        """What the span's lines depend on: its bounds and its fragments (a chunk
        folder's name is the key of its content)."""
        digest = hashlib.sha256(f"{self.low}\0{self.high}\0".encode())
        for frag in self.fragments:
            digest.update(f"{frag.path.parent.name}/{frag.path.name}\0".encode())
        return digest.hexdigest()


def spans(fragments: Sequence[Fragment]) -> list[Span]:
    """The merged file cut where a fragment's first subject starts and after its last.

    Cuts fall between subjects, never inside one: the lines of a subject start with
    it and a space, so they sort together, before the cut ``subject + " \\x7f"``
    (a predicate starts with ``<``). A fragment whose lines are spread over the whole
    range (the link decisions hold both Wikidata's IRIs and the project's) meets many
    spans; a document's fragment meets only the spans inside its own range, so an
    edit to a document changes only those.
    """
    parts = sorted(((_subject_range(f), f) for f in fragments if f.first), key=lambda i: i[0])
    cuts = sorted({low for (low, _), _ in parts} | {high for (_, high), _ in parts})
    out: list[Span] = []
    active: list[tuple[tuple[str, str], Fragment]] = []
    waiting = 0
    for n, low in enumerate(cuts):
        while waiting < len(parts) and parts[waiting][0][0] <= low:
            active.append(parts[waiting])
            waiting += 1
        active = [item for item in active if low < item[0][1]]
        if active:
            out.append(Span(low, cuts[n + 1] if n + 1 < len(cuts) else None,
                            [frag for _, frag in active]))
    return out


def _subject_range(frag: Fragment) -> tuple[str, str]:
    """The range of lines a fragment's subjects cover: from its first subject (with the
    space after it) to just after its last subject's lines."""
    return frag.first.split(" ", 1)[0] + " ", frag.last.split(" ", 1)[0] + " \x7f"


class _Reader:
    """A fragment's lines in order, read once across the spans that ask for them."""

    def __init__(self, path: Path) -> None:
        self.stream = path.open(encoding="utf-8")
        self.pending: str | None = next(self.stream, None)

    def between(self, low: str, high: str | None) -> Iterator[str]:
        line = self.pending
        while line is not None and line < low:
            line = next(self.stream, None)
        while line is not None and (high is None or line < high):
            yield line
            line = next(self.stream, None)
        self.pending = line

    def close(self) -> None:
        self.stream.close()


class SpanWriter:
    """Writes spans in order, keeping open only the fragments still to be read."""

    def __init__(self, distinct: bool) -> None:
        self.distinct = distinct
        self.readers: dict[Path, tuple[Fragment, _Reader]] = {}

    def write(self, span: Span, out: IO[str]) -> int:
        frags = span.fragments
        if len(frags) == 1 and span.low <= frags[0].first and (
                span.high is None or frags[0].last < span.high):
            # One chunk's whole file (the size of a document), copied as it is.
            text = frags[0].path.read_text(encoding="utf-8")
            out.write(text)
            written = text.count("\n")
        else:
            for frag in frags:
                if frag.path not in self.readers:
                    self.readers[frag.path] = (frag, _Reader(frag.path))
            streams = [self.readers[f.path][1].between(span.low, span.high) for f in frags]
            written = 0
            previous = None
            for line in heapq.merge(*streams):
                if self.distinct and line == previous:
                    continue
                out.write(line)
                previous = line
                written += 1
        self.release(span.high)
        return written

    def release(self, high: str | None) -> None:
        """Close the fragments that end before ``high``: no later span reads them."""
        for frag_path, (frag, reader) in list(self.readers.items()):
            if high is None or frag.last < high:
                reader.close()
                del self.readers[frag_path]

    def close(self) -> None:
        for _, reader in self.readers.values():
            reader.close()
        self.readers = {}


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


class Segments:
    """The parts of one output file and where each came from, so that the next write
    copies the parts whose sources are unchanged from the file as it is.

    A part's key names the chunk folders its bytes come from; a folder's name is the key
    of its content, so an unchanged key means unchanged bytes. The index of the previous
    write (key, byte offset, length, lines) is trusted only while the file still has the
    size and modification time recorded with it; otherwise every part is made again.
    """

    def __init__(self, path: Path, previous: Mapping[str, Any] | None) -> None:
        self.path = path
        self.old: dict[str, tuple[int, int, int]] = {}
        if previous and _stamp(path) == previous.get("stamp"):
            self.old = {key: (offset, length, lines)
                        for key, offset, length, lines in previous.get("parts", [])}
        self.parts: list[list[Any]] = []
        self._source: IO[bytes] | None = None

    def part(self, out: IO[str], key: str, make: Callable[[IO[str]], int]) -> int:
        """Copy the part ``key`` from the previous file, or ``make`` it; return its lines."""
        out.flush()
        raw: Any = out.buffer  # type: ignore[attr-defined]
        start = raw.tell()
        found = self.old.get(key)
        if found is not None:
            offset, length, lines = found
            if self._source is None:
                self._source = self.path.open("rb")
            _copy_range(self._source, offset, length, raw)
        else:
            lines = make(out)
            out.flush()
        self.parts.append([key, start, raw.tell() - start, lines])
        return lines

    def close(self) -> dict[str, Any]:
        """The index of the file just written (its stamp is added once it is in place)."""
        if self._source is not None:
            self._source.close()
            self._source = None
        return {"parts": self.parts}


def _copy_range(source: IO[bytes], offset: int, length: int, raw: Any) -> None:
    """Append ``length`` bytes of ``source`` from ``offset`` to the buffered file ``raw``:
    in the kernel where it can (``copy_file_range``), the rest through a buffer."""
    raw.flush()
    start = raw.tell()
    done = 0
    try:
        while done < length:
            n = os.copy_file_range(source.fileno(), raw.fileno(), length - done,
                                   offset + done, start + done)
            if n == 0:
                break
            done += n
    except (AttributeError, OSError):  # not Linux, or not one file system: copy below
        pass
    raw.seek(start + done)
    source.seek(offset + done)
    remaining = length - done
    while remaining:
        block = source.read(min(remaining, 1 << 20))
        if not block:
            raise OSError(f"{source.name} is shorter than its index says")
        raw.write(block)
        remaining -= len(block)


def _stamp(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def stamp_index(index: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Record each written file's size and modification time with its index."""
    for name, entry in index.items():
        entry["stamp"] = _stamp(Path(name))
    return index


def write_asserted(stem: Path, chunk_dirs: Sequence[Path], metas: Sequence[dict[str, object]],
                   writer: Writer, previous: Mapping[str, Any] | None = None
                   ) -> dict[str, dict[str, Any]]:
    """``stem``.nq/.nt/.trig/.jsonld/.ttl from the chunks; return the files' indexes.

    ``previous`` is the index :func:`write_asserted` returned last time (after
    :func:`stamp_index`): the parts of each file whose chunks did not change are copied
    from the file as it is, so an edit to one document rewrites that document's parts.
    The bytes are the same either way.
    """
    previous = previous or {}
    index: dict[str, dict[str, Any]] = {}

    def segments(suffix: str) -> Segments:
        path = stem.with_suffix(suffix)
        return Segments(path, previous.get(str(path)))

    quads = [Fragment(d / "quads.nq", str(m["first"]) + "\n", str(m["last"]) + "\n")
             for d, m in zip(chunk_dirs, metas, strict=True)]
    triples = [Fragment(d / "triples.nt", str(m["nt_first"]) + "\n", str(m["nt_last"]) + "\n")
               for d, m in zip(chunk_dirs, metas, strict=True)]
    nt_spans = spans(triples)
    for suffix, cut, distinct in ((".nq", spans(quads), False), (".nt", nt_spans, True)):
        parts = segments(suffix)
        lines = SpanWriter(distinct)
        try:
            with writer.open(stem.with_suffix(suffix)) as out:
                for span in cut:
                    parts.part(out, span.key, lambda o, s=span, w=lines: w.write(s, o))  # type: ignore[misc]
        finally:
            lines.close()
        index[str(parts.path)] = parts.close()

    blocks = []
    for folder, meta in zip(chunk_dirs, metas, strict=True):
        for item in meta["graphs"]:  # type: ignore[attr-defined]
            blocks.append(GraphBlock(item["graph"], folder))
    blocks.sort(key=lambda b: b.graph)
    items = _GraphItems()
    for suffix, field_name, head, between, tail in ((".trig", "trig", _header(), "", ""),
                                                     (".jsonld", "jsonld", "[", ",", "]\n")):
        parts = segments(suffix)
        with writer.open(stem.with_suffix(suffix)) as out:
            out.write(head)
            for n, block in enumerate(blocks):
                if n:
                    out.write(between)
                parts.part(out, f"{block.graph} {block.chunk.name}",
                           lambda o, b=block, f=field_name: _write_block(o, items, b, f))  # type: ignore[misc]
            out.write(tail)
        index[str(parts.path)] = parts.close()

    # The Turtle of each span is made from that span's lines as just written to the
    # N-Triples file (its index says where), not merged from the chunks again.
    ttl = segments(".ttl")
    nt_parts = {key: (offset, length)
                for key, offset, length, _ in index[str(stem.with_suffix(".nt"))]["parts"]}
    with writer.open(stem.with_suffix(".ttl")) as out, \
            writer.temp_of(stem.with_suffix(".nt")).open("rb") as source:
        if nt_spans:
            out.write(_turtle_header())
        for span in nt_spans:
            ttl.part(out, span.key,
                     lambda o, k=span.key: _write_turtle(source, *nt_parts[k], o))  # type: ignore[misc]
    index[str(ttl.path)] = ttl.close()
    return index


class _GraphItems:
    """A chunk's ``graphs.json``, read once for the blocks that need it in turn."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.items: dict[str, dict[str, object]] = {}

    def __call__(self, folder: Path) -> dict[str, dict[str, object]]:
        if folder != self.folder:
            self.folder, self.items = folder, _graph_items(folder)
        return self.items


def _write_block(out: IO[str], items: _GraphItems, block: GraphBlock, field_name: str) -> int:
    out.write(str(items(block.chunk)[block.graph][field_name]))
    return 0


def _turtle_header() -> str:
    """Oxigraph's ``@prefix`` lines, sorted (see :class:`_SortedHeader`)."""
    return "".join(sorted(f"@prefix {p}: <{i}> .\n" for p, i in WRITER_PREFIXES.items()))


def _write_turtle(source: IO[bytes], offset: int, length: int, out: IO[str]) -> int:
    """One span's triples (``length`` bytes of N-Triples at ``offset``) in Turtle, written
    by Oxigraph, without the prefix lines. Spans are cut between subjects, so the parts
    join into what one pass over the whole file writes."""
    if not length:
        return 0
    source.seek(offset)
    body = ox.serialize(ox.parse(input=source.read(length), format=ox.RdfFormat.N_TRIPLES),
                        format=ox.RdfFormat.TURTLE, prefixes=WRITER_PREFIXES)
    assert body is not None
    turtle = body.decode("utf-8").splitlines(keepends=True)
    out.write("".join(turtle[len(WRITER_PREFIXES):]))
    return 0


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
