"""The incremental pipeline: build, infer and validate, redoing only what changed.

``build``
    finds each chunk's inputs, reuses every chunk whose key is unchanged, compiles
    the others in worker processes (one per core), checks references between
    documents from the manifest, replaces the changed chunks' graphs in the working
    store and writes ``build/asserted.*``.
``infer``
    merges the chunks' entailments (minus what is asserted) into ``graph/inferred``,
    runs the status rules on the store and writes ``build/inferred.*``.
``validate``
    validates each changed chunk with pySHACL (in parallel), evaluates the shapes'
    SPARQL constraints and the ``*-violation.rq`` checks on the store, and writes
    ``build/validation.ttl``.

Each stage records a key of what it read in the manifest; when nothing it depends on
changed, it does nothing.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rdflib import Graph, URIRef

from kg.build import Paths, load_ontology
from kg.compile import Coverage, curation_files
from kg.errors import InputError, Problem, ProblemList
from kg.linking import LINKS_FILE, SNAPSHOT_FILE
from kg.namespace import INFERRED_GRAPH, ONTOLOGY_GRAPH
from kg.pipeline import chunks, outputs
from kg.pipeline.cache import Cache, Entry, combine, environment_key, sha256_file
from kg.pipeline.progress import Progress
from kg.pipeline.workstore import WorkStore, open_store
from kg.registry import load_registry

T = TypeVar("T")
REGISTRY = "entities.yaml"


def workers() -> int:
    """Processes for per-chunk work: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def parallel(func: Callable[..., T], jobs: list[tuple[Any, ...]], label: str,
             quiet: bool = False) -> list[T]:
    """Run ``func(*job)`` for every job, in forked worker processes when there are several."""
    progress = Progress(label, len(jobs), quiet=quiet)
    results: list[T] = []
    try:
        if len(jobs) < 2 or workers() == 1:
            for job in jobs:
                results.append(func(*job))
                progress.advance()
            return results
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers(), mp_context=context) as pool:
            for result in pool.map(_call, [(func, job) for job in jobs]):
                results.append(result)
                progress.advance()
        return results
    finally:
        progress.close()


def _call(item: tuple[Callable[..., T], tuple[Any, ...]]) -> T:
    func, job = item
    return func(*job)


@dataclass
class DocumentReport:
    """What ``kg build`` prints for one document (from the manifest, even when reused)."""

    doc_id: str
    claims: int
    mentions: int
    editorial: int
    coverage: Coverage


@dataclass
class BuildResult:
    documents: list[DocumentReport]
    rebuilt: list[str]
    reused: int
    triples: int
    graphs: int
    files: list[Path] = field(default_factory=list)


class Pipeline:
    """The project's build folder and the stages that fill it."""

    def __init__(self, paths: Paths, quiet: bool = False) -> None:
        self.paths = paths
        self.quiet = quiet
        self.cache = Cache(paths.build)
        self._ontology: Graph | None = None

    @property
    def ontology(self) -> Graph:
        if self._ontology is None:
            self._ontology = load_ontology(self.paths.ontology_file)
        return self._ontology

    def environment(self) -> str:
        if not self.paths.ontology_file.exists():
            load_ontology(self.paths.ontology_file)  # raises the usual error
        if not self.paths.shapes_file.exists():
            raise InputError(f"shapes file {self.paths.shapes_file} not found",
                             hint="run kg from the project folder, or pass --ontology")
        return environment_key(self.paths.ontology_file, self.paths.shapes_file)

    # --- build ----------------------------------------------------------------------------

    def _reusable(self, name: str | None, hashes: dict[str, str] | None,
                  environment: str) -> Entry | None:
        """The manifest's entry for a chunk, if nothing it was computed from has changed."""
        entry = self.cache.entries.get(name) if name else None
        if entry is None or not self.cache.has(name, entry.key):  # type: ignore[arg-type]
            return None
        if entry.meta.get("environment") != environment:
            return None
        if any(_digest(Path(path)) != digest for path, digest in entry.inputs.items()):
            return None
        if hashes is not None and any(hashes.get(k) != h for k, h in entry.entities.items()):
            return None
        return entry

    def build(self) -> BuildResult:
        """Compile what changed, update the store, write ``build/asserted.*``."""
        data = self.paths.data
        environment = self.environment()
        registry_file = data / REGISTRY
        if not registry_file.exists():
            raise InputError(f"registry {registry_file} not found",
                             hint="create data/entities.yaml (README: Adding a document)")
        files = curation_files(data)
        if not files:
            raise InputError(f"no curation files in {data / 'curation'}",
                             hint="add data/curation/<document-id>.yaml (README: Adding a "
                                  "document)")
        registry, hashes = self._registry(registry_file)
        shared_inputs = {"entities": {str(registry_file): sha256_file(registry_file)}}
        if (data / LINKS_FILE).exists():
            shared_inputs["links"] = {str(p): sha256_file(p) for p in (
                data / LINKS_FILE, data / SNAPSHOT_FILE, registry_file) if p.exists()}
        by_file = {e.meta.get("file_path"): n for n, e in self.cache.entries.items()
                   if n.startswith("doc/")}
        reuse: dict[str, Entry] = {}
        todo_docs: list[Path] = []
        for path in files:
            name = by_file.get(str(path))
            entry = self._reusable(name, hashes, environment)
            if entry is not None and name is not None:
                reuse[name] = entry
            else:
                todo_docs.append(path)
        todo_shared = []
        for kind in shared_inputs:
            entry = self._reusable(kind, None, environment)
            if entry is not None and entry.inputs == shared_inputs[kind]:
                reuse[kind] = entry
            else:
                todo_shared.append(kind)
        outcomes: list[chunks.Outcome] = []
        if todo_docs or todo_shared:
            chunks.prepare(chunks.Context(data, self.ontology, registry, hashes, environment))
            jobs: list[tuple[Any, ...]] = [(chunks.work_shared, kind, shared_inputs[kind],
                                            self.cache.chunks_dir) for kind in todo_shared]
            jobs += [(chunks.work_document, path, self.cache.chunks_dir) for path in todo_docs]
            outcomes = parallel(_dispatch, [(job,) for job in jobs], "compile", self.quiet)
        failed = sorted((o for o in outcomes if o.error), key=lambda o: o.name)
        if failed:
            failed[0].raise_error()
        new: dict[str, Entry] = {}
        for outcome in outcomes:
            assert outcome.entry is not None
            outcome.entry.meta["environment"] = environment
            new[outcome.name] = outcome.entry
        entries = {**reuse, **new}
        self._check_documents(entries)
        store = WorkStore(open_store(self.paths.build))
        old_graphs = {name: [g["graph"] for g in entry.meta.get("graphs", [])]
                      for name, entry in self.cache.entries.items()}
        changed = [n for n in entries if n not in self.cache.entries
                   or self.cache.entries[n].key != entries[n].key
                   or self.cache.state.get("store", {}).get(n) != entries[n].key]
        removed = [n for n in self.cache.entries if n not in entries]
        for name in removed:
            store.replace_graphs(old_graphs.get(name, []), None)
        for name in changed:
            store.replace_graphs(old_graphs.get(name, []),
                                 self.cache.folder(entries[name].key) / "quads.nq")
        onto_digest = sha256_file(self.paths.ontology_file)
        if self.cache.state.get("ontology") != onto_digest:
            store.replace_graph_from(str(ONTOLOGY_GRAPH), self._ontology_nt())
        store.flush()
        self.cache.entries = entries
        self.cache.state["store"] = {n: e.key for n, e in entries.items()}
        self.cache.state["ontology"] = onto_digest
        asserted_key = combine(*(f"{n} {e.key}" for n, e in sorted(entries.items())))
        files: list[Path] = []
        targets = [self.paths.build / f"asserted.{s}" for s in ("trig", "nq", "ttl", "nt",
                                                               "jsonld")]
        if (self.cache.state.get("asserted") != asserted_key
                or not all(t.exists() for t in targets)):
            writer = outputs.Writer()
            try:
                names = sorted(entries)
                outputs.write_asserted(self.paths.build / "asserted",
                                       [self.cache.folder(entries[n].key) for n in names],
                                       [entries[n].meta for n in names], writer)
                outputs.write_context(self.paths.build / "context.jsonld", writer)
            except BaseException:
                writer.discard()
                raise
            files = writer.commit()
            self.cache.state["asserted"] = asserted_key
        self.cache.save()
        docs = [_report(e.meta) for n, e in sorted(entries.items()) if n.startswith("doc/")]
        docs.sort(key=lambda d: d.doc_id)
        triples = sum(int(e.meta.get("quads", 0)) for e in entries.values())
        graphs = sum(len(e.meta.get("graphs", [])) for e in entries.values())
        return BuildResult(docs, sorted(new), len(reuse), triples, graphs, files)

    def _registry(self, registry_file: Path) -> tuple[Any, dict[str, str]]:
        from kg.compile import _display

        registry = load_registry(registry_file, _display(registry_file))
        return registry, chunks.entity_hashes(registry)

    def _ontology_nt(self) -> Path:
        path = self.cache.root / "ontology.nt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.ontology.serialize(format="nt"), encoding="utf-8")
        return path

    def _check_documents(self, entries: dict[str, Entry]) -> None:
        """Document ids are unique and every reference names a curated claim."""
        seen: dict[str, str] = {}
        claims: dict[str, set[str]] = {}
        for name, entry in sorted(entries.items(), key=lambda kv: kv[1].meta.get("file", "")):
            if not name.startswith("doc/"):
                continue
            doc_id = entry.meta["doc_id"]
            claims[doc_id] = set(entry.meta["claim_ids"])
        for path_entry in sorted((e for n, e in entries.items() if n.startswith("doc/")),
                                 key=lambda e: e.meta.get("file", "")):
            doc_id = path_entry.meta["doc_id"]
            if doc_id in seen and seen[doc_id] != path_entry.meta["file"]:
                raise InputError("two curation files describe the same document",
                                 problems=[Problem(f"document id {doc_id!r} also in "
                                                   f"{seen[doc_id]}", path_entry.meta["file"],
                                                   None, "document")])
            seen[doc_id] = path_entry.meta["file"]
        problems = ProblemList()
        for entry in entries.values():
            for doc_id, claim_id, file, line, item in entry.meta.get("refs", []):
                if doc_id not in claims:
                    problems.add(f"no curated document {doc_id!r}", file, line, item,
                                 "use the id of a file in data/curation/")
                elif claim_id not in claims[doc_id]:
                    problems.add(f"document {doc_id} has no claim {claim_id!r}", file, line,
                                 item, "check the claim id in that document's file")
        problems.raise_if_any("invalid reference between documents")

    # --- access for later stages ------------------------------------------------------------

    def store(self, read_only: bool = False) -> WorkStore:
        return WorkStore(open_store(self.paths.build, read_only))

    def chunk_dirs(self) -> list[tuple[str, Path, dict[str, Any]]]:
        if not self.cache.entries:
            raise InputError("nothing has been built yet", hint="run `kg build` first")
        return [(n, self.cache.folder(e.key), e.meta) for n, e in sorted(self.cache.entries.items())]


def _dispatch(job: tuple[Any, ...]) -> chunks.Outcome:
    func, *args = job
    return func(*args)  # type: ignore[no-any-return]


def _digest(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError:
        return ""


def _report(meta: dict[str, Any]) -> DocumentReport:
    cov = meta["coverage"]
    return DocumentReport(
        meta["doc_id"], meta["claims"], meta["mentions"], meta["editorial"],
        Coverage(meta["doc_id"], cov["total"], [tuple(u) for u in cov["uncovered"]],  # type: ignore[misc]
                 [tuple(n) for n in cov["no_act"]]))  # type: ignore[misc]


def sorted_lines(paths: Iterable[Path]) -> Iterator[str]:
    """The distinct lines of several sorted files, sorted."""
    streams = [path.open(encoding="utf-8") for path in paths]
    try:
        yield from outputs.distinct_merge(*streams)
    finally:
        for stream in streams:
            stream.close()


__all__ = ["BuildResult", "INFERRED_GRAPH", "Pipeline", "URIRef", "sorted_lines"]
