"""Stored queries: competency questions in ``queries/*.rq`` with a grlc-style header.

Header lines (before the query)::

    #+ summary: Who conceded what to whom?
    #+ columns: conceder, counterpart, concession, issue, quote, date, reportedBy
    #+ param: party iri:Person|State optional - only concessions by this party (registry key)

An ``iri`` parameter may name the registry types its key must have (``iri:Issue``),
so a key of the wrong type is refused rather than answered with no rows.

``columns`` must list the projected variables in order (a test checks it).
Parameters are bound as RDF terms, never pasted as text: the value is first
turned into a term of the declared kind (an IRI, a date, a string...), then
rdflib's engine binds it with ``initBindings``, while Oxigraph (embedded or a
remote endpoint, where the SPARQL 1.1 Protocol has no binding API) receives it
as a ``VALUES`` block at the start of the WHERE clause, serialised and escaped
by rdflib's ``n3()``.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import XSD

from kg.errors import InputError, Problem, UsageError
from kg.namespace import entity
from kg.sparql import Engine, Results, SyntaxProblem, Term

PARAM_KINDS = ("iri", "string", "date", "integer")
_HEADER = re.compile(r"^#\+\s*(\w+)\s*:\s*(.*)$")


@dataclass
class Param:
    name: str
    kind: str
    optional: bool
    description: str
    types: frozenset[str] = frozenset()


@dataclass
class StoredQuery:
    path: Path
    text: str
    summary: str = ""
    columns: list[str] = field(default_factory=list)
    params: dict[str, Param] = field(default_factory=dict)
    # Example bindings (``#+ example: date=1945-07-11``), one dict per line: the
    # golden tests run the query with each, and `kg query --list` shows them.
    examples: list[dict[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def is_violation_check(self) -> bool:
        return self.name.endswith("-violation")


def parse_query_file(path: Path) -> StoredQuery:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    query = StoredQuery(path, text)
    for number, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.group(1), match.group(2).strip()
        if key == "summary":
            query.summary = (query.summary + " " + value).strip()
        elif key == "columns":
            query.columns = [c.strip() for c in value.split(",") if c.strip()]
        elif key == "example":
            pairs = [item.partition("=") for item in value.split()]
            if not pairs or any(not sep for _, sep, _ in pairs):
                raise InputError("bad example declaration", problems=[Problem(
                    f"#+ example: {value}", str(path), number, None,
                    "write `#+ example: NAME=VALUE [NAME=VALUE...]`")])
            query.examples.append({name: val for name, _, val in pairs})
        elif key == "param":
            parts = value.split(None, 3)
            kind, _, type_list = parts[1].partition(":") if len(parts) > 1 else ("", "", "")
            types = frozenset(t for t in type_list.split("|") if t)
            if len(parts) < 2 or kind not in PARAM_KINDS or (types and kind != "iri"):
                raise InputError("bad parameter declaration", problems=[Problem(
                    f"#+ param: {value}", str(path), number, None,
                    "write `#+ param: NAME KIND [optional] - description`, KIND one of "
                    + ", ".join(PARAM_KINDS) + " (iri:Type|Type to require registry types)")])
            optional = len(parts) > 2 and parts[2] == "optional"
            rest = value.split(None, 3 if optional else 2)[-1] if len(parts) > 2 else ""
            query.params[parts[0]] = Param(parts[0], kind, optional,
                                           rest.lstrip("- ").strip(), types)
    return query


Folders = Path | Sequence[Path]


def _folders(folders: Folders) -> list[Path]:
    return [folders] if isinstance(folders, Path) else list(folders)


def list_queries(folders: Folders) -> list[StoredQuery]:
    """The stored queries of one folder, or of several (a project's own first): by name,
    the first folder's query of a name wins."""
    found: dict[str, Path] = {}
    for folder in _folders(folders):
        for path in sorted(folder.glob("*.rq")):
            found.setdefault(path.stem, path)
    return [parse_query_file(found[name]) for name in sorted(found)]


def find_query(name_or_file: str, folders: Folders) -> StoredQuery:
    """A stored query by name (``who-conceded-what``) or a path to any ``.rq`` file.

    With several folders (a project's own queries first), the first that has the name wins.
    """
    candidate = Path(name_or_file)
    if candidate.suffix == ".rq" or "/" in name_or_file:
        if not candidate.exists():
            raise InputError(f"query file {name_or_file} does not exist",
                             hint="give a stored query name (kg query --list) or a .rq path")
        return parse_query_file(candidate)
    dirs = _folders(folders)
    for folder in dirs:
        if not folder.is_dir():
            raise InputError(f"the stored queries folder {folder} was not found",
                             hint="run kg from the project folder, or pass --queries DIR")
    path = next((f / f"{name_or_file}.rq" for f in dirs if (f / f"{name_or_file}.rq").exists()),
                dirs[-1] / f"{name_or_file}.rq")
    if not path.exists():
        names = sorted({p.stem for folder in dirs for p in folder.glob("*.rq")})
        close = difflib.get_close_matches(name_or_file, names, n=1)
        hint = f"did you mean {close[0]}?" if close else "stored queries: " + ", ".join(names)
        raise UsageError(f"unknown query {name_or_file!r}", hint=hint)
    return parse_query_file(path)


def bind(query: StoredQuery, raw: list[str],
         known_keys: Mapping[str, str] | None = None) -> dict[str, Term]:
    """Turn ``name=value`` strings into RDF terms, checked against the declarations.

    With ``known_keys`` (the registry's keys and their types), an ``iri`` parameter
    given as a key must be one of them, of a declared type if the parameter names
    types, so a misspelt or wrong key is an error, not an empty answer.
    """
    values: dict[str, Term] = {}
    for item in raw:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"bad --param {item!r}", hint="write --param name=value")
        param = query.params.get(name)
        if param is None:
            known = ", ".join(query.params) or "none"
            raise UsageError(f"unknown parameter {name!r} for query {query.name}",
                             hint=f"parameters of {query.name}: {known}")
        values[name] = _term(param, value)
        if (param.kind == "iri" and known_keys is not None and ":" not in value
                and value not in known_keys):
            close = difflib.get_close_matches(value, sorted(known_keys), n=1)
            raise UsageError(f"{name}: {value!r} is not a key of the entity registry",
                             hint=f"did you mean {close[0]}?" if close
                             else "see data/entities.yaml for the keys")
        if (param.types and known_keys is not None and value in known_keys
                and known_keys[value] not in param.types):
            wanted = " or ".join(sorted(param.types))
            fitting = sorted(k for k, t in known_keys.items() if t in param.types)
            close = difflib.get_close_matches(value, fitting, n=3, cutoff=0.3)
            raise UsageError(f"{name}: {value!r} is of type {known_keys[value]}, not {wanted}",
                             hint="e.g. " + ", ".join(close or fitting[:3]))
    for param in query.params.values():
        if not param.optional and param.name not in values:
            raise UsageError(f"missing parameter {param.name!r} for query {query.name}",
                             hint=f"add --param {param.name}=VALUE ({param.description})")
    return values


def _term(param: Param, value: str) -> Term:
    if param.kind == "iri":
        if re.match(r"^[a-z][a-z0-9+.-]*:", value):
            if any(c in value for c in '<>"{}|^`\\ '):
                raise UsageError(f"{param.name}: {value!r} is not a valid IRI")
            return URIRef(value)
        if not re.match(r"^[a-z0-9][a-z0-9-]*$", value):
            raise UsageError(f"{param.name}: {value!r} is neither a registry key nor an IRI",
                             hint="use a key from data/entities.yaml, e.g. stalin")
        return entity(value)
    if param.kind == "date":
        try:
            return Literal(datetime.date.fromisoformat(value), datatype=XSD.date)
        except ValueError:
            raise UsageError(f"{param.name}: {value!r} is not a date",
                             hint="write YYYY-MM-DD") from None
    if param.kind == "integer":
        if not re.fullmatch(r"[+-]?\d+", value):
            raise UsageError(f"{param.name}: {value!r} is not a whole number")
        return Literal(int(value))
    return Literal(value)


def run(query: StoredQuery, engine: Engine, bindings: dict[str, Term] | None = None) -> Results:
    """Run a stored query; a syntax error names the file and line."""
    try:
        return engine.select(query.text, bindings or {})
    except SyntaxProblem as exc:
        raise InputError("the query does not parse", problems=[Problem(
            exc.message, str(query.path), exc.line, None,
            "fix the SPARQL on that line")]) from None


_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n]*) |
    (?P<string>'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*") |
    (?P<iri><[^<>"{}|^`\\\s]*>) |
    (?P<where>\bWHERE\b) |
    (?P<brace>\{)
""", re.VERBOSE | re.DOTALL | re.IGNORECASE)


def inline_values(text: str, bindings: dict[str, Term]) -> str:
    """Insert ``VALUES`` for the bindings after the first ``WHERE {`` (for remote endpoints).

    Each term is serialised with rdflib's ``n3()``, which escapes it.

    >>> inline_values("SELECT ?x WHERE { ?x ?p ?o }", {"x": URIRef("http://e/a")})
    'SELECT ?x WHERE { VALUES (?x) { (<http://e/a>) } ?x ?p ?o }'
    """
    if not bindings:
        return text
    seen_where = False
    for match in _TOKEN.finditer(text):
        if match.lastgroup == "where":
            seen_where = True
        elif match.lastgroup == "brace" and seen_where:
            names = sorted(bindings)
            block = (" VALUES (" + " ".join("?" + n for n in names) + ") { ("
                     + " ".join(bindings[n].n3() for n in names) + ") }")
            return text[:match.end()] + block + text[match.end():]
    raise InputError("cannot bind parameters: the query has no WHERE clause",
                     hint="write the query with an explicit WHERE { ... }")
