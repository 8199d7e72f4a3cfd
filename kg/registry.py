"""The entity registry (``data/entities.yaml``), shared by every document.

Each entry becomes a resource ``id/entity/<key>`` in the entities graph, typed
with an ontology class, labelled, and linked to the entries it names.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from kg import schema
from kg.errors import ProblemList
from kg.namespace import DIP, entity
from kg.schema import ENTITY_TYPES
from kg.yamlio import LineDict, load_file

KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")

# Entity types and the ontology class each maps to.
# The names and fields come from the one definition of the format, kg.schema; each type
# is the ontology class of the same name.
TYPES = {name: DIP[name] for name in ENTITY_TYPES}
PARTY_TYPES = frozenset({"Person", "State", "Government"})
AGENT_TYPES = PARTY_TYPES | {"Organization"}
MEETING_TYPES = frozenset({"Meeting", "Conference"})

# Reference fields: name -> (allowed target types, many?, allowed on which types)
REFERENCES: dict[str, tuple[frozenset[str], bool, frozenset[str]]] = {
    "represents": (PARTY_TYPES, False, frozenset({"Person"})),
    "offices": (frozenset({"Office"}), True, frozenset({"Person"})),
    "parties": (PARTY_TYPES, True, frozenset({"Negotiation"})),
    "participants": (PARTY_TYPES, True, MEETING_TYPES),
    "negotiation": (frozenset({"Negotiation"}), False, MEETING_TYPES),
    "place": (frozenset({"Place"}), False, MEETING_TYPES),
    "broader": (frozenset({"Issue"}), False, frozenset({"Issue"})),
    "concerns": (frozenset(TYPES), True, frozenset({"Issue"})),
}
PROPERTY_OF = {
    "represents": DIP.represents, "offices": DIP.holdsOffice, "parties": DIP.party,
    "participants": DIP.participant, "negotiation": DIP.partOf, "place": DIP.place,
    "broader": SKOS.broader, "concerns": DIP.concerns,
}
TEXT_FIELDS = tuple(f for f in schema.fields("entity") if f not in REFERENCES)


@dataclass
class Entity:
    key: str
    type: str
    label: str
    line: int
    alt: list[str] = field(default_factory=list)
    description: str | None = None
    note: str | None = None
    refs: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Registry:
    """All entities of the corpus, by key."""

    path: str
    entities: dict[str, Entity]

    def __contains__(self, key: object) -> bool:
        return key in self.entities

    def get(self, key: str) -> Entity | None:
        return self.entities.get(key)

    def suggest(self, key: str) -> str:
        close = difflib.get_close_matches(str(key), list(self.entities), n=3)
        if close:
            return "did you mean " + " or ".join(close) + "?"
        return f"add the entity to {self.path} or use one of its keys"


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def load_registry(path: Path, display: str | None = None) -> Registry:
    """Read and check the registry; all problems are reported together."""
    name = display or str(path)
    data = load_file(path, name)
    problems = ProblemList()
    if not isinstance(data, LineDict):
        problems.add("the registry must be a mapping of keys to entries", name, 1)
        problems.raise_if_any(f"invalid entity registry {name}")
    entities: dict[str, Entity] = {}
    untyped: set[str] = set()
    for key, entry in data.items():
        line = data.key_line(key)
        if not KEY.match(str(key)):
            problems.add(f"bad key {key!r}", name, line, None,
                         "use lower-case letters, digits and hyphens")
            continue
        if not isinstance(entry, LineDict):
            problems.add("entry must be a mapping with type and label", name, line, key)
            continue
        unknown = set(entry) - set(TEXT_FIELDS) - set(REFERENCES)
        for field_name in sorted(unknown):
            problems.add(f"unknown field {field_name!r}", name, entry.key_line(field_name), key,
                         "allowed: " + ", ".join((*TEXT_FIELDS, *REFERENCES)))
        etype = entry.get("type")
        if not isinstance(etype, str) or etype not in TYPES:
            close = difflib.get_close_matches(str(etype), list(TYPES), n=1)
            problems.add(f"unknown type {etype!r}", name, entry.key_line("type"), key,
                         f"did you mean {close[0]}?" if close else "allowed: " + ", ".join(TYPES))
            untyped.add(key)  # still known, so references to it are not reported too
        label = entry.get("label")
        if not isinstance(label, str) or not label.strip():
            problems.add("missing label", name, entry.line, key, "give the preferred name")
            continue
        for text_field in ("description", "note"):
            if entry.get(text_field) is not None and not isinstance(entry[text_field], str):
                problems.add(f"{text_field} must be text", name, entry.key_line(text_field), key)
                entry[text_field] = None
        alt = _strings(entry.get("alt"))
        if alt is None:
            problems.add("alt must be a list of names", name, entry.key_line("alt"), key)
            alt = []
        refs: dict[str, list[str]] = {}
        for ref in REFERENCES:
            if ref in entry:
                values = _strings(entry[ref])
                if values is None:
                    problems.add(f"{ref} must be a key or a list of keys", name,
                                 entry.key_line(ref), key)
                    continue
                refs[ref] = values
        if key not in untyped:
            entities[key] = Entity(key, str(etype), label, line, alt, entry.get("description"),
                                   entry.get("note"), refs)
    for ent in entities.values():
        for ref, values in ent.refs.items():
            targets, many, owners = REFERENCES[ref]
            line = data[ent.key].key_line(ref)
            if ent.type not in owners:
                problems.add(f"field {ref!r} does not apply to a {ent.type}", name, line,
                             ent.key, "it applies to: " + ", ".join(sorted(owners)))
            if not many and len(values) > 1:
                problems.add(f"{ref} takes one key", name, line, ent.key)
            for value in values:
                target = entities.get(value)
                if value in untyped:
                    continue
                if target is None:
                    close = difflib.get_close_matches(value, list(entities), n=1)
                    problems.add(f"unknown entity {value!r} in {ref}", name, line, ent.key,
                                 f"did you mean {close[0]}?" if close else "add it to the registry")
                elif target.type not in targets:
                    problems.add(f"{ref} must name a {' or '.join(sorted(targets))}, "
                                 f"but {value} is a {target.type}", name, line, ent.key)
    problems.raise_if_any(f"invalid entity registry {name}")
    return Registry(name, entities)


def registry_graph(registry: Registry) -> Graph:
    """The entities graph: types, labels, descriptions and links."""
    graph = Graph()
    for ent in sorted(registry.entities.values(), key=lambda e: e.key):
        node = entity(ent.key)
        graph.add((node, RDF.type, TYPES[ent.type]))
        graph.add((node, RDFS.label, Literal(ent.label, lang="en")))
        graph.add((node, DCTERMS.identifier, Literal(ent.key)))
        for alt in ent.alt:
            graph.add((node, SKOS.altLabel, Literal(alt, lang="en")))
        if ent.description:
            graph.add((node, DCTERMS.description, Literal(ent.description, lang="en")))
        if ent.note:
            graph.add((node, SKOS.note, Literal(ent.note, lang="en")))
        if ent.type == "Issue":
            graph.add((node, SKOS.inScheme, DIP.issueScheme))
            graph.add((node, SKOS.prefLabel, Literal(ent.label, lang="en")))
        for ref, values in ent.refs.items():
            for value in values:
                graph.add((node, PROPERTY_OF[ref], entity(value)))
    return graph
