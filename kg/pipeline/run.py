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

import json
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from rdflib import RDF, Graph, Literal, URIRef

from kg.build import Paths, load_ontology
from kg.compile import Coverage, curation_files
from kg.errors import InputError, Problem, ProblemList
from kg.linking import LINKS_FILE, SNAPSHOT_FILE
from kg.namespace import INFERRED_GRAPH, ONTOLOGY_GRAPH
from kg.pipeline import chunks, outputs, workers
from kg.pipeline.answers import ANSWERS_DIR, CachedEngine
from kg.pipeline.cache import Cache, Entry, combine, environment_key, sha256_file
from kg.pipeline.closure import keep
from kg.pipeline.footprint import Footprints, StoreState, predicate_digests
from kg.pipeline.progress import Progress
from kg.pipeline.workstore import STORE_DIR, GraphView, WorkStore, open_store
from kg.registry import load_registry

T = TypeVar("T")
REGISTRY = "entities.yaml"
FOOTPRINTS = "footprints.json"


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
class InferResult:
    """What ``kg infer`` derived: closure triples, per-rule counts, triples written."""

    owl: int
    rules: dict[str, int]
    triples: int
    files: list[Path]


@dataclass
class ValidateResult:
    """Findings of every chunk, the rules' output and the store-level constraints."""

    conforms: bool
    findings: list[dict[str, str]]
    report: Graph
    validated: int


_VALIDATION: dict[str, Any] = {}


def _validate_job(name: str, folder: Path, context_nt: str, key: str) -> list[dict[str, str]]:
    """One chunk's SHACL findings (in a worker; the shared graphs come from the fork)."""
    from kg.pipeline import shacl

    data = Graph()
    for part in ("triples.nt", "derived.nt"):
        data.parse(folder / part, format="nt")
    own_subjects = set(data.subjects())
    focus = set(own_subjects)
    registry_subjects = _VALIDATION["registry_subjects"]
    own_doc = f"{chunks.DOC_PREFIX}{name[4:]}" if name.startswith("doc/") else None
    for o in data.objects():
        if not isinstance(o, URIRef) or (str(o) in registry_subjects and name != "entities"):
            continue
        text = str(o)
        if text.startswith(chunks.DOC_PREFIX) and not (
                own_doc and (text == own_doc or text.startswith(own_doc + "/"))):
            continue
        focus.add(o)
    if name != "entities":
        data += _VALIDATION["registry"]
    if context_nt:
        data.parse(data=context_nt, format="nt")
    return shacl.validate_chunk(data, _VALIDATION["core"], _VALIDATION["ontology"], focus,
                               select_focus=False)


def _rule_lines_by_document(rules_file: Path) -> dict[str, str]:
    """The status rules' N-Triples lines about each document's nodes, by chunk name."""
    out: dict[str, list[str]] = {}
    if rules_file.exists():
        prefix = "<" + chunks.DOC_PREFIX
        with rules_file.open(encoding="utf-8") as stream:
            for line in stream:
                if line.startswith(prefix):
                    doc_id = line[len(prefix):].split(">", 1)[0].split("/", 1)[0]
                    out.setdefault(f"doc/{doc_id}", []).append(line)
    return {name: "".join(lines) for name, lines in out.items()}


def _parse_turtle(path: Path) -> Graph:
    from kg.export import describe_parse_error

    try:
        return Graph().parse(path, format="turtle")
    except FileNotFoundError:
        raise InputError(f"{path} not found", hint="pass --ontology DIR") from None
    except Exception as exc:  # rdflib raises several parser exception types
        raise InputError(f"cannot parse {describe_parse_error(path, exc)}",
                         hint="check the Turtle syntax near the position given") from None


def _store_quote(store: WorkStore, focus: Any) -> str:
    from kg.validate import quote_of

    around = store.describe([str(focus)])
    nodes = [str(o) for o in around.objects() if isinstance(o, URIRef)]
    around += store.describe(nodes)
    more = [str(o) for o in around.objects() if isinstance(o, URIRef)]
    around += store.describe(more)
    return quote_of(around, focus)


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
                             hint="run kg inside a project (a folder with kg.toml, or below "
                                  "one), start one with `kg init DIR`, or pass --data DIR")
        files = curation_files(data)
        if not files:
            raise InputError(f"no curation files in {data / 'curation'}",
                             hint="start one with `kg new TEXT` (README: Adding a document)")
        # The registry's entity hashes are kept with its digest: parsing a large registry
        # is the main cost of a build where nothing changed.
        registry_key = combine(environment, sha256_file(registry_file))
        known = self.cache.state.get("registry_hashes") or {}
        registry: Any = None
        if known.get("key") == registry_key:
            hashes: dict[str, str] = known["hashes"]
        else:
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
            if registry is None:
                registry, hashes = self._registry(registry_file)
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
        if not (self.paths.build / STORE_DIR).is_dir():  # removed by hand: fill a new one
            for stale in ("store", "ontology", "inferred", "inferred_graph"):
                self.cache.state.pop(stale, None)
        old_graphs = {name: [g["graph"] for g in entry.meta.get("graphs", [])]
                      for name, entry in self.cache.entries.items()}
        changed = [n for n in entries if n not in self.cache.entries
                   or self.cache.entries[n].key != entries[n].key
                   or self.cache.state.get("store", {}).get(n) != entries[n].key]
        removed = [n for n in self.cache.entries if n not in entries]
        onto_digest = sha256_file(self.paths.ontology_file)
        if changed or removed or self.cache.state.get("ontology") != onto_digest:
            store = self.store()  # not opened when the store already holds all of it
            for name in removed:
                store.replace_graphs(old_graphs.get(name, []), None)
            for name in changed:
                store.replace_graphs(old_graphs.get(name, []),
                                     self.cache.folder(entries[name].key) / "quads.nq")
            if self.cache.state.get("ontology") != onto_digest:
                store.replace_graph_from(str(ONTOLOGY_GRAPH), self._ontology_nt())
            store.flush()
        self.cache.entries = entries
        self.cache.state["store"] = {n: e.key for n, e in entries.items()}
        self.cache.state["ontology"] = onto_digest
        self.cache.state["registry_hashes"] = {"key": registry_key, "hashes": hashes}
        asserted_key = combine(*(f"{n} {e.key}" for n, e in sorted(entries.items())))
        written: list[Path] = []
        targets = [self.paths.build / f"asserted.{s}" for s in ("trig", "nq", "ttl", "nt",
                                                               "jsonld")]
        if (self.cache.state.get("asserted") != asserted_key
                or not all(t.exists() for t in targets)):
            writer = outputs.Writer()
            try:
                names = sorted(entries)
                index = outputs.write_asserted(
                    self.paths.build / "asserted",
                    [self.cache.folder(entries[n].key) for n in names],
                    [entries[n].meta for n in names], writer,
                    self.cache.state.get("asserted_parts"))
                outputs.write_context(self.paths.build / "context.jsonld", writer)
            except BaseException:
                writer.discard()
                raise
            self.cache.state.pop("asserted_parts", None)  # stale until the files are in place
            written = writer.commit()
            self.cache.state["asserted_parts"] = outputs.stamp_index(index)
            self.cache.state["asserted"] = asserted_key
        self.cache.save()
        docs = [_report(e.meta) for n, e in sorted(entries.items()) if n.startswith("doc/")]
        docs.sort(key=lambda d: d.doc_id)
        triples = sum(int(e.meta.get("quads", 0)) for e in entries.values())
        graphs = sum(len(e.meta.get("graphs", [])) for e in entries.values())
        return BuildResult(docs, sorted(new), len(reuse), triples, graphs, written)

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
        documents = sorted((e.meta for n, e in entries.items() if n.startswith("doc/")),
                           key=lambda meta: str(meta["file"]))
        seen: dict[str, str] = {}
        for meta in documents:
            doc_id = meta["doc_id"]
            if doc_id in seen:
                raise InputError("two curation files describe the same document",
                                 problems=[Problem(f"document id {doc_id!r} also in "
                                                   f"{seen[doc_id]}", meta["file"], None,
                                                   "document")])
            seen[doc_id] = meta["file"]
        claims = {meta["doc_id"]: set(meta["claim_ids"]) for meta in documents}
        problems = ProblemList()
        for meta in documents:
            for doc_id, claim_id, file, line, item in meta.get("refs", []):
                if doc_id not in claims:
                    problems.add(f"no curated document {doc_id!r}", file, line, item,
                                 "use the id of a file in data/curation/")
                elif claim_id not in claims[doc_id]:
                    problems.add(f"document {doc_id} has no claim {claim_id!r}", file, line,
                                 item, "check the claim id in that document's file")
        problems.raise_if_any("invalid reference between documents")

    # --- infer ----------------------------------------------------------------------------

    def infer(self, reasoner: str = "fast") -> InferResult:
        """``graph/inferred`` on the store and ``build/inferred.*``: the chunks' entailments
        (what is not asserted) and what the status rules derive from everything."""
        from kg.reason import load_rules

        chunk_dirs = self.chunk_dirs()
        asserted_nt = self.paths.build / "asserted.nt"
        if not asserted_nt.exists():
            raise InputError(f"{asserted_nt} does not exist", hint="run `kg build` first")
        rules = load_rules(self.paths.rules_dir)
        key = combine(str(self.cache.state.get("asserted")), reasoner,
                      *(f"{r.path.name} {combine(r.text)}" for r in rules))
        targets = [self.paths.build / f"inferred.{s}" for s in ("trig", "nq", "ttl", "nt",
                                                               "jsonld")]
        summary = self.cache.state.get("inferred_summary")
        if (self.cache.state.get("inferred") == key and summary
                and all(t.exists() for t in targets)):
            return InferResult(summary["owl"], summary["rules"], summary["triples"], [])
        closure_file = self.cache.root / "closure.nt"
        basis = _closure_basis(chunk_dirs) if reasoner == "fast" else None
        known_closure = self.cache.state.pop("closure", None)
        if basis is not None and _closure_holds(known_closure, basis, closure_file):
            count = known_closure["count"]
            closure_predicates = known_closure["predicates"]
            closure_digest = known_closure["digest"]
        else:
            if reasoner == "owlrl":
                closure_lines: Iterable[str] = self._owlrl_closure(asserted_nt)
            else:
                closure_lines = outputs.minus(
                    sorted_lines(d / "derived.nt" for _, d, _ in chunk_dirs), asserted_nt)
            written_count = [0]
            with closure_file.open("w", encoding="utf-8") as out:
                closure_predicates = predicate_digests(
                    _written(closure_lines, out, written_count))
            count = written_count[0]
            closure_digest = sha256_file(closure_file)
        if basis is not None:
            self.cache.state["closure"] = {"derived": basis["derived"],
                                           "asserted": basis["asserted"], "count": count,
                                           "digest": closure_digest,
                                           "predicates": closure_predicates}
        store = self.store()
        rules_file = self.cache.root / "rules.nt"
        # The rules read the asserted graphs, the closure and the ontology; when the
        # triples with the predicates they name are unchanged, so is what they derive.
        parts: dict[str, Any] = {n: e.meta.get("predicates", {})
                                 for n, e in self.cache.entries.items()}
        parts["graph/inferred closure"] = closure_predicates
        footprints = Footprints(self.cache.root / FOOTPRINTS)
        rules_key = StoreState(parts, str(self.cache.state.get("ontology")), footprints).key(
            *(r.text for r in rules), extra=reasoner)
        footprints.save()
        cached = self.cache.state.get("rules") or {}
        if rules_key is not None and cached.get("key") == rules_key and rules_file.exists():
            counts = dict(cached["counts"])
            content = combine(closure_digest, sha256_file(rules_file))
            if self.cache.state.get("inferred_graph") != content:
                store.replace_graph_from(str(INFERRED_GRAPH), closure_file)
                store.load_into(str(INFERRED_GRAPH), rules_file)
                store.flush()
        else:
            store.replace_graph_from(str(INFERRED_GRAPH), closure_file)
            counts = self._run_rules(store, rules, rules_file)
            content = combine(closure_digest, sha256_file(rules_file))
            self.cache.state["rules"] = {"key": rules_key, "counts": counts}
        self.cache.state["inferred_graph"] = content
        rules_digest = sha256_file(rules_file)
        known = self.cache.state.get("rule_predicates") or {}
        if known.get("file") == rules_digest:  # the rules' output did not change
            rule_predicates = known["digests"]
        else:
            with rules_file.open(encoding="utf-8") as stream:
                rule_predicates = predicate_digests(stream)
            self.cache.state["rule_predicates"] = {"file": rules_digest,
                                                   "digests": rule_predicates}
        self.cache.state["inferred_predicates"] = {"closure": closure_predicates,
                                                   "rules": rule_predicates}
        files: list[Path] = []
        total = self.cache.state.get("inferred_summary", {}).get("triples", 0)
        if (self.cache.state.get("inferred_written") != content
                or not all(t.exists() for t in targets)):
            writer = outputs.Writer()
            try:
                with closure_file.open(encoding="utf-8") as closure, \
                        rules_file.open(encoding="utf-8") as derived:
                    total = outputs.write_inferred(self.paths.build / "inferred", closure,
                                                   derived, writer)
            except BaseException:
                writer.discard()
                raise
            files = writer.commit()
            self.cache.state["inferred_written"] = content
        self.cache.state["inferred"] = key
        self.cache.state["inferred_summary"] = {"owl": count, "rules": counts, "triples": total}
        self.cache.save()
        return InferResult(count, counts, total, files)

    def _run_rules(self, store: WorkStore, rules: list[Any], rules_file: Path) -> dict[str, int]:
        """Run the status rules in order on the store; write what they derived (sorted)."""
        derived: set[Any] = set()
        counts: dict[str, int] = {}
        for rule in rules:
            try:
                result = store.construct(rule.text)
            except InputError as exc:
                raise InputError(f"rule {rule.path} failed: {exc.message}",
                                 hint=exc.hint) from None
            fresh = [t for t in result if t not in derived and not isinstance(t[0], Literal)
                     and not store.contains(t)]
            store.add_triples(str(INFERRED_GRAPH), fresh)
            derived.update(fresh)
            counts[rule.name] = len(fresh)
        dropped = [t for t in derived if not keep(t)]
        if dropped:
            store.remove_triples(str(INFERRED_GRAPH), dropped)
        store.flush()
        rule_lines = [f"{line}\n" for line in chunks.nt_lines(t for t in derived if keep(t))]
        rules_file.write_text("".join(rule_lines), encoding="utf-8")
        return counts

    def _owlrl_closure(self, asserted_nt: Path) -> list[str]:
        """The reference: owlrl's OWL 2 RL closure of the whole graph, as sorted lines."""
        from kg.reason import owl_rl_closure

        asserted = Graph().parse(asserted_nt, format="nt")
        closure = owl_rl_closure(asserted, self.ontology)
        return [f"{line}\n" for line in chunks.nt_lines(closure)]

    # --- validate -------------------------------------------------------------------------

    def validate(self) -> ValidateResult:
        """SHACL per chunk (pySHACL, in parallel, cached), SPARQL constraints on the store."""
        from kg.pipeline import shacl

        chunk_dirs = self.chunk_dirs()
        if "inferred" not in self.cache.state:
            raise InputError("the graph has not been inferred yet", hint="run `kg infer` first")
        # Nothing changed since the last validation (the store holds the same graphs, the
        # shapes are the same): its findings stand.
        stage_key = combine(self.environment(), str(self.cache.state.get("inferred")),
                            str(self.cache.state.get("asserted")))
        done = self.cache.state.get("validated")
        if done and done.get("key") == stage_key:
            findings = done["findings"]
            conforms = not any(f["severity"] == "Violation" for f in findings)
            return ValidateResult(conforms, findings, shacl.report_graph(findings, conforms), 0)
        shapes = _parse_turtle(self.paths.shapes_file)
        core, constraints = shacl.split_shapes(shapes)
        local = [c for c in constraints if c.local]
        constraints = [c for c in constraints if not c.local]
        store = self.store()
        folders = {name: folder for name, folder, _ in chunk_dirs}
        registry = Graph()
        if "entities" in folders:
            for part in ("triples.nt", "derived.nt"):
                registry.parse(folders["entities"] / part, format="nt")
        registry_subjects = {str(s) for s in registry.subjects()}
        registry_key = self.cache.entries["entities"].key if "entities" in folders else ""
        # What the status rules derived about a document's own nodes (their effective
        # dates, say) is validated with that document.
        derived_by_rules = _rule_lines_by_document(self.cache.root / "rules.nt")
        jobs: list[tuple[Any, ...]] = []
        for name, folder, meta in chunk_dirs:
            entry = self.cache.entries[name]
            external = meta.get("external", [])
            own_rules = derived_by_rules.get(name, "")
            # The other documents' nodes a chunk refers to are described by their own
            # chunks: the validation key follows those chunks' keys, so the store is read
            # only for the chunks that are validated again.
            referenced = sorted({f"doc/{iri[len(chunks.DOC_PREFIX):].split('/', 1)[0]}"
                                 for iri in external})
            key = combine(entry.key, registry_key, combine(own_rules), *(
                f"{ref} {self.cache.entries[ref].key if ref in self.cache.entries else ''}"
                for ref in referenced))
            if entry.validation_key == key:
                continue
            context = Graph()
            if external:
                described = store.describe(external)
                context += described
                for triple in chunks.Context.closure_of(self.ontology).derive(described):
                    context.add(triple)
            context_nt = context.serialize(format="nt") if len(context) else ""
            jobs.append((name, folder, context_nt + own_rules, key))
        _VALIDATION.update(core=core, ontology=self.ontology, registry=registry,
                           registry_subjects=registry_subjects)
        results = parallel(_validate_job, jobs, "validate", self.quiet)
        for (name, _, _, key), found in zip(jobs, results, strict=True):
            entry = self.cache.entries[name]
            if local:  # the document-local SPARQL constraints, in the chunk's own graphs
                view = document_view(store, entry.meta)
                found = found + shacl.store_findings(view, local,
                                                     lambda focus: _store_quote(store, focus))
            entry.validation_key = key
            entry.findings = found
        findings = [f for e in self.cache.entries.values() for f in e.findings]
        state = self.store_state()
        findings += self._validate_rules(store, core, state)
        answers = CachedEngine(store, state, self.cache.root / ANSWERS_DIR)
        findings += shacl.store_findings(answers, constraints,
                                         lambda focus: _store_quote(store, focus))
        findings = shacl.dedupe(findings)
        conforms = not any(f["severity"] == "Violation" for f in findings)
        self.cache.state["validated"] = {"key": stage_key, "findings": findings}
        self.cache.save()
        return ValidateResult(conforms, findings, shacl.report_graph(findings, conforms),
                              len(jobs))

    def _validate_rules(self, store: WorkStore, core: Graph, state: StoreState) -> list[Any]:
        """The status rules' output (standings), with the types of what it names.

        The shapes of the nodes the rules make (dated standings, standings) constrain
        their own values and the classes of the nodes they name, nothing further: the
        data is the rules' output and the types (asserted and entailed) of every node
        in it. Its findings depend on those alone, so they are kept until the rules'
        output or a type in the store changes.
        """
        from kg.pipeline import shacl

        rules_file = self.cache.root / "rules.nt"
        if not rules_file.exists():
            return []
        types = state.predicates.get(str(RDF.type), "")
        key = combine(self.environment(), sha256_file(rules_file), types)
        cached = self.cache.state.get("rules_validation")
        if cached and cached.get("key") == key:
            return list(cached["findings"])
        data = Graph().parse(rules_file, format="nt")
        # The nodes the rules made (standings); the documents' nodes are validated with
        # their documents.
        subjects = {s for s in set(data.subjects()) if not str(s).startswith(chunks.DOC_PREFIX)}
        nodes = {str(o) for o in data.objects() if isinstance(o, URIRef)}
        nodes |= {str(s) for s in data.subjects() if isinstance(s, URIRef)}
        for node, kind in store.types(sorted(nodes)):
            data.add((URIRef(node), RDF.type, URIRef(kind)))
        found = shacl.validate_chunk(data, core, self.ontology, subjects,
                                     select_focus=False)
        self.cache.state["rules_validation"] = {"key": key, "findings": found}
        return found

    def store_state(self) -> StoreState:
        """The digest of each predicate's triples in the working store, from the manifest."""
        parts: dict[str, Any] = {n: e.meta.get("predicates", {})
                                 for n, e in self.cache.entries.items()}
        for part, digests in (self.cache.state.get("inferred_predicates") or {}).items():
            parts[f"graph/inferred {part}"] = digests
        return StoreState(parts, str(self.cache.state.get("ontology")),
                          Footprints(self.cache.root / FOOTPRINTS))

    # --- access for later stages ------------------------------------------------------------

    def store(self, read_only: bool = False) -> WorkStore:
        return WorkStore(open_store(self.paths.build, read_only))

    def answers(self, read_only: bool = False) -> CachedEngine:
        """The working store, with SELECT answers kept until what they read changes."""
        return CachedEngine(self.store(read_only), self.store_state(),
                            self.cache.root / ANSWERS_DIR)

    def chunk_dirs(self) -> list[tuple[str, Path, dict[str, Any]]]:
        if not self.cache.entries:
            raise InputError("nothing has been built yet", hint="run `kg build` first")
        return [(n, self.cache.folder(e.key), e.meta)
                for n, e in sorted(self.cache.entries.items())]


def _closure_basis(chunk_dirs: list[tuple[str, Path, dict[str, Any]]]) -> dict[str, Any] | None:
    """What the fast closure (every chunk's entailments, less what is asserted anywhere)
    is made from: a digest of the entailments, and for each predicate a digest of its
    asserted triples. None when a chunk does not record its entailments' predicates."""
    derived: list[str] = []
    asserted: dict[str, list[str]] = {}
    for name, _, meta in chunk_dirs:
        by_predicate = meta.get("derived_predicates")
        if by_predicate is None:
            return None
        derived.append(f"{name} {json.dumps(by_predicate, sort_keys=True)}")
        for predicate, digest in meta.get("predicates", {}).items():
            asserted.setdefault(predicate, []).append(f"{name} {digest}")
    predicates = sorted({p for _, _, meta in chunk_dirs for p in meta["derived_predicates"]})
    return {"derived": combine(*derived), "derived_predicates": predicates,
            "asserted": {p: combine(*lines) for p, lines in sorted(asserted.items())}}


def _closure_holds(known: dict[str, Any] | None, basis: dict[str, Any],
                   closure_file: Path) -> bool:
    """Whether the closure file written from ``known`` is still the closure for ``basis``.

    The entailments are the same, and every predicate whose asserted triples changed
    is one no entailment uses: a derived triple is dropped from the closure only when it
    is asserted, and only triples with a changed predicate can have become (or ceased
    to be) asserted. A quote corrected in one document leaves the closure as it was.
    """
    if not known or known.get("derived") != basis["derived"]:
        return False
    old, new = known.get("asserted", {}), basis["asserted"]
    changed = {p for p in old.keys() | new.keys() if old.get(p) != new.get(p)}
    if changed & set(basis["derived_predicates"]):
        return False
    try:
        return sha256_file(closure_file) == known.get("digest")
    except OSError:
        return False


def document_view(store: WorkStore, meta: dict[str, Any]) -> GraphView:
    """A chunk's own graphs, with the ontology and the entailments: where its
    document-local SPARQL constraints are checked."""
    return GraphView(store.store, [g["graph"] for g in meta.get("graphs", [])]
                     + [str(ONTOLOGY_GRAPH), str(INFERRED_GRAPH)])


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
        Coverage(meta["doc_id"], cov["total"], [tuple(u) for u in cov["uncovered"]],
                 [tuple(n) for n in cov["no_act"]]))


def _written(lines: Iterable[str], out: IO[str], count: list[int]) -> Iterator[str]:
    """Write each line to ``out`` as it passes; ``count[0]`` counts them."""
    for line in lines:
        out.write(line)
        count[0] += 1
        yield line


def sorted_lines(paths: Iterable[Path]) -> Iterator[str]:
    """The distinct lines of several sorted files, sorted."""
    streams = [path.open(encoding="utf-8") for path in paths]
    try:
        yield from outputs.distinct_merge(*streams)
    finally:
        for stream in streams:
            stream.close()

