"""SPARQL engines and results.

rdflib is the API; queries run on the embedded Oxigraph store (pyoxigraph), which
answers the stored queries in milliseconds where rdflib's own engine grows
superlinearly with the corpus. ``--engine rdflib`` runs the same queries on
rdflib's engine; the tests check that both give the same answers.

Results are kept as rdflib terms and written in the W3C SPARQL 1.1 results
formats (JSON, CSV, TSV) or as a table for a person at a terminal.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from kg.errors import InputError
from kg.namespace import PREFIXES

Term = Identifier


@dataclass
class Results:
    """The answer to a SELECT query: variables in order, rows of terms (None = unbound)."""

    variables: list[str]
    rows: list[dict[str, Term | None]] = field(default_factory=list)

    def values(self, var: str) -> list[Term | None]:
        return [row.get(var) for row in self.rows]


class SyntaxProblem(InputError):
    """A query that does not parse; ``line`` is 1-based within the query text."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


class Engine(Protocol):
    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> Results: ...

    def construct(self, query: str) -> Graph: ...


# --- term conversion -------------------------------------------------------------

def from_ox(term: Any) -> Term | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == str(XSD.string):
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise TypeError(f"unsupported term {term!r}")


_ERROR_AT = re.compile(r"error at (\d+):(\d+)")


def to_ox(term: Any) -> Any:
    """An rdflib IRI or literal as an Oxigraph term (the inverse of :func:`from_ox`)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise ValueError(f"only IRIs and literals are stored, not {term!r}")


def _syntax(exc: Exception) -> SyntaxProblem:
    message = str(exc)
    match = _ERROR_AT.search(message)
    return SyntaxProblem(f"SPARQL syntax error: {message}", int(match.group(1)) if match else None)


class OxigraphEngine:
    """Queries on an in-memory Oxigraph store; the default graph is the union of all graphs."""

    def __init__(self) -> None:
        self.store = ox.Store()

    @classmethod
    def from_graph(cls, graph: Graph) -> OxigraphEngine:
        engine = cls()
        data = graph.serialize(format="nt")
        engine.store.bulk_load(input=data.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
        return engine

    def load_file(self, path: Path, graph: URIRef | None = None) -> None:
        formats = {".nq": ox.RdfFormat.N_QUADS, ".trig": ox.RdfFormat.TRIG,
                   ".nt": ox.RdfFormat.N_TRIPLES, ".ttl": ox.RdfFormat.TURTLE}
        try:
            kwargs: dict[str, Any] = {"path": str(path), "format": formats[path.suffix]}
            if graph is not None:
                kwargs["to_graph"] = ox.NamedNode(str(graph))
            self.store.bulk_load(**kwargs)
        except FileNotFoundError:
            raise InputError(f"{path} does not exist", hint="run `make run` (or kg build, "
                             "kg infer) first") from None
        except SyntaxError as exc:
            raise InputError(f"cannot parse {path}: {exc}") from None

    def _query(self, query: str, bindings: Mapping[str, Term] | None = None) -> Any:
        # pyoxigraph's own substitutions require the variable to be projected, which
        # a parameter often is not; bind through an escaped VALUES block instead.
        from kg.queries import inline_values

        text = inline_values(query, dict(bindings)) if bindings else query
        try:
            return self.store.query(text, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise _syntax(exc) from None

    def _solutions(self, query: str, bindings: Mapping[str, Term] | None) -> ox.QuerySolutions:
        solutions = self._query(query, bindings)
        if not isinstance(solutions, ox.QuerySolutions):
            raise InputError("the query is not a SELECT query",
                             hint="stored queries must be SELECT queries")
        return solutions

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> Results:
        solutions = self._solutions(query, bindings)
        variables = [v.value for v in solutions.variables]
        rows = [{var: from_ox(solution[var]) for var in variables} for solution in solutions]
        return Results(variables, rows)

    def select_json(self, query: str, bindings: Mapping[str, Term] | None = None) -> str:
        """The answer as SPARQL 1.1 Query Results JSON, written by Oxigraph itself (no
        Python term is made: the answer cache stores this text as it is)."""
        data = self._solutions(query, bindings).serialize(format=ox.QueryResultsFormat.JSON)
        assert data is not None  # serialize() without an output returns the bytes
        return data.decode("utf-8") + "\n"

    def construct(self, query: str) -> Graph:
        triples = self._query(query)
        graph = Graph()
        for triple in triples:
            graph.add((from_ox(triple.subject), from_ox(triple.predicate),  # type: ignore[arg-type]
                       from_ox(triple.object)))
        return graph


class RdflibEngine:
    """Queries on rdflib's own SPARQL engine (slower; kept to cross-check answers)."""

    def __init__(self) -> None:
        self.dataset = Dataset(default_union=True)

    def load_file(self, path: Path, graph: URIRef | None = None) -> None:
        formats = {".nq": "nquads", ".trig": "trig", ".nt": "nt", ".ttl": "turtle"}
        if not path.exists():
            raise InputError(f"{path} does not exist", hint="run `make run` first")
        if graph is not None:
            self.dataset.graph(graph).parse(path, format=formats[path.suffix])
        else:
            self.dataset.parse(path, format=formats[path.suffix])

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> Results:
        try:
            result = self.dataset.query(query, initBindings=dict(bindings or {}))
        except Exception as exc:  # pyparsing raises ParseException
            line = getattr(exc, "lineno", None)
            raise SyntaxProblem(f"SPARQL syntax error: {exc}", line) from None
        variables = [str(v) for v in result.vars or []]
        rows: list[dict[str, Term | None]] = []
        for row in result:
            values = row.asdict()  # type: ignore[union-attr]
            rows.append({var: values.get(var) for var in variables})
        return Results(variables, rows)

    def construct(self, query: str) -> Graph:
        result = self.dataset.query(query)
        graph = Graph()
        for triple in result:
            graph.add(triple)  # type: ignore[arg-type]
        return graph


# --- writing results ------------------------------------------------------------------

def term_json(term: Term) -> dict[str, str]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    assert isinstance(term, Literal)
    out = {"type": "literal", "value": str(term)}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype and term.datatype != XSD.string:
        out["datatype"] = str(term.datatype)
    return out


def to_json(results: Results, compact: bool = False) -> str:
    """SPARQL 1.1 Query Results JSON; ``compact`` leaves out the indentation (written by
    the json module's C encoder, several times faster on large answers)."""
    bindings = [{var: term_json(value) for var, value in row.items() if value is not None}
                for row in results.rows]
    doc = {"head": {"vars": results.variables}, "results": {"bindings": bindings}}
    if compact:
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_csv(results: Results) -> str:
    """SPARQL 1.1 Query Results CSV: lexical forms only, CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(results.variables)
    for row in results.rows:
        writer.writerow(["" if row.get(v) is None else str(row[v]) for v in results.variables])
    return buffer.getvalue()


def _tsv_term(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, Literal) and term.datatype is None and not term.language:
        return Literal(str(term)).n3()
    return term.n3()


def to_tsv(results: Results) -> str:
    """SPARQL 1.1 Query Results TSV: RDF terms in N-Triples/Turtle syntax."""
    lines = ["\t".join("?" + v for v in results.variables)]
    for row in results.rows:
        lines.append("\t".join(_tsv_term(row.get(v)) for v in results.variables))
    return "\n".join(lines) + "\n"


def short(term: Term | None) -> str:
    """A term as a person reads it: prefixed IRI, or the literal's text."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        value = str(term)
        for prefix, iri in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
            if value.startswith(iri) and "/" not in value[len(iri):]:
                return f"{prefix}:{value[len(iri):]}"
        return f"<{value}>"
    return " ".join(str(term).split())


def to_table(results: Results, width: int | None = None) -> str:
    """A plain-text table, long cells wrapped to fit the terminal."""
    total = width or shutil.get_terminal_size((120, 24)).columns
    columns = results.variables
    if not columns:
        return ""
    cells = [[short(row.get(c)) for c in columns] for row in results.rows]
    natural = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    # A column is never narrower than its longest word (up to 30): words are not split.
    floor = [min(30, max([len(w) for r in cells for w in r[i].split()] + [len(c)]))
             for i, c in enumerate(columns)]
    room = max(total - 3 * (len(columns) - 1), 10 * len(columns))
    widths = natural[:]
    while sum(widths) > room:
        shrinkable = [i for i in range(len(widths)) if widths[i] > max(floor[i], 8)]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1
    def render(values: list[str]) -> list[str]:
        wrapped = [textwrap.wrap(v, w, break_on_hyphens=False) or [""]
                   for v, w in zip(values, widths, strict=True)]
        height = max(len(w) for w in wrapped)
        return [" | ".join((w[i] if i < len(w) else "").ljust(widths[n])
                           for n, w in enumerate(wrapped)).rstrip() for i in range(height)]
    lines = render(columns)
    lines.append("-+-".join("-" * w for w in widths))
    for row in cells:
        lines.extend(render(row))
    lines.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(lines) + "\n"


FORMATTERS = {"table": to_table, "csv": to_csv, "tsv": to_tsv, "json": to_json}


def parse_json_results(doc: Mapping[str, Any]) -> Results:
    """Read SPARQL 1.1 JSON results (as returned by an endpoint) into :class:`Results`."""
    variables = list(doc.get("head", {}).get("vars", []))
    rows = []
    # Terms are immutable: a value repeated across rows (a label, a date, a document)
    # is made once.
    made: dict[tuple[Any, ...], Term] = {}
    for binding in doc.get("results", {}).get("bindings", []):
        row: dict[str, Term | None] = {v: None for v in variables}
        for var, value in binding.items():
            seen = (value.get("type"), value.get("value"), value.get("xml:lang"),
                    value.get("datatype"))
            term = made.get(seen)
            if term is not None:
                row[var] = term
                continue
            kind = value.get("type")
            if kind == "uri":
                row[var] = URIRef(value["value"])
            elif kind == "bnode":
                row[var] = BNode(value["value"])
            elif "xml:lang" in value:
                row[var] = Literal(value["value"], lang=value["xml:lang"])
            elif value.get("datatype") and value["datatype"] != str(XSD.string):
                row[var] = Literal(value["value"], datatype=URIRef(value["datatype"]))
            else:
                row[var] = Literal(value["value"])
            made[seen] = row[var]  # type: ignore[assignment]
        rows.append(row)
    return Results(variables, rows)
