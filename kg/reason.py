"""The inference stage: OWL 2 RL closure plus the project's status rules.

What is derived is kept apart from what was curated: ``build/inferred.*`` holds
only new triples, in the named graph ``graph/inferred``. owlrl expands the graph
it is given in place, so it works on a copy. Its output is cleaned before
anything is written: no generalized triples (literal subjects), no reflexive
``owl:sameAs``, no axioms about the vocabularies themselves, only statements
about the project's own resources.

The status rules are SPARQL CONSTRUCT queries in ``ontology/rules/*.rq``, run in
file-name order over the asserted graph plus the OWL RL closure; each rule sees
what earlier rules derived.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import owlrl
from rdflib import Graph, Literal

from kg.errors import InputError
from kg.export import (
    flatten,
    graph_files,
    merge,
    plain,
    read_dataset,
    write_atomically,
)
from kg.namespace import INFERRED_GRAPH
from kg.pipeline.closure import keep
from kg.sparql import OxigraphEngine

INFERRED = "inferred"


@dataclass
class Rule:
    path: Path
    text: str

    @property
    def name(self) -> str:
        return self.path.stem


def load_rules(rules_dir: Path) -> list[Rule]:
    rules = []
    for path in sorted(rules_dir.glob("*.rq")):
        rules.append(Rule(path, path.read_text(encoding="utf-8")))
    return rules


def owl_rl_closure(asserted: Graph, ontology: Graph) -> Graph:
    """New triples the OWL 2 RL rules derive from asserted + ontology (cleaned)."""
    work = merge(asserted, ontology)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False,
                           axiomatic_triples=False, datatype_axioms=False).expand(work)
    derived = Graph()
    for triple in work:
        if triple not in asserted and triple not in ontology and keep(triple):
            derived.add(triple)
    return derived


def apply_rules(base: Graph, rules: list[Rule]) -> tuple[Graph, dict[str, int]]:
    """Run the CONSTRUCT rules in order over ``base`` plus what earlier rules derived.

    Returns the new triples and how many each rule added.
    """
    derived = Graph()
    counts: dict[str, int] = {}
    for rule in rules:
        engine = OxigraphEngine.from_graph(merge(base, derived))
        try:
            result = engine.construct(rule.text)
        except InputError as exc:
            raise InputError(f"rule {rule.path} failed: {exc.message}", hint=exc.hint) from None
        before = len(derived)
        for triple in result:
            if triple not in base and not isinstance(triple[0], Literal):
                derived.add(triple)
        counts[rule.name] = len(derived) - before
    return derived, counts


@dataclass
class InferResult:
    owl: int
    rules: dict[str, int]
    graph: Graph
    files: list[Path]


def infer(asserted_file: Path, ontology: Graph, rules_dir: Path, out_dir: Path) -> InferResult:
    """Derive and write ``out_dir/inferred.*``."""
    asserted = flatten(read_dataset(asserted_file))
    closure = owl_rl_closure(asserted, ontology)
    derived, counts = apply_rules(merge(asserted, closure, ontology), load_rules(rules_dir))
    inferred = plain(t for t in merge(closure, derived) if keep(t))
    files = graph_files(out_dir / INFERRED, {INFERRED_GRAPH: inferred})
    write_atomically(files)
    return InferResult(len(closure), counts, inferred, sorted(files))
