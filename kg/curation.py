"""Curation files: read, check and resolve one document's hand-curated extraction.

A curation file (``data/curation/<document-id>.yaml``) names the document's text,
its layers, the editors' glosses, the mentions of entities, the claims and the
archive's editorial statements. This module checks every field, places every
quote in the text (the curator never types an offset) and returns a
:class:`Curation` that :mod:`kg.compile` turns into RDF. All problems in a file
are reported together, each with file, line, item and a hint.
"""

from __future__ import annotations

import datetime
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg import schema
from kg.errors import InputError, Problem, ProblemList
from kg.registry import AGENT_TYPES, MEETING_TYPES, PARTY_TYPES, Registry
from kg.text import QuoteError, Span, find_all, locate, sentences, sha256_file
from kg.yamlio import LineDict, LineList, load_file

# Field names and choices come from the one definition of the format, kg.schema (also
# shipped as a JSON Schema for editors); this module makes the checks a schema cannot.
MODALITIES = schema.choices("claim", "modality")
JUDGEMENTS = schema.choices("claim", "judgement")
# Kinds of text layer (each an ontology class, see kg.compile.LAYER_CLASS). A layer's
# name is free; its kind defaults to its name.
LAYER_KINDS = schema.choices("layer", "kind")
ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

CLAIM_FIELDS = schema.fields("claim")
# Fields a curator may mark as inferred (the RDF property each one fills).
INFERABLE = tuple(schema.CURATION["$defs"]["claim"]["properties"]["inferred"]["properties"])
DOCUMENT_FIELDS = schema.fields("document")
# Descriptive fields of the document that carry a value and a quote.
QUOTED_DOCUMENT_FIELDS = ("title", "date", "sender", "recipients", "signatories",
                          "classification", "form",
                          "archive", "collection", "citation", "url", "breaks_off")


@dataclass
class Anchor:
    """A quote placed in the text."""

    quote: str
    span: Span
    layer: str


@dataclass
class Layer:
    name: str
    label: str
    authors: list[str]
    span: Span
    kind: str = "transcript"

    @property
    def author(self) -> str:
        """The first author (the one an editorial statement of the layer is spoken by)."""
        return self.authors[0]


@dataclass
class Gloss:
    id: str
    anchor: Anchor
    glosses: str | None
    statement: str
    author: str


@dataclass
class Mention:
    entity: str
    anchor: Anchor
    inferred: str | None


@dataclass
class Claim:
    id: str
    line: int
    act: str
    actors: list[str]
    counterparties: list[str]
    issues: list[str]
    content_label: str
    content_concerns: list[str]
    anchors: list[Anchor]
    modality: str
    date: datetime.date | None = None
    time_expression: str | None = None
    time_qualifier: str | None = None
    condition: str | None = None
    manner: str | None = None
    meeting: str | None = None
    responds_to: list[str] = field(default_factory=list)
    assesses: list[str] = field(default_factory=list)
    judgement: str | None = None
    measured_against: str | None = None
    speakers: list[str] = field(default_factory=list)
    heard_by: str | None = None
    inferred: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    # Issues whose settlement the act is made subject to (docs/curation-guide.md, 3.7).
    subject_to: list[str] = field(default_factory=list)
    # The instrument (the final agreement) of which the act is a term.
    term_of: str | None = None


@dataclass
class ExternalRef:
    """A reference from one document's claim to a claim of another document."""

    file: str
    line: int
    item: str
    doc_id: str
    claim_id: str


@dataclass
class NoClaim:
    """A transcript passage the curator says reports no act, and why."""

    anchor: Anchor
    reason: str


@dataclass
class Editorial:
    id: str
    anchor: Anchor
    statement: str
    concerns: list[str]
    corresponds_to: list[str]
    note: str | None


@dataclass
class DocumentField:
    name: str
    value: Any
    anchor: Anchor
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Curation:
    """One document's curation, checked and with every quote placed."""

    path: str
    doc_id: str
    text_path: Path
    text: str
    sha256: str
    language: str
    negotiation: str | None
    fields: dict[str, DocumentField]
    layers: list[Layer]
    glosses: list[Gloss]
    mentions: list[Mention]
    claims: list[Claim]
    editorial: list[Editorial]
    no_claim: list[NoClaim] = field(default_factory=list)
    external_refs: list[ExternalRef] = field(default_factory=list)

    @property
    def sender(self) -> str | None:
        field_ = self.fields.get("sender")
        return str(field_.value) if field_ else None

    @property
    def recipients(self) -> list[str]:
        field_ = self.fields.get("recipients")
        return list(field_.value) if field_ else []

    @property
    def signatories(self) -> list[str]:
        field_ = self.fields.get("signatories")
        return list(field_.value) if field_ else []

    @property
    def reporters(self) -> list[str]:
        """Who states the document's claims: its sender, or its signatories."""
        return [self.sender] if self.sender else self.signatories

    @property
    def date(self) -> datetime.date:
        value = self.fields["date"].value
        assert isinstance(value, datetime.date)
        return value

    def layers_by_name(self) -> dict[str, Layer]:
        return {layer.name: layer for layer in self.layers}

    @property
    def transcript(self) -> Layer:
        return next(layer for layer in self.layers if layer.kind == "transcript")

    def transcript_sentences(self) -> list[tuple[int, int]]:
        layer = self.transcript
        return sentences(self.text, layer.span.start, layer.span.end)


class _Reader:
    """Checks one curation file; collects problems instead of stopping at the first."""

    def __init__(self, path: Path, display: str, registry: Registry,
                 act_types: dict[str, Any]) -> None:
        self.path = path
        self.name = display
        self.registry = registry
        self.act_types = act_types
        self.problems = ProblemList()
        self.text = ""
        self.layers: list[Layer] = []
        self.gloss_spans: list[Span] = []
        self.claim_ids: set[str] = set()
        self.reasons: dict[str, str] = {}
        self.external_refs: list[ExternalRef] = []

    # --- helpers ---------------------------------------------------------------

    def problem(self, message: str, line: int | None, item: str | None = None,
                hint: str | None = None) -> None:
        self.problems.add(message, self.name, line, item, hint)

    def known_keys(self, data: LineDict, allowed: tuple[str, ...], item: str | None) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                self.problem(f"unknown field {key!r}", data.key_line(key), item,
                             f"did you mean {close[0]}?" if close
                             else "allowed: " + ", ".join(allowed))

    def keys(self, value: Any, line: int, item: str | None, what: str,
             types: frozenset[str] | None, required: bool = False) -> list[str]:
        """Entity keys from a key or a list of keys, checked against the registry."""
        if value is None:
            if required:
                self.problem(f"missing {what}", line, item, f"name the {what} by registry key")
            return []
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            self.problem(f"{what} must be a registry key or a list of keys", line, item)
            return []
        result = []
        for key in values:
            ent = self.registry.get(key)
            if ent is None:
                self.problem(f"unknown entity {key!r} in {what}", line, item,
                             self.registry.suggest(key))
            elif types is not None and ent.type not in types:
                self.problem(f"{what} must be of type {' or '.join(sorted(types))}, "
                             f"but {key} is of type {ent.type}", line, item)
            else:
                result.append(key)
        if required and not values:
            self.problem(f"missing {what}", line, item)
        return result

    def string(self, data: LineDict, key: str, item: str | None,
               required: bool = False) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                self.problem(f"missing {key}", data.line, item)
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{key} must be non-empty text", data.key_line(key), item)
            return None
        return value

    def date(self, value: Any, line: int, item: str | None) -> datetime.date | None:
        if value is None:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            self.problem(f"invalid date {value!r}", line, item,
                         "write a calendar date as YYYY-MM-DD, e.g. 1945-07-11")
            return None

    def breaks_off(self, value: Any, anchor: Anchor | None, spec: LineDict,
                   where: str) -> str | None:
        """A partial text: the quote must be the transcript's last words (where it breaks)."""
        if not isinstance(value, str) or not value.strip():
            self.problem("breaks_off needs a text `value:` saying how the text is incomplete",
                         spec.line, where)
            return None
        transcript = [layer for layer in self.layers if layer.kind == "transcript"]
        if anchor is not None and transcript and anchor.span.end != transcript[0].span.end:
            self.problem(f'breaks_off quote "{anchor.quote}" is not where the transcript ends',
                         spec.key_line("quote"), where,
                         "quote the last words before the break and end the transcript layer "
                         "there (`to:` the same words)")
        return value

    def layer_of(self, span: Span) -> str | None:
        best: Layer | None = None
        for layer in self.layers:
            if span.within(layer.span) and (
                    best is None or layer.span.end - layer.span.start
                    < best.span.end - best.span.start):
                best = layer
        return best.name if best else None

    def anchor(self, quote: Any, line: int, item: str | None, *, occurrence: Any = None,
               within: Any = None, whole_word: Any = True) -> Anchor | None:
        """Place one quote (a string, or a mapping with quote/occurrence/in/whole_word)."""
        if isinstance(quote, LineDict):
            self.known_keys(quote, schema.fields("quoteSpec"), item)
            occurrence, within, line = quote.get("occurrence"), quote.get("in"), quote.line
            whole_word = quote.get("whole_word", True)
            quote = quote.get("quote")
        if quote is None:
            self.problem("missing quote", line, item,
                         "copy the exact words of the text that support this")
            return None
        if not isinstance(quote, str):
            self.problem("quote must be text", line, item, "put the words in double quotes")
            return None
        if occurrence is not None and (not isinstance(occurrence, int) or occurrence < 1):
            self.problem(f"occurrence must be a whole number from 1, not {occurrence!r}",
                         line, item)
            return None
        if within is not None and not isinstance(within, str):
            self.problem("`in` must be text", line, item)
            return None
        if not isinstance(whole_word, bool):
            self.problem("whole_word must be true or false", line, item)
            return None
        try:
            span = locate(self.text, quote, occurrence=occurrence, within=within,
                          whole_word=whole_word)
        except QuoteError as exc:
            self.problem(exc.message, line, item, exc.hint)
            return None
        layer = self.layer_of(span) if self.layers else "text"
        if layer is None:
            self.problem(f'quote "{quote}" lies outside every layer', line, item,
                         "extend a layer in `layers:` or quote words inside one")
            return None
        return Anchor(quote, span, layer)

    def anchors(self, data: LineDict, item: str | None) -> list[Anchor]:
        value = data.get("quote")
        line = data.key_line("quote")
        if isinstance(value, LineList):
            if not value:
                self.problem("empty quote list", line, item)
            if "occurrence" in data or "in" in data:
                self.problem("with a list of quotes, give occurrence/in on each quote",
                             line, item, "write - {quote: ..., occurrence: 2}")
            found = [self.anchor(q, value.line, item) for q in value]
        else:
            found = [self.anchor(value, line, item, occurrence=data.get("occurrence"),
                                 within=data.get("in"))]
        return [a for a in found if a is not None]

    # --- sections ----------------------------------------------------------------

    def read(self) -> Curation:
        data = load_file(self.path, self.name)
        if not isinstance(data, LineDict):
            raise InputError(f"{self.name}: a curation file must be a mapping",
                             problems=[Problem("expected `document:`, `claims:` ...",
                                               self.name, 1)])
        self.known_keys(data, schema.fields("curation"), None)
        self.check_todo(data, data.line, None)
        self.problems.raise_if_any(f"unfinished curation file {self.name}")
        self.read_reasons(data.get("reasons"), data.key_line("reasons"))
        doc = data.get("document")
        if not isinstance(doc, LineDict):
            self.problem("missing `document:` section", data.line, None,
                         "see README.md, section Adding a document")
            self.problems.raise_if_any(f"invalid curation file {self.name}")
        assert isinstance(doc, LineDict)
        doc_id, text_path, sha = self.read_source(doc)
        # Without the text no quote can be placed: stop here.
        self.problems.raise_if_any(f"invalid curation file {self.name}")
        self.layers = self.read_layers(data.get("layers"), data.key_line("layers"))
        fields = self.read_document_fields(doc)
        glosses = self.read_glosses(data.get("glosses"), data.key_line("glosses"))
        mentions = self.read_mentions(data.get("mentions"), data.key_line("mentions"))
        defaults = data.get("defaults")
        if defaults is None:
            defaults = LineDict()
        claims = self.read_claims(data.get("claims"), data.key_line("claims"), defaults)
        editorial = self.read_editorial(data.get("editorial"), data.key_line("editorial"),
                                        self.claim_ids)
        negotiation = None
        if doc.get("negotiation") is not None:
            found = self.keys(doc.get("negotiation"), doc.key_line("negotiation"), "document",
                              "negotiation", frozenset({"Negotiation"}))
            negotiation = found[0] if found else None
        no_claim = self.read_no_claim(data.get("no_claim"), data.key_line("no_claim"))
        language = doc.get("language")
        if language is None:
            language = "en"
        elif not isinstance(language, str) or not language.strip():
            self.problem("language must be a language tag, e.g. en", doc.key_line("language"),
                         "document")
        self.problems.raise_if_any(f"invalid curation file {self.name}")
        return Curation(self.name, doc_id, text_path, self.text, sha, str(language),
                        negotiation, fields, self.layers, glosses, mentions, claims, editorial,
                        no_claim, self.external_refs)

    def check_todo(self, value: Any, line: int, path: str | None) -> None:
        """Every value still reading ``TODO`` (as ``kg new`` writes them) is a problem."""
        if isinstance(value, LineDict):
            for key, item in value.items():
                self.check_todo(item, value.key_line(key),
                                f"{path}: {key}" if path else str(key))
        elif isinstance(value, LineList):
            for item in value:
                self.check_todo(item, getattr(item, "line", value.line), path)
        elif isinstance(value, str) and value.strip().startswith("TODO"):
            self.problem(f"{path or 'value'} is still TODO", line, None,
                         "fill it in (docs/curation-guide.md says what each field needs)")

    def read_no_claim(self, value: Any, line: int) -> list[NoClaim]:
        """Transcript sentences that report no meeting, position, act or plan."""
        if value is None:
            return []
        if not isinstance(value, LineList):
            self.problem("`no_claim:` must be a list of {quote, reason}", line, "no_claim")
            return []
        result = []
        for item in value:
            if not isinstance(item, LineDict):
                self.problem("each no_claim entry needs quote and reason", value.line,
                             "no_claim")
                continue
            self.known_keys(item, schema.fields("noClaim"), "no_claim")
            anchor = self.anchor(item.get("quote"), item.key_line("quote"), "no_claim",
                                 occurrence=item.get("occurrence"), within=item.get("in"))
            reason = self.string(item, "reason", "no_claim", required=True)
            if anchor and reason:
                result.append(NoClaim(anchor, self.reason(reason, item.key_line("reason"),
                                                          "no_claim")))
        return result

    def read_reasons(self, value: Any, line: int) -> None:
        """Named reasons, so one inference stated once can be cited by many claims."""
        if value is None:
            return
        if not isinstance(value, LineDict):
            self.problem("`reasons:` must map names to reasons", line, "reasons")
            return
        for name, text in value.items():
            if not isinstance(text, str) or len(text.strip()) < 10:
                self.problem(f"reason {name!r} must be a sentence", value.key_line(name),
                             "reasons")
            else:
                self.reasons[str(name)] = text

    def reason(self, text: str, line: int | None = None, item: str | None = None) -> str:
        """A reason as written, or the named reason it cites.

        A reason without a space is taken as a name: an undefined one is a problem,
        not a reason (a mistyped name would otherwise be recorded as the reason).
        """
        name = text.strip()
        if name in self.reasons:
            return self.reasons[name]
        if name and not any(ch.isspace() for ch in name):
            known = ", ".join(sorted(self.reasons)) or "none defined"
            self.problem(f"unknown reason name {name!r}", line, item,
                         f"define it under `reasons:` or write the reason out (names: {known})")
        return text

    def read_source(self, doc: LineDict) -> tuple[str, Path, str]:
        self.known_keys(doc, DOCUMENT_FIELDS, "document")
        doc_id = self.string(doc, "id", "document", required=True) or ""
        if doc_id and doc_id != self.path.stem:
            self.problem(f"document id {doc_id!r} differs from the file name {self.path.stem!r}",
                         doc.key_line("id"), "document",
                         "name the curation file <document id>.yaml")
        rel = self.string(doc, "text", "document", required=True)
        sha = self.string(doc, "sha256", "document", required=True) or ""
        if not rel:
            return doc_id, Path(), sha
        text_path = (self.path.parent / rel).resolve()
        try:
            raw = text_path.read_bytes()
        except OSError as exc:
            self.problem(f"cannot read the text {rel}: {exc.strerror}", doc.key_line("text"),
                         "document", "the path is relative to the curation file")
            return doc_id, text_path, sha
        actual = sha256_file(text_path)
        if sha and actual != sha.lower():
            self.problem(f"the text {rel} has changed: its SHA-256 is {actual}, "
                         f"the curation expects {sha}", doc.key_line("sha256"), "document",
                         "if the change is intended, check every quote against the new text, "
                         "record the change in data/README.md, then update sha256")
        try:
            self.text = raw.decode("utf-8")
        except UnicodeDecodeError:
            self.problem(f"the text {rel} is not UTF-8", doc.key_line("text"), "document")
        return doc_id, text_path, sha

    def read_layers(self, value: Any, line: int) -> list[Layer]:
        if not isinstance(value, LineDict):
            self.problem("`layers:` must define the document's layers", line, "layers",
                         "give from/to quotes for catalogue, summary and transcript")
            return []
        layers = []
        for name, spec in value.items():
            where = f"layer {name}"
            if not isinstance(spec, LineDict):
                self.problem("a layer needs label, author, from and to", value.key_line(name),
                             where)
                continue
            self.known_keys(spec, schema.fields("layer"), where)
            kind = spec.get("kind", name)
            if kind not in LAYER_KINDS:
                self.problem(f"unknown layer kind {kind!r}", spec.key_line("kind"), where,
                             "kinds are: " + ", ".join(LAYER_KINDS)
                             + " (a layer's kind defaults to its name)")
                continue
            label = self.string(spec, "label", where, required=True) or name
            author = self.keys(spec.get("author"), spec.key_line("author"), where, "author",
                               AGENT_TYPES, required=True)
            def place(bound: Any, region: Span | None = None) -> Span:
                """A from/to bound: a quote, or {quote, occurrence}."""
                if isinstance(bound, LineDict):
                    return locate(self.text, str(bound.get("quote")),
                                  occurrence=bound.get("occurrence"), region=region)
                return locate(self.text, str(bound), region=region)

            try:
                first = place(spec.get("from"))
                if spec.get("to") == "END":
                    end = len(self.text.rstrip())
                else:
                    end = place(spec.get("to"), Span(first.start, len(self.text))).end
            except QuoteError as exc:
                self.problem(exc.message, spec.line, where, exc.hint)
                continue
            # A layer whose author is wrong is still placed (its problem is already
            # recorded), so quotes inside it are not also reported as outside every layer.
            layers.append(Layer(name, label, author or ["?"], Span(first.start, end), kind))
        if sum(1 for layer in layers if layer.kind == "transcript") != 1:
            self.problem("`layers:` must define exactly one transcript layer", line, "layers",
                         "the transcript holds the document's own words; claims quote it")
        return layers

    def read_document_fields(self, doc: LineDict) -> dict[str, DocumentField]:
        fields: dict[str, DocumentField] = {}
        for name in QUOTED_DOCUMENT_FIELDS:
            spec = doc.get(name)
            line = doc.key_line(name)
            where = f"document {name}"
            if spec is None:
                if name in ("title", "date") or (
                        name in ("sender", "recipients") and doc.get("signatories") is None):
                    self.problem(f"missing document {name}", doc.line, "document",
                                 "give value and quote (an agreement or treaty gives "
                                 "`signatories:` instead of sender and recipients)")
                continue
            if not isinstance(spec, LineDict):
                self.problem(f"{name} needs `value:` and `quote:`", line, where)
                continue
            self.known_keys(spec, schema.fields("quotedField"), where)
            anchor = self.anchor(spec.get("quote"), spec.key_line("quote"), where,
                                 occurrence=spec.get("occurrence"), within=spec.get("in"))
            value: Any = spec.get("value")
            extra: dict[str, Any] = {}
            if name == "date":
                if value is None:
                    self.problem("date needs `value:` (YYYY-MM-DD)", line, where)
                value = self.date(value, spec.key_line("value"), where)
            elif name == "sender":
                found = self.keys(value, spec.key_line("value"), where, "sender", AGENT_TYPES,
                                  required=True)
                value = found[0] if found else None
            elif name in ("recipients", "signatories"):
                value = self.keys(value, spec.key_line("value"), where, name,
                                  AGENT_TYPES, required=True)
            elif name in ("archive",):
                found = self.keys(value, spec.key_line("value"), where, name,
                                  frozenset({"Organization"}), required=True)
                value = found[0] if found else None
            elif name == "collection":
                found = self.keys(value, spec.key_line("value"), where, name,
                                  frozenset({"Collection"}), required=True)
                value = found[0] if found else None
            elif name == "citation":
                value = anchor.quote if anchor else None
            elif name == "breaks_off":
                value = self.breaks_off(value, anchor, spec, where)
            elif value is None or not isinstance(value, str):
                self.problem(f"{name} needs a text `value:`", spec.line, where)
            reason = spec.get("inferred")
            if reason is not None:
                if not isinstance(reason, str) or not reason.strip():
                    self.problem(f"give the reason the {name} is inferred",
                                 spec.key_line("inferred"), where)
                else:
                    extra["inferred"] = self.reason(reason, spec.key_line("inferred"), where)
            if name == "form" and spec.get("carrier") is not None:
                found = self.keys(spec.get("carrier"), spec.key_line("carrier"), where,
                                  "carrier", AGENT_TYPES)
                extra["carrier"] = found[0] if found else None
            if anchor is not None and value is not None:
                fields[name] = DocumentField(name, value, anchor, extra)
        return fields

    def read_glosses(self, value: Any, line: int) -> list[Gloss]:
        if value is None:
            return []
        if not isinstance(value, LineDict):
            self.problem("`glosses:` needs pattern, author and items", line, "glosses")
            return []
        self.known_keys(value, schema.fields("glosses"), "glosses")
        author = self.keys(value.get("author"), value.key_line("author"), "glosses", "author",
                           AGENT_TYPES, required=True)
        items = value.get("items") or LineList()
        glosses: list[Gloss] = []
        seen: set[str] = set()
        for item in items:
            if not isinstance(item, LineDict):
                self.problem("each gloss needs id, quote, glosses and statement", items.line,
                             "glosses")
                continue
            gid = self.string(item, "id", "gloss", required=True) or "?"
            where = f"gloss {gid}"
            self.known_keys(item, schema.fields("gloss"), where)
            if gid in seen:
                self.problem(f"duplicate gloss id {gid!r}", item.line, where)
            seen.add(gid)
            anchor = self.anchor(item.get("quote"), item.key_line("quote"), where,
                                 occurrence=item.get("occurrence"), within=item.get("in"),
                                 whole_word=item.get("whole_word", True))
            target = self.keys(item.get("glosses"), item.key_line("glosses"), where, "glosses",
                               None)
            statement = self.string(item, "statement", where, required=True)
            if anchor and statement and author:
                glosses.append(Gloss(gid, anchor, target[0] if target else None, statement,
                                     author[0]))
                self.gloss_spans.append(anchor.span)
        pattern = value.get("pattern")
        transcript = next((layer for layer in self.layers if layer.kind == "transcript"), None)
        if pattern and transcript:
            try:
                regex = re.compile(str(pattern))
            except re.error as exc:
                self.problem(f"bad gloss pattern: {exc}", value.key_line("pattern"), "glosses")
                return glosses
            for match in regex.finditer(self.text, transcript.span.start, transcript.span.end):
                if Span(match.start(), match.end()) not in self.gloss_spans:
                    self.problem(f'editorial gloss "{match.group()}" at offset {match.start()} '
                                 "is not curated", value.key_line("items"), "glosses",
                                 "add it under glosses: items: with what it glosses")
        return glosses

    def read_mentions(self, value: Any, line: int) -> list[Mention]:
        mentions: list[Mention] = []
        if value is None:
            return mentions
        if not isinstance(value, LineList):
            self.problem("`mentions:` must be a list", line, "mentions")
            return mentions
        for item in value:
            if not isinstance(item, LineDict):
                self.problem("each mention needs quote and entity", value.line, "mentions")
                continue
            quote = item.get("quote")
            where = f"mention {quote!r}"
            self.known_keys(item, schema.fields("mention"), where)
            only_layer = item.get("layer")
            if only_layer is not None and str(only_layer) not in {x.name for x in self.layers}:
                self.problem(f"unknown layer {only_layer!r}", item.key_line("layer"), where,
                             "use a layer name from `layers:`")
                only_layer = None
            ent = self.keys(item.get("entity"), item.key_line("entity"), where, "entity", None,
                            required=True)
            if len(ent) > 1:
                self.problem("entity takes one key", item.key_line("entity"), where,
                             "write one mention per entity")
            inferred = item.get("inferred")
            if inferred is not None and not isinstance(inferred, str):
                self.problem("inferred must be the reason, as text", item.key_line("inferred"),
                             where)
                inferred = None
            if inferred is not None:
                inferred = self.reason(inferred, item.key_line("inferred"), where)
            if not isinstance(item.get("all", False), bool):
                self.problem("all must be true or false", item.key_line("all"), where)
            if item.get("all") is True:
                if not isinstance(quote, str) or not quote:
                    self.problem("missing quote", item.line, where)
                    continue
                starts = find_all(self.text, quote)
                if not starts:
                    try:
                        locate(self.text, quote)
                    except QuoteError as exc:
                        self.problem(exc.message, item.key_line("quote"), where, exc.hint)
                    continue
                anchors = []
                for start in starts:
                    span = Span(start, start + len(quote))
                    layer = self.layer_of(span)
                    if layer is not None and only_layer in (None, layer):
                        anchors.append(Anchor(quote, span, layer))
            else:
                found = self.anchor(quote, item.key_line("quote"), where,
                                    occurrence=item.get("occurrence"), within=item.get("in"))
                anchors = [found] if found else []
            for anchor in anchors:
                if ent:
                    mentions.append(Mention(ent[0], anchor, inferred))
        spans: dict[tuple[int, int], str] = {}
        for mention in mentions:
            key = (mention.anchor.span.start, mention.anchor.span.end)
            if key in spans and spans[key] != mention.entity:
                self.problem(f'the words "{mention.anchor.quote}" at {key[0]} are said to mean '
                             f"both {spans[key]} and {mention.entity}", value.line, "mentions",
                             "narrow one of the mentions with occurrence or in")
            spans[key] = mention.entity
        unique = {(m.anchor.span.start, m.anchor.span.end, m.entity): m for m in mentions}
        return sorted(unique.values(), key=lambda m: (m.anchor.span.start, m.anchor.span.end))

    def read_claims(self, value: Any, line: int, defaults: LineDict) -> list[Claim]:
        if not isinstance(value, LineList) or not value:
            self.problem("`claims:` must be a non-empty list", line, "claims")
            return []
        if not isinstance(defaults, LineDict):
            self.problem("`defaults:` must be a mapping", line, "defaults")
            defaults = LineDict()
        self.known_keys(defaults, schema.fields("defaults"), "defaults")
        default_inferred = defaults.get("inferred") or {}
        raw: list[LineDict] = []
        ids: dict[str, int] = {}
        for item in value:
            if not isinstance(item, LineDict):
                self.problem("each claim must be a mapping", value.line, "claims")
                continue
            cid = item.get("id")
            if not isinstance(cid, str) or not ID.match(cid):
                self.problem(f"claim id {cid!r} is missing or invalid", item.line, "claim",
                             "give each claim an id of letters, digits, - or _")
                continue
            if cid in ids:
                self.problem(f"duplicate claim id {cid!r} (first on line {ids[cid]})",
                             item.key_line("id"), f"claim {cid}")
                continue
            ids[cid] = item.line
            raw.append(item)
        self.claim_ids = set(ids)
        claims = []
        for item in raw:
            claim = self.read_claim(item, defaults, default_inferred, set(ids))
            if claim is not None:
                claims.append(claim)
        return claims

    def read_claim(self, item: LineDict, defaults: LineDict, default_inferred: Any,
                   claim_ids: set[str]) -> Claim | None:
        cid = str(item["id"])
        where = f"claim {cid}"
        self.known_keys(item, CLAIM_FIELDS, where)
        act = item.get("act")
        if isinstance(act, (list, dict)):  # a list or mapping cannot name an act type
            act = str(act)
        if act not in self.act_types:
            close = difflib.get_close_matches(str(act), list(self.act_types), n=1)
            self.problem(f"unknown act type {act!r}", item.key_line("act"), where,
                         f"did you mean {close[0]}?" if close
                         else "act types: " + ", ".join(sorted(self.act_types)))
        actors = self.keys(item.get("actor"), item.key_line("actor"), where, "actor",
                           PARTY_TYPES, required=True)
        counterparties = self.keys(item.get("counterparty"), item.key_line("counterparty"),
                                   where, "counterparty", PARTY_TYPES)
        issues = self.keys(item.get("issue"), item.key_line("issue"), where, "issue",
                           frozenset({"Issue"}), required=True)
        content = item.get("content")
        label, concerns = "", []
        if not isinstance(content, LineDict) or not isinstance(content.get("label"), str):
            self.problem("content needs a label (what is demanded, offered, conceded...)",
                         item.key_line("content"), where,
                         "write content: {label: ..., concerns: [keys]}")
        else:
            self.known_keys(content, schema.fields("content"), where)
            label = content["label"]
            concerns = self.keys(content.get("concerns"), content.key_line("concerns"), where,
                                 "concerns", None)
        anchors = self.anchors(item, where)
        kinds = {layer.name: layer.kind for layer in self.layers}
        for anchor in anchors:
            if kinds.get(anchor.layer) != "transcript":
                self.problem(f'quote "{anchor.quote}" is in the {anchor.layer} layer, '
                             "not the transcript", item.key_line("quote"), where,
                             "claims rest on the document's own words; the archive's words "
                             "go under `editorial:`")
            for gloss in self.gloss_spans:
                if anchor.span.overlaps(gloss):
                    self.problem(f'quote "{anchor.quote}" runs across the editorial gloss '
                                 f'"{self.text[gloss.start:gloss.end]}"', item.key_line("quote"),
                                 where, "split the quote into a list of two quotes around it")
        modality = item.get("modality")
        if modality not in MODALITIES:
            self.problem(f"unknown modality {modality!r}", item.key_line("modality"), where,
                         "modality: " + ", ".join(MODALITIES))
        date = self.date(item.get("date"), item.key_line("date"), where)
        meeting = self.keys(item.get("meeting"), item.key_line("meeting"), where, "meeting",
                            MEETING_TYPES)
        responds = self.claim_refs(item, "responds_to", claim_ids, where)
        assesses = self.claim_refs(item, "assesses", claim_ids, where)
        judgement = item.get("judgement")
        if judgement is not None and judgement not in JUDGEMENTS:
            self.problem(f"unknown judgement {judgement!r}", item.key_line("judgement"), where,
                         "judgement: " + ", ".join(JUDGEMENTS))
        measured = self.keys(item.get("measured_against"), item.key_line("measured_against"),
                             where, "measured_against", frozenset({"Instrument"}))
        subject_to = self.keys(item.get("subject_to"), item.key_line("subject_to"), where,
                               "subject_to", frozenset({"Issue"}))
        if set(subject_to) & set(issues):
            self.problem("subject_to names the claim's own issue",
                         item.key_line("subject_to"), where,
                         "subject_to lists the other issues whose settlement the act awaits")
        term_of = self.keys(item.get("term_of"), item.key_line("term_of"), where, "term_of",
                            frozenset({"Instrument"}))
        if act == "Assessment" and (judgement is None or not assesses or not measured):
            self.problem("an Assessment needs assesses, judgement and measured_against",
                         item.line, where)
        inferred: dict[str, str] = {}
        speaker_value = item.get("speaker", defaults.get("speaker"))
        heard_value = item.get("heard_by", defaults.get("heard_by"))
        if isinstance(default_inferred, dict):
            for key, reason in default_inferred.items():
                if key not in item and key in defaults:
                    inferred[key] = self.reason(str(reason), default_inferred.key_line(key)
                                                if isinstance(default_inferred, LineDict)
                                                else item.line, where)
        declared = item.get("inferred")
        if declared is not None:
            if not isinstance(declared, LineDict):
                self.problem("inferred must map fields to reasons", item.key_line("inferred"),
                             where)
            else:
                for key, reason in declared.items():
                    if key not in INFERABLE:
                        self.problem(f"cannot mark {key!r} as inferred",
                                     declared.key_line(key), where,
                                     "inferable: " + ", ".join(INFERABLE))
                    elif not isinstance(reason, str) or not reason.strip():
                        self.problem(f"give the reason the {key} is inferred",
                                     declared.key_line(key), where)
                    elif key not in item and key not in defaults:
                        self.problem(f"{key} is marked inferred but has no value",
                                     declared.key_line(key), where)
                    else:
                        inferred[key] = self.reason(reason, declared.key_line(key), where)
        speaker = self.keys(speaker_value, item.key_line("speaker"), where, "speaker",
                            AGENT_TYPES)
        heard = self.keys(heard_value, item.key_line("heard_by"), where, "heard_by",
                          AGENT_TYPES)
        for key, found in (("meeting", meeting), ("measured_against", measured),
                           ("heard_by", heard), ("term_of", term_of)):
            if len(found) > 1:
                self.problem(f"{key} takes one key, not {len(found)}", item.key_line(key),
                             where, "keep the one that applies; explain others in `note:`")
        if "speaker" in item and item.get("speaker") is None:
            self.problem("speaker: null leaves the claim without anyone asserting it",
                         item.key_line("speaker"), where,
                         "name who asserts it (a registry key, or a list), or drop the line "
                         "to take `defaults: speaker:`")
        texts = {}
        for key in ("time_expression", "time_qualifier", "condition", "manner", "note"):
            texts[key] = self.string(item, key, where)
        if not speaker and "speaker" in inferred:
            del inferred["speaker"]
        if not heard and "heard_by" in inferred:
            del inferred["heard_by"]
        if not anchors or act not in self.act_types or modality not in MODALITIES:
            return None
        return Claim(
            id=cid, line=item.line, act=str(act), actors=actors, counterparties=counterparties,
            issues=issues, content_label=label, content_concerns=concerns, anchors=anchors,
            modality=str(modality), date=date, time_expression=texts["time_expression"],
            time_qualifier=texts["time_qualifier"], condition=texts["condition"],
            manner=texts["manner"], meeting=meeting[0] if meeting else None,
            responds_to=responds, assesses=assesses,
            judgement=str(judgement) if judgement else None,
            measured_against=measured[0] if measured else None,
            speakers=speaker, heard_by=heard[0] if heard else None,
            inferred=inferred, note=texts["note"], subject_to=subject_to,
            term_of=term_of[0] if term_of else None)

    def claim_refs(self, item: LineDict, key: str, claim_ids: set[str], where: str) -> list[str]:
        value = item.get(key)
        if value is None:
            return []
        values = [value] if isinstance(value, str) else value
        result = []
        for ref in values if isinstance(values, list) else []:
            if isinstance(ref, str) and "/" in ref:
                # A claim of another document: checked once every file is read.
                doc_id, _, cid = ref.rpartition("/")
                if not ID.match(cid) or not doc_id:
                    self.problem(f"{key}: {ref!r} is not DOCUMENT-ID/CLAIM-ID",
                                 item.key_line(key), where)
                else:
                    self.external_refs.append(ExternalRef(self.name, item.key_line(key),
                                                          where, doc_id, cid))
                    result.append(ref)
            elif not isinstance(ref, str) or ref not in claim_ids:
                close = difflib.get_close_matches(str(ref), list(claim_ids), n=1)
                self.problem(f"{key} names unknown claim {ref!r}", item.key_line(key), where,
                             f"did you mean {close[0]}?" if close
                             else "use a claim id of this file")
            else:
                result.append(ref)
        return result

    def read_editorial(self, value: Any, line: int, claim_ids: set[str]) -> list[Editorial]:
        if value is None:
            return []
        if not isinstance(value, LineList):
            self.problem("`editorial:` must be a list", line, "editorial")
            return []
        result = []
        seen: set[str] = set()
        for item in value:
            if not isinstance(item, LineDict):
                self.problem("each editorial statement needs id, quote and statement",
                             value.line, "editorial")
                continue
            eid = self.string(item, "id", "editorial", required=True) or "?"
            where = f"editorial {eid}"
            if eid in seen or eid in claim_ids:
                self.problem(f"duplicate id {eid!r}", item.key_line("id"), where)
            seen.add(eid)
            self.known_keys(item, schema.fields("editorial"), where)
            anchor = self.anchor(item.get("quote"), item.key_line("quote"), where,
                                 occurrence=item.get("occurrence"), within=item.get("in"))
            if anchor and {layer.name: layer.kind for layer in self.layers}.get(
                    anchor.layer) == "transcript":
                self.problem("an editorial statement must quote the archive's words "
                             "(catalogue or summary), not the transcript",
                             item.key_line("quote"), where)
                anchor = None
            statement = self.string(item, "statement", where, required=True)
            concerns = self.keys(item.get("concerns"), item.key_line("concerns"), where,
                                 "concerns", None)
            corresponds = self.claim_refs(item, "corresponds_to", claim_ids, where)
            if anchor and statement:
                result.append(Editorial(eid, anchor, statement, concerns, corresponds,
                                        self.string(item, "note", where)))
        return result


def load_curation(path: Path, registry: Registry, act_types: dict[str, Any],
                  display: str | None = None) -> Curation:
    """Read, check and resolve one curation file (raises :class:`InputError`)."""
    return _Reader(path, display or str(path), registry, act_types).read()
