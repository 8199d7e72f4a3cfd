"""The structure of curation files and of the entity registry, defined once.

:data:`CURATION` and :data:`REGISTRY` are JSON Schemas (draft 2020-12), written here
as Python data. They are

- the field lists and the choices the readers check against (:mod:`kg.curation` and
  :mod:`kg.registry` take every allowed field name, modality, judgement, layer kind and
  entity type from here, with :func:`fields` and :func:`choices`, and report an unknown
  field with the nearest allowed one);
- shipped with the package as ``kg/vocab/schema/{curation,registry}.schema.json``,
  printed by ``kg schema``, and named on the first line of the files ``kg new`` and
  ``kg init`` write (``# yaml-language-server: $schema=...``), so an editor with YAML
  support flags an unknown field, a value of the wrong type or a missing quote as the
  curator types.

The readers keep the checks a schema cannot make: quotes found in the text, registry
keys that exist and have the right type, act types from the ontology, references
between claims. A test checks that the shipped files equal :func:`generate` (regenerate
them with ``kg schema --write``) and that the repository's files validate.

>>> fields("content")
('label', 'concerns')
>>> choices("claim", "modality")
('done', 'planned', 'conditional', 'opinion')
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://w3id.org/dipkg/schema/"

# --- building blocks ---------------------------------------------------------------------


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema, or null: an optional field left empty (``note:``) is read as absent."""
    if isinstance(schema.get("type"), str):
        return schema | {"type": [schema["type"], "null"]}
    if "enum" in schema:
        return schema | {"enum": [*schema["enum"], None]}
    if "anyOf" in schema:
        return schema | {"anyOf": [*schema["anyOf"], {"type": "null"}]}
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = (), description: str = "",
         **more: Any) -> dict[str, Any]:
    """A mapping with exactly these fields (an unknown field is an error); an optional
    field may be left empty."""
    schema: dict[str, Any] = {"type": "object"}
    if description:
        schema["description"] = description
    schema["properties"] = {name: value if name in required or "const" in value
                            else _nullable(value) for name, value in properties.items()}
    if required:
        schema["required"] = list(required)
    schema["additionalProperties"] = False
    schema.update(more)
    return schema


def _text(description: str, **more: Any) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "description": description, **more}


def _ref(name: str, description: str = "") -> dict[str, Any]:
    ref: dict[str, Any] = {"$ref": f"#/$defs/{name}"}
    if description:
        ref["description"] = description
    return ref


KEY = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$",
       "description": "the key of an entity in data/entities.yaml"}
KEYS = {"anyOf": [KEY, {"type": "array", "items": KEY}],
        "description": "a registry key or a list of keys"}
# The readers take a single key given as a one-key list too.
ONE_KEY = {"anyOf": [KEY, {"type": "array", "items": KEY, "maxItems": 1}],
           "description": "a registry key"}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$",
        "description": "a calendar date, YYYY-MM-DD"}
OCCURRENCE = {"type": "integer", "minimum": 1,
              "description": "which occurrence of the words (1 = the first)"}
WITHIN = _text("longer words of the text, unique, around the quote", title="in")
QUOTE_TEXT = _text("words copied exactly from the text")
QUOTE = {"anyOf": [QUOTE_TEXT, _ref("quoteSpec")],
         "description": "the exact words of the text, or {quote, occurrence, in, whole_word}"}
REASON = _text("the curator's reason, or the name of a reason under `reasons:`")
INFERRED = {"type": "object", "additionalProperties": REASON,
            "description": "fields the text does not state outright, each with the reason"}

# --- curation files --------------------------------------------------------------------------

_QUOTED_FIELD = _obj({
    "value": {"description": "the value (text, a date, or registry keys)"},
    "quote": QUOTE,
    "occurrence": OCCURRENCE,
    "in": WITHIN,
    "carrier": KEY | {"description": "who carried a message (form only)"},
    "inferred": REASON,
}, required=("quote",), description="a document field: its value and the words giving it")

_DOCUMENT = _obj({
    "id": _text("the document id: the curation file's name without .yaml",
                pattern="^[a-z0-9][a-z0-9-]*$"),
    "text": _text("the text file, relative to this file (../text/ID.txt)"),
    "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$",
               "description": "the SHA-256 of the text file (kg new writes it)"},
    **{name: _ref("quotedField") | {"required": ["value"]} for name in (
        "title", "date", "sender", "recipients", "signatories", "classification", "form",
        "archive", "collection", "url")},
    "citation": _ref("quotedField", "the citation: its value is the words quoted"),
    "language": _text("the language of the text (BCP 47), default en"),
    "negotiation": ONE_KEY | {"description": "the negotiation the claims belong to"},
    "breaks_off": _ref("quotedField", "a partial text: how it is incomplete (value:) and "
                                      "its last words (quote:)") | {"required": ["value"]},
}, required=("id", "text", "sha256", "title", "date"), description="the document and its source")

_BOUND = {"anyOf": [QUOTE_TEXT, _obj({"quote": QUOTE_TEXT, "occurrence": OCCURRENCE},
                                     required=("quote",))]}

_LAYER = _obj({
    "kind": {"enum": ["catalogue", "summary", "transcript", "notes"],
             "description": "the kind of layer (default: its name)"},
    "label": _text("what the layer is"),
    "author": KEYS | {"description": "whose words these are (registry keys)"},
    "from": _BOUND | {"description": "the first words of the layer"},
    "to": {"anyOf": [_BOUND, {"const": "END"}],
           "description": "the last words of the layer, or END"},
}, required=("label", "author", "from", "to"), description="one layer of the text")

_GLOSS = _obj({
    "id": _text("the gloss's id"),
    "quote": QUOTE,
    "occurrence": OCCURRENCE,
    "in": WITHIN,
    "whole_word": {"type": "boolean"},
    "glosses": KEYS | {"description": "the entity the gloss names"},
    "statement": _text("what the gloss states"),
}, required=("id", "quote", "statement"), description="an editor's gloss in the transcript")

_MENTION = _obj({
    "quote": QUOTE,
    "entity": ONE_KEY,
    "all": {"type": "boolean", "description": "every occurrence of the words"},
    "layer": _text("only occurrences in this layer"),
    "occurrence": OCCURRENCE,
    "in": WITHIN,
    "inferred": REASON,
}, required=("quote", "entity"), description="words of the text that name an entity")

_CONTENT = _obj({
    "label": _text("what is demanded, offered, conceded ..."),
    "concerns": KEYS,
}, required=("label",), description="the content of the act")

_REFS = {"anyOf": [_text("a claim id, or DOCUMENT-ID/CLAIM-ID"),
                   {"type": "array", "items": _text("a claim id, or DOCUMENT-ID/CLAIM-ID")}]}

_CLAIM = _obj({
    "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]*$",
           "description": "the claim's id, unique in the file"},
    "act": _text("the act type (an ontology class under dip:Claim)",
                 examples=["Demand", "Offer", "Concession", "Agreement", "Rejection",
                           "Assurance", "Suggestion", "Plan", "Assessment", "Meeting"]),
    "actor": KEYS,
    "counterparty": KEYS,
    "issue": KEYS,
    "content": _CONTENT,
    "quote": {"anyOf": [QUOTE, {"type": "array", "items": QUOTE, "minItems": 1}]},
    "occurrence": OCCURRENCE,
    "in": WITHIN,
    "modality": {"enum": ["done", "planned", "conditional", "opinion"]},
    "date": DATE,
    "time_expression": _text("the words giving the time"),
    "time_qualifier": _text("a qualification of the time (after ..., since ...)"),
    "condition": _text("the condition of a conditional act"),
    "manner": _text("how it was done"),
    "meeting": ONE_KEY,
    "responds_to": _REFS,
    "assesses": _REFS,
    "judgement": {"enum": ["exceeds", "meets"]},
    "measured_against": ONE_KEY,
    "speaker": {"anyOf": [KEYS, {"type": "null"}]},
    "heard_by": ONE_KEY,
    "subject_to": KEYS | {"description": "the other issues whose settlement the act awaits"},
    "term_of": ONE_KEY | {"description": "the instrument (final agreement) the act is a term of"},
    "inferred": _obj({name: REASON for name in (
        "act", "actor", "counterparty", "issue", "content", "modality", "date", "condition",
        "meeting", "responds_to", "speaker", "heard_by", "subject_to", "term_of")},
        description="fields the text does not state outright, each with the reason"),
    "note": _text("a note of the curator"),
}, required=("id", "act", "actor", "issue", "content", "quote", "modality"),
    description="what the document reports a party did or said")

_EDITORIAL = _obj({
    "id": _text("the statement's id"),
    "quote": QUOTE,
    "occurrence": OCCURRENCE,
    "in": WITHIN,
    "statement": _text("what the archive states"),
    "concerns": KEYS,
    "corresponds_to": _REFS,
    "note": _text("a note of the curator"),
}, required=("id", "quote", "statement"), description="a statement in the archive's words")

_NO_CLAIM = _obj({
    "quote": QUOTE,
    "occurrence": OCCURRENCE,
    "in": WITHIN,
    "reason": REASON,
}, required=("quote", "reason"), description="a transcript passage that reports no act")

CURATION: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": SCHEMA_ID + "curation.schema.json",
    "title": "dipkg curation file",
    "description": "One document's curation (data/curation/<document-id>.yaml): its "
                   "source, layers, glosses, mentions, claims and editorial statements. "
                   "See the curation guide (docs/curation-guide.md).",
    **_obj({
        "document": _ref("document"),
        "reasons": {"type": "object", "additionalProperties": _text("a reason, a sentence"),
                    "description": "named reasons that inferences may cite"},
        "layers": {"type": "object", "additionalProperties": _ref("layer"),
                   "description": "who wrote which words: catalogue, summary, transcript"},
        "glosses": _obj({"pattern": _text("a regular expression finding every gloss"),
                         "author": KEYS,
                         "items": {"type": "array", "items": _ref("gloss")}},
                        description="the editors' glosses in the transcript"),
        "mentions": {"type": "array", "items": _ref("mention")},
        "defaults": _obj({"speaker": KEYS, "heard_by": ONE_KEY,
                          "inferred": INFERRED},
                         description="what every claim takes unless it says otherwise"),
        "claims": {"type": "array", "items": _ref("claim")},
        "editorial": {"type": "array", "items": _ref("editorial")},
        "no_claim": {"type": "array", "items": _ref("noClaim")},
    }, required=("document", "layers", "claims")),
    "$defs": {
        "document": _DOCUMENT, "quotedField": _QUOTED_FIELD,
        "quoteSpec": _obj({"quote": QUOTE_TEXT, "occurrence": OCCURRENCE, "in": WITHIN,
                           "whole_word": {"type": "boolean"}}, required=("quote",)),
        "layer": _LAYER, "gloss": _GLOSS, "mention": _MENTION, "claim": _CLAIM,
        "content": _CONTENT, "editorial": _EDITORIAL, "noClaim": _NO_CLAIM,
    },
}

# --- the registry ----------------------------------------------------------------------------

ENTITY_TYPES = ("Person", "State", "Government", "Organization", "Office", "Place",
                "Instrument", "Meeting", "Conference", "Negotiation", "HistoricalEvent",
                "Issue", "Collection")

_ENTITY = _obj({
    "type": {"enum": list(ENTITY_TYPES)},
    "label": _text("the preferred name"),
    "alt": {"anyOf": [_text("another name"), {"type": "array", "items": _text("a name")}],
            "description": "other names"},
    "description": _text("who or what it is"),
    "note": _text("a note of the curator"),
    "represents": ONE_KEY | {"description": "the state or government a person represents"},
    "offices": KEYS | {"description": "offices a person holds"},
    "parties": KEYS | {"description": "the parties to a negotiation"},
    "participants": KEYS | {"description": "who takes part in a meeting"},
    "negotiation": ONE_KEY | {"description": "the negotiation a meeting belongs to"},
    "place": ONE_KEY | {"description": "where a meeting is held"},
    "broader": ONE_KEY | {"description": "the broader issue"},
    "concerns": KEYS | {"description": "what an issue concerns"},
}, required=("type", "label"), description="one entity")

REGISTRY: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": SCHEMA_ID + "registry.schema.json",
    "title": "dipkg entity registry",
    "description": "The entities every document names (data/entities.yaml), by key.",
    "type": "object",
    "propertyNames": {"pattern": "^[a-z0-9][a-z0-9-]*$"},
    "additionalProperties": _ref("entity"),
    "$defs": {"entity": _ENTITY},
}

# --- the project file, kg.toml -----------------------------------------------------------------

_FILES = {"type": "array", "items": _text("a path relative to the project folder")}

CONFIG: dict[str, Any] = {
    "$schema": DIALECT,
    "$id": SCHEMA_ID + "config.schema.json",
    "title": "dipkg project file (kg.toml)",
    **_obj({
        "project": _obj({
            "title": _text("the corpus's title"),
            "base": _text("the base IRI of every resource (fixed in this version)",
                          format="iri"),
            "licence": _text("the licence of the corpus"),
            "negotiations": {"type": "array", "items": KEY,
                             "description": "the negotiations the corpus is about"},
        }),
        "paths": _obj({
            "data": _text("texts, curation files and the registry"),
            "build": _text("where kg build, infer and validate write"),
            "queries": _text("the corpus's own stored queries"),
        }),
        "vocabulary": _obj({
            "ontology": _FILES | {"description": "Turtle files of the corpus's own terms"},
            "shapes": _FILES | {"description": "Turtle files of the corpus's own shapes"},
        }),
    }),
}

SCHEMAS = {"curation": CURATION, "registry": REGISTRY, "config": CONFIG}


def _definition(name: str) -> dict[str, Any]:
    if name in ("curation", "config"):
        return SCHEMAS[name]
    for schema in SCHEMAS.values():
        if name in schema.get("$defs", {}):
            found: dict[str, Any] = schema["$defs"][name]
            return found
    nested: dict[str, dict[str, Any]] = {"glosses": CURATION["properties"]["glosses"],
                                         "defaults": CURATION["properties"]["defaults"]}
    return nested[name]


def fields(name: str) -> tuple[str, ...]:
    """The fields a mapping of this definition may have, in the schema's order."""
    return tuple(_definition(name)["properties"])


def choices(name: str, field_name: str) -> tuple[str, ...]:
    """The values an enumerated field allows."""
    return tuple(v for v in _definition(name)["properties"][field_name]["enum"] if v is not None)


def problems(kind: str, data: Any) -> list[tuple[str, str | None]]:
    """What the schema finds wrong in ``data``: (message, hint) pairs, the path first.

    An unknown field is named with the nearest allowed one.

    >>> problems("config", {"project": {"titel": "Potsdam"}})
    [("[project]: unknown key 'titel'", 'did you mean title?')]
    """
    import difflib

    import jsonschema

    found: list[tuple[str, str | None]] = []
    validator = jsonschema.Draft202012Validator(SCHEMAS[kind])
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        where = "".join(f"[{step}]" for step in error.absolute_path)
        prefix = f"{where}: " if where else ""
        if error.validator == "additionalProperties":
            allowed = list(error.schema.get("properties", {}))
            for key in sorted(set(error.instance) - set(allowed)):
                close = difflib.get_close_matches(str(key), allowed, n=1)
                found.append((f"{prefix}unknown key {key!r}",
                              f"did you mean {close[0]}?" if close
                              else "allowed: " + ", ".join(allowed)))
        else:
            found.append((f"{prefix}{error.message}", None))
    return found


def generate(kind: str) -> str:
    """The JSON text of a schema as shipped (sorted keys, two-space indent)."""
    return json.dumps(SCHEMAS[kind], indent=2, ensure_ascii=False) + "\n"


def write(folder: Path) -> list[Path]:
    """(Re)write the shipped schema files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in SCHEMAS:
        path = folder / f"{kind}.schema.json"
        path.write_text(generate(kind), encoding="utf-8")
        written.append(path)
    return written
