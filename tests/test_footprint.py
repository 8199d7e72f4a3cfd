"""What a query reads, and the answers and rule results kept until that changes.

A cached answer is only worth having if it is the answer: after each edit, every
stored query answered through the cache must equal the same query asked of the store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.build import Paths
from kg.pipeline.footprint import StoreState, footprint, predicate_digests
from kg.pipeline.run import Pipeline
from kg.queries import list_queries, run

from .conftest import ROOT, Project

DIP = "https://w3id.org/dipkg/ontology#"
PREFIX = f"PREFIX dip: <{DIP}>\n"


@pytest.mark.parametrize(("query", "reads"), [
    ("SELECT ?c WHERE { ?c a dip:Demand ; dip:issue ?i }",
     {"http://www.w3.org/1999/02/22-rdf-syntax-ns#type", DIP + "Demand", DIP + "issue"}),
    ("SELECT ?c WHERE { ?c dip:issue/dip:broader* ?i }", {DIP + "issue", DIP + "broader"}),
    ("SELECT ?c WHERE { ?c dip:issue ?i FILTER NOT EXISTS { ?c dip:quote ?q } }",
     {DIP + "issue", DIP + "quote"}),
    ("SELECT ?c WHERE { { SELECT ?c WHERE { ?c ^dip:respondsTo ?a } } }", {DIP + "respondsTo"}),
    ("SELECT ?c WHERE { ?c dip:issue ?i OPTIONAL { ?c dip:date ?d } }",
     {DIP + "issue", DIP + "date"}),
])
def test_the_footprint_names_every_predicate_a_query_reads(query: str, reads: set[str]) -> None:
    found = footprint(PREFIX + query)
    assert found is not None
    assert {p for p in found if p.startswith(DIP) or "rdf-syntax" in p} == reads


@pytest.mark.parametrize("query", [
    "SELECT ?p WHERE { ?c ?p ?o }",  # a variable predicate
    "SELECT ?c WHERE { ?c !dip:quote ?o }",  # a negated property set
    "SELECT ?c WHERE { ?c dip:issue ?i FILTER EXISTS { ?c ?p ?o } }",
    "SELECT ?c WHERE { ?c dip:issue ?i BIND (NOW() AS ?t) }",  # a value not from the data
    "SELECT ?c WHERE { ?c dip:issue ?i BIND (RAND() AS ?r) }",
    "SELECT ?c WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?c dip:issue ?i } }",
    "SELECT ?c WHERE { SERVICE SILENT <http://127.0.0.1:1/sparql> { ?c dip:issue ?i } }",
    # a "#" inside an IRI does not start a comment that would hide the NOW() after it
    "SELECT ?c WHERE { ?c <http://e/x#issue> ?i . BIND (NOW() AS ?t) }",
])
def test_a_query_that_may_read_anything_is_never_keyed_on_a_part(query: str) -> None:
    state = StoreState({"a": {DIP + "issue": "1"}}, "fixed")
    assert footprint(PREFIX + query) is None
    changed = StoreState({"a": {DIP + "issue": "1", DIP + "other": "2"}}, "fixed")
    key = state.key(PREFIX + query)
    assert key is None or key != changed.key(PREFIX + query)


def test_a_key_follows_only_the_predicates_read() -> None:
    query = PREFIX + "SELECT ?c WHERE { ?c dip:issue ?i }"
    before = StoreState({"doc/a": predicate_digests([
        f"<http://e/c> <{DIP}issue> <http://e/i> .\n",
        f'<http://e/c> <{DIP}quote> "old words" .\n'])}, "ontology")
    quote_edited = StoreState({"doc/a": predicate_digests([
        f"<http://e/c> <{DIP}issue> <http://e/i> .\n",
        f'<http://e/c> <{DIP}quote> "new words" .\n'])}, "ontology")
    issue_edited = StoreState({"doc/a": predicate_digests([
        f"<http://e/c> <{DIP}issue> <http://e/j> .\n",
        f'<http://e/c> <{DIP}quote> "old words" .\n'])}, "ontology")
    assert before.key(query) == quote_edited.key(query)
    assert before.key(query) != issue_edited.key(query)
    assert before.key(query) != before.key(query, extra="a parameter")
    assert before.key(query) != StoreState(before_parts(before), "new ontology").key(query)


def before_parts(state: StoreState) -> dict[str, dict[str, str]]:
    return {"doc/a": dict(state.predicates)}


def _pipeline(project: Project) -> Pipeline:
    paths = Paths(data=project.data, ontology=ROOT / "ontology", queries=ROOT / "queries",
                  build=project.build)
    pipeline = Pipeline(paths, quiet=True)
    pipeline.build()
    pipeline.infer()
    return pipeline


def _answers_agree(pipeline: Pipeline) -> tuple[int, int]:
    """Every stored query through the cache equals the store's own answer; (hits, misses)."""
    cached = pipeline.answers()
    for query in list_queries(ROOT / "queries"):
        through_cache = run(query, cached)
        direct = run(query, cached.engine)
        assert through_cache.variables == direct.variables, query.name
        assert through_cache.rows == direct.rows, query.name
    return cached.hits, cached.misses


CABLE = "1945-07-11-harriman-soong.yaml"
OLD_QUOTE = 'quote: "Stalin received Soong for another talk tonight"'
NEW_QUOTE = 'quote: "Stalin received Soong for another talk"'


def test_a_quote_edit_keeps_the_rules_and_the_answers_that_do_not_read_quotes(
        scratch: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[int] = []
    original = Pipeline._run_rules

    def counting(self: Pipeline, *args: object) -> dict[str, int]:
        ran.append(1)
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Pipeline, "_run_rules", counting)
    pipeline = _pipeline(scratch)
    assert ran == [1]
    queries = len(list_queries(ROOT / "queries"))
    assert _answers_agree(pipeline) == (0, queries)
    inferred = (scratch.build / "inferred.nt").stat().st_mtime_ns
    state = pipeline.store_state().predicates

    cable = scratch.data / "curation" / CABLE
    text = cable.read_text(encoding="utf-8")
    assert OLD_QUOTE in text
    cable.write_text(text.replace(OLD_QUOTE, NEW_QUOTE), encoding="utf-8")
    pipeline = _pipeline(scratch)
    assert ran == [1], "the rules ran again though nothing they read changed"
    assert (scratch.build / "inferred.nt").stat().st_mtime_ns == inferred
    hits, misses = _answers_agree(pipeline)
    now = pipeline.store_state().predicates
    changed = {p for p in set(state) | set(now) if state.get(p) != now.get(p)}
    assert f"{DIP}quote" in changed and f"{DIP}issue" not in changed
    quoting = [q.name for q in list_queries(ROOT / "queries")
               if (footprint(q.text) or changed) & changed]
    assert misses == len(quoting) and hits == queries - len(quoting)
    assert 0 < len(quoting) < queries


def test_a_date_edit_runs_the_rules_again_and_changes_the_answers(scratch: Project) -> None:
    pipeline = _pipeline(scratch)
    _answers_agree(pipeline)
    rules_before = (scratch.build / "cache" / "rules.nt").read_text(encoding="utf-8")
    cable = scratch.data / "curation" / "1945-07-10-harriman-outer-mongolia-sinkiang.yaml"
    text = cable.read_text(encoding="utf-8")
    assert "    value: 1945-07-10\n" in text
    cable.write_text(text.replace("    value: 1945-07-10\n", "    value: 1945-07-12\n", 1),
                     encoding="utf-8")
    pipeline = _pipeline(scratch)
    assert (scratch.build / "cache" / "rules.nt").read_text(encoding="utf-8") != rules_before
    _, misses = _answers_agree(pipeline)
    assert misses > 0


def test_answers_survive_an_unreadable_cache_file(scratch: Project) -> None:
    pipeline = _pipeline(scratch)
    _answers_agree(pipeline)
    folder: Path = scratch.build / "cache" / "answers"
    for path in folder.glob("*.json"):
        path.write_text("{not json", encoding="utf-8")
    hits, misses = _answers_agree(pipeline)
    assert hits == 0 and misses > 0


def test_prefetch_asks_each_missing_answer_once_side_by_side(scratch: Project) -> None:
    """Answers found by threads are the store's own, and select() then only reads them;
    a query that fails in prefetch is left for select() to report."""
    pipeline = _pipeline(scratch)
    queries = list_queries(ROOT / "queries")
    cached = pipeline.answers()
    broken = "SELECT ?x WHERE { ?x ?p }"
    asks: list[tuple[str, dict[str, object] | None]] = [(q.text, None) for q in queries]
    more = [*asks, (queries[0].text, {}), (broken, None)]
    assert cached.prefetch(more, threads=2) == len(queries)
    assert cached.prefetch(asks, threads=2) == 0  # all kept now
    for query in queries:
        through_cache = run(query, cached)
        direct = run(query, cached.engine)
        assert through_cache.variables == direct.variables, query.name
        assert through_cache.rows == direct.rows, query.name
    assert (cached.hits, cached.misses, cached.prefetched) == (len(queries), 0, len(queries))
    with pytest.raises(Exception, match=r"(?i)pars|syntax|expect"):
        cached.select(broken)
