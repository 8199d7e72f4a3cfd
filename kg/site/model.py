"""What the site shows, read from the built graph with SPARQL.

The whole graph (asserted + inferred + ontology, as :func:`kg.cli.embedded_engine`
loads it) is read once into an index of subjects and their properties (one
``SELECT`` over the union of the graphs), from which documents, claims, entities,
issues and link decisions are assembled. The stored queries answer the questions
they were written for (positions over time, the Yalta comparison, open issues, who
conceded what); :mod:`kg.site.render` runs them with bound parameters.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from kg.namespace import BASE, DIP, OA
from kg.sparql import Engine, Term
from kg.text import sentences

ALL_TRIPLES = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
ENTITY_BASE = BASE + "id/entity/"
DOC_BASE = BASE + "id/doc/"

# The act classes in the order the legend lists them, with a short visible tag
# (so a highlight's act is told by its tag and pattern, not by colour alone).
ACT_TAGS: dict[str, str] = {
    "Demand": "DEM", "Offer": "OFF", "Concession": "CON", "Accord": "AGR",
    "Rejection": "REJ", "Assurance": "ASU", "Suggestion": "SUG", "Plan": "PLN",
    "Consultation": "CNS", "Report": "REP", "Assessment": "ASM",
}


class Index:
    """Subject -> property -> sorted objects, for the whole graph."""

    def __init__(self, engine: Engine) -> None:
        data: dict[Term, dict[Term, set[Term]]] = defaultdict(lambda: defaultdict(set))
        for row in engine.select(ALL_TRIPLES).rows:
            s, p, o = row["s"], row["p"], row["o"]
            if s is None or p is None or o is None:
                continue
            data[s][p].add(o)
        self.data = {s: {p: sorted(os, key=_sort_key) for p, os in ps.items()}
                     for s, ps in data.items()}
        inverse: dict[tuple[Term, Term], set[Term]] = defaultdict(set)
        for s, ps in self.data.items():
            for p, os in ps.items():
                for o in os:
                    if isinstance(o, URIRef):
                        inverse[(p, o)].add(s)
        self.inverse = {k: sorted(v, key=_sort_key) for k, v in inverse.items()}

    def all(self, s: Term, p: Term) -> list[Term]:
        return self.data.get(s, {}).get(p, [])

    def one(self, s: Term, p: Term) -> Term | None:
        values = self.all(s, p)
        return values[0] if values else None

    def text(self, s: Term, p: Term) -> str:
        value = self.one(s, p)
        return str(value) if value is not None else ""

    def subjects(self, p: Term, o: Term) -> list[Term]:
        return self.inverse.get((p, o), [])

    def label(self, s: Term | None) -> str:
        if s is None:
            return ""
        for p in (RDFS.label, SKOS.prefLabel, DCTERMS.title):
            values = self.all(s, p)
            english = [v for v in values if isinstance(v, Literal) and v.language == "en"]
            if english or values:
                return str((english or values)[0])
        text = str(s)
        return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    def is_a(self, s: Term, cls: Term) -> bool:
        return cls in self.all(s, RDF.type)


def _sort_key(term: Term) -> tuple[str, str]:
    return (type(term).__name__, str(term))


def page_path(iri: Term) -> str | None:
    """The site path of an IRI under the project's base (``id/entity/stalin.html``)."""
    text = str(iri)
    if not text.startswith(BASE + "id/"):
        return None
    return text[len(BASE):] + ".html"


@dataclass
class Anchor:
    start: int
    end: int
    layer: Term | None


@dataclass
class Inference:
    prop: str
    reason: str


@dataclass
class Claim:
    iri: URIRef
    id: str
    doc: URIRef
    act: str
    act_iri: URIRef | None
    cameo: str
    cameo_label: str
    plover: str
    anchors: list[Anchor]
    quote: str
    fields: dict[str, list[Term]]
    inferences: list[Inference]

    @property
    def start(self) -> int:
        return min((a.start for a in self.anchors), default=0)

    @property
    def tag(self) -> str:
        return ACT_TAGS.get(self.act, self.act[:3].upper())

    @property
    def css(self) -> str:
        return "act-" + self.act.lower()


@dataclass
class Section:
    """A stretch of the text written by one hand (a layer), or outside every layer."""

    start: int
    end: int
    label: str
    author: Term | None
    kind: str


@dataclass
class Sentence:
    start: int
    end: int
    status: str  # covered | no-act | uncovered
    reason: str = ""


@dataclass
class Document:
    iri: URIRef
    id: str
    title: str
    date: str
    text: str
    sections: list[Section]
    claims: list[Claim]
    glosses: list[dict[str, object]]
    editorial: list[dict[str, object]]
    mentions: list[tuple[int, int, URIRef]]
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def covered(self) -> int:
        return sum(1 for s in self.sentences if s.status == "covered")

    @property
    def no_act(self) -> int:
        return sum(1 for s in self.sentences if s.status == "no-act")


CLAIM_FIELDS = ("actor", "counterparty", "issue", "content", "date", "timeExpression",
                "timeQualifier", "modality", "speaker", "heardBy", "reportedBy", "reportedTo",
                "respondsTo", "meeting", "negotiation", "condition", "manner", "assesses",
                "measuredAgainst", "judgement", "place", "party")


class Model:
    """Documents, claims, entities and decisions of the built graph."""

    def __init__(self, engine: Engine, no_act: dict[str, list[tuple[int, int, str]]]) -> None:
        self.index = idx = Index(engine)
        self.acts = self._act_classes()
        self.documents = sorted(
            (self._document(d, no_act.get(str(idx.one(d, DCTERMS.identifier)), []))
             for d in idx.subjects(RDF.type, DIP.Document) if isinstance(d, URIRef)),
            key=lambda d: (d.date, d.id))
        self.claims = {c.iri: c for d in self.documents for c in d.claims}
        self.by_quote = {(c.doc, c.quote): c for c in self.claims.values()}
        self.doc_by_id = {d.id: d for d in self.documents}
        self.entities = sorted((s for s in idx.data if isinstance(s, URIRef)
                                and str(s).startswith(ENTITY_BASE)
                                and idx.one(s, RDFS.label) is not None), key=str)
        self.issues = [e for e in self.entities if idx.is_a(e, DIP.Issue)]
        self.parties = sorted({a for c in self.claims.values()
                               for a in c.fields.get("actor", []) if isinstance(a, URIRef)},
                              key=lambda p: idx.label(p))

    def _act_classes(self) -> dict[URIRef, dict[str, str]]:
        idx = self.index
        return {c: {"name": str(c).rsplit("#", 1)[-1], "label": idx.label(c),
                    "cameo": idx.text(c, DIP.cameoCode), "cameoLabel": idx.text(c, DIP.cameoLabel),
                    "plover": idx.text(c, DIP.ploverCategory)}
                for c in idx.subjects(RDF.type, URIRef("http://www.w3.org/2002/07/owl#Class"))
                if isinstance(c, URIRef) and idx.one(c, DIP.cameoCode) is not None}

    def act_of(self, claim: Term) -> URIRef | None:
        types = [t for t in self.index.all(claim, RDF.type) if t in self.acts]
        # the most specific: not a superclass of another of its act types
        specific = [t for t in types if not any(
            t in self.index.all(o, RDFS.subClassOf) for o in types if o != t)]
        chosen = specific or types
        return chosen[0] if chosen else None  # type: ignore[return-value]

    def anchor(self, anchor: Term) -> Anchor | None:
        idx = self.index
        for selector in idx.all(anchor, OA.hasSelector):
            start, end = idx.one(selector, OA.start), idx.one(selector, OA.end)
            if start is not None and end is not None:
                return Anchor(int(start), int(end), idx.one(anchor, DIP.inLayer))
        return None

    def _document(self, doc: URIRef, no_act: list[tuple[int, int, str]]) -> Document:
        idx = self.index
        doc_id = idx.text(doc, DCTERMS.identifier)
        text_node = idx.one(doc, DIP.hasText)
        text = idx.text(text_node, RDF.value) if text_node is not None else ""
        sections = self._sections(doc, len(text))
        stated = idx.subjects(DIP.statedIn, doc)
        claims: list[Claim] = []
        glosses: list[dict[str, object]] = []
        editorial: list[dict[str, object]] = []
        mentions: list[tuple[int, int, URIRef]] = []
        for s in stated:
            if not isinstance(s, URIRef):
                continue
            anchors = [a for e in idx.all(s, DIP.evidence) if (a := self.anchor(e))]
            act = self.act_of(s)
            if act is not None and anchors:
                info = self.acts[act]
                claims.append(Claim(
                    s, idx.text(s, DCTERMS.identifier), doc, info["name"], act, info["cameo"],
                    info["cameoLabel"], info["plover"], sorted(anchors, key=lambda a: a.start),
                    idx.text(s, DIP.quote),
                    {f: idx.all(s, DIP[f]) for f in CLAIM_FIELDS if idx.all(s, DIP[f])},
                    sorted((Inference(self.index.label(idx.one(i, DIP.onProperty)),
                                      idx.text(i, DIP.reason))
                            for i in idx.all(s, DIP.hasInference)),
                           key=lambda i: i.prop)))
            elif idx.is_a(s, DIP.Gloss) and anchors:
                glosses.append({"iri": s, "anchor": anchors[0], "quote": idx.text(s, DIP.quote),
                                "statement": idx.text(s, DIP.statement),
                                "speaker": idx.one(s, DIP.speaker),
                                "glosses": idx.all(s, DIP.glosses)})
            elif idx.is_a(s, DIP.EditorialStatement) and anchors:
                editorial.append({"iri": s, "anchor": anchors[0], "quote": idx.text(s, DIP.quote),
                                  "statement": idx.text(s, DIP.statement),
                                  "speaker": idx.one(s, DIP.speaker)})
            elif idx.is_a(s, DIP.Mention):
                body = idx.one(s, OA.hasBody)
                target = idx.one(s, OA.hasTarget)
                a = self.anchor(target) if target is not None else None
                if a and isinstance(body, URIRef):
                    mentions.append((a.start, a.end, body))
        claims.sort(key=lambda c: (c.start, c.id))
        document = Document(doc, doc_id, idx.text(doc, DCTERMS.title) or idx.label(doc),
                            idx.text(doc, DIP.date), text, sections, claims,
                            sorted(glosses, key=lambda g: g["anchor"].start),  # type: ignore
                            sorted(editorial, key=lambda g: g["anchor"].start),  # type: ignore
                            sorted(mentions, key=lambda m: (m[0], m[1], str(m[2]))))
        document.sentences = self._sentences(doc, document, no_act)
        return document

    def _sections(self, doc: URIRef, length: int) -> list[Section]:
        idx = self.index
        layers: list[Section] = []
        for layer in idx.all(doc, DIP.layer):
            a = self.anchor(layer)
            if a is None:
                continue
            kinds = [str(t).rsplit("#", 1)[-1] for t in idx.all(layer, RDF.type)
                     if str(t).startswith(str(DIP)) and t != DIP.TextLayer]
            layers.append(Section(a.start, a.end, idx.label(layer),
                                  idx.one(layer, PROV.wasAttributedTo),
                                  sorted(kinds)[0] if kinds else "TextLayer"))
        layers.sort(key=lambda s: (s.start, -s.end))
        result: list[Section] = []
        position = 0
        for section in layers:
            if section.start < position:  # nested layers are shown within their parent
                continue
            if section.start > position:
                result.append(Section(position, section.start, "capture notes (outside the "
                                      "document's curated layers)", None, "Capture"))
            result.append(section)
            position = section.end
        if position < length:
            result.append(Section(position, length, "capture notes (outside the document's "
                                  "curated layers)", None, "Capture"))
        return [s for s in result if s.end > s.start]

    def _sentences(self, doc: URIRef, document: Document,
                   no_act: list[tuple[int, int, str]]) -> list[Sentence]:
        idx = self.index
        transcript = [s for s in document.sections if s.kind == "Transcript"]
        if not transcript:
            return []
        spans = [(a.start, a.end) for c in document.claims for a in c.anchors]
        for meta in idx.all(doc, DIP.metadataAnchor):
            if (a := self.anchor(meta)) is not None:
                spans.append((a.start, a.end))
        glosses = [(g["anchor"].start, g["anchor"].end)  # type: ignore[attr-defined]
                   for g in document.glosses]
        result = []
        for start, end in sentences(document.text, transcript[0].start, transcript[0].end):
            if any(s < end and start < e for s, e in spans) or any(
                    s <= start and end <= e for s, e in glosses):
                result.append(Sentence(start, end, "covered"))
                continue
            reasons = [r for s, e, r in no_act if s < end and start < e]
            result.append(Sentence(start, end, "no-act" if reasons else "uncovered",
                                   reasons[0] if reasons else ""))
        return result
