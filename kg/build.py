"""The build stage: curation + text + registry + ontology -> the asserted graph files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef

from kg.compile import Corpus, Coverage, compile_corpus, coverage, load_corpus
from kg.errors import InputError
from kg.export import context_document, describe_parse_error, graph_files, write_atomically
from kg.linking import link_graphs

ASSERTED = "asserted"


def _packaged_ontology() -> Path:
    from kg.project import packaged_ontology

    return packaged_ontology()


def _packaged_queries() -> Path:
    from kg.project import packaged_queries

    return packaged_queries()


@dataclass
class Paths:
    """Where the project's inputs and outputs live (relative to the working directory).

    The ontology and the stored queries default to the packaged ones; a project's own
    queries (``project_queries``) are searched before ``queries``.
    """

    data: Path = Path("data")
    ontology: Path = field(default_factory=_packaged_ontology)
    queries: Path = field(default_factory=_packaged_queries)
    build: Path = Path("build")
    project_queries: Path | None = None

    @property
    def query_dirs(self) -> list[Path]:
        """Where stored queries are looked up, first match wins: the project's, then these."""
        return [self.project_queries, self.queries] if self.project_queries else [self.queries]

    @property
    def ontology_file(self) -> Path:
        return self.ontology / "dip.ttl"

    @property
    def shapes_file(self) -> Path:
        return self.ontology / "shapes.ttl"

    @property
    def rules_dir(self) -> Path:
        return self.ontology / "rules"

    @property
    def asserted(self) -> Path:
        return self.build / f"{ASSERTED}.trig"

    @property
    def inferred(self) -> Path:
        return self.build / "inferred.trig"


def load_ontology(path: Path) -> Graph:
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except FileNotFoundError:
        raise InputError(f"ontology file {path} not found",
                         hint="run kg from the project folder, or pass --ontology") from None
    except Exception as exc:  # rdflib raises several parser exception types
        raise InputError(f"cannot parse {describe_parse_error(path, exc)}",
                         hint="check the Turtle syntax near the position given") from None
    return graph


@dataclass
class BuildResult:
    corpus: Corpus
    graphs: dict[URIRef, Graph]
    coverage: list[Coverage]
    files: list[Path]

    @property
    def triples(self) -> int:
        return sum(len(g) for g in self.graphs.values())


def build(paths: Paths) -> BuildResult:
    """Compile the corpus and write ``build/asserted.*`` and ``build/context.jsonld``.

    Nothing is written if any input is invalid.
    """
    ontology = load_ontology(paths.ontology_file)
    corpus = load_corpus(paths.data, ontology)
    dataset = compile_corpus(corpus, ontology)
    graphs = {URIRef(str(g.identifier)): g for g in dataset.graphs() if len(g)}
    graphs.update(link_graphs(paths.data, corpus.registry))
    files = graph_files(paths.build / ASSERTED, graphs)
    files[paths.build / "context.jsonld"] = json.dumps(context_document(), indent=2,
                                                         sort_keys=True) + "\n"
    write_atomically(files)
    return BuildResult(corpus, graphs, [coverage(c) for c in corpus.curations],
                       sorted(files))
