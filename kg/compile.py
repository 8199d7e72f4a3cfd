"""Compile curation into RDF: one named graph per document, one for the registry.

Every node gets an IRI (no blank nodes), so the output is deterministic and any
store can address each claim, anchor and mention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from kg.curation import Anchor, Claim, Curation, load_curation
from kg.errors import InputError, Problem, ProblemList
from kg.namespace import (
    DIP,
    ENTITIES_GRAPH,
    OA,
    SCHEMA,
    document,
    document_graph,
    entity,
    in_document,
)
from kg.registry import Registry, load_registry, registry_graph

CONTEXT_CHARS = 32
# Joins the quotes of a statement that rests on several passages (dip:quote).
QUOTE_JOINER = " \u2026 "

MODALITY = {"done": DIP.Done, "planned": DIP.Planned, "conditional": DIP.Conditional,
            "opinion": DIP.Opinion}
JUDGEMENT = {"exceeds": DIP.ExceedsAgreement, "meets": DIP.MeetsAgreement}
LAYER_CLASS = {"catalogue": DIP.CatalogueRecord, "summary": DIP.ArchiveSummary,
               "transcript": DIP.Transcript, "notes": DIP.EditorialNotes,
               "glosses": DIP.GlossLayer}
FIELD_PROPERTY = {
    "act": RDF.type, "actor": DIP.actor, "counterparty": DIP.counterparty, "issue": DIP.issue,
    "content": DIP.content, "modality": DIP.modality, "date": DIP.date,
    "condition": DIP.condition, "meeting": DIP.meeting, "responds_to": DIP.respondsTo,
    "speaker": DIP.speaker, "heard_by": DIP.heardBy, "subject_to": DIP.subjectTo,
    "term_of": DIP.termOf,
}
DOCUMENT_PROPERTY = {
    "title": DCTERMS.title, "date": DIP.date, "sender": DIP.sender,
    "recipients": DIP.recipient, "signatories": DIP.signatory, "classification": DIP.classification,
    "form": DIP.documentForm, "archive": DIP.archive, "collection": DIP.collection,
    "citation": DIP.citation, "url": SCHEMA.url, "breaks_off": DIP.breaksOff,
}


def act_types(ontology: Graph) -> dict[str, URIRef]:
    """Act classes declared in the ontology (direct subclasses of dip:Claim), by local name."""
    result = {}
    for cls in ontology.subjects(RDFS.subClassOf, DIP.Claim):
        if isinstance(cls, URIRef) and str(cls).startswith(str(DIP)):
            result[str(cls)[len(str(DIP)):]] = cls
    return result


@dataclass
class Coverage:
    """Which transcript sentences rest under at least one claim or document anchor.

    Sentences the curator marked as reporting no act (``no_claim:``) are counted
    apart, with their reasons; ``uncovered`` are the rest.
    """

    doc_id: str
    total: int
    uncovered: list[tuple[int, int, str]]
    no_act: list[tuple[int, int, str]] = field(default_factory=list)

    @property
    def covered(self) -> int:
        return self.total - len(self.uncovered) - len(self.no_act)


@dataclass
class Corpus:
    registry: Registry
    curations: list[Curation]


def curation_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "curation").glob("*.yaml"))


def load_corpus(data_dir: Path, ontology: Graph) -> Corpus:
    """Read the registry and every curation file under ``data_dir``."""
    registry = load_registry(data_dir / "entities.yaml", _display(data_dir / "entities.yaml"))
    types = act_types(ontology)
    files = curation_files(data_dir)
    if not files:
        raise InputError(f"no curation files in {data_dir / 'curation'}",
                         hint="add data/curation/<document-id>.yaml (README: Adding a document)")
    curations = [load_curation(path, registry, types, _display(path)) for path in files]
    check_cross_references(curations)
    return Corpus(registry, curations)


def check_cross_references(curations: list[Curation]) -> None:
    """Every DOC-ID/CLAIM-ID reference names a claim of a curated document."""
    claims = {cur.doc_id: {c.id for c in cur.claims} for cur in curations}
    problems = ProblemList()
    for cur in curations:
        for ref in cur.external_refs:
            if ref.doc_id not in claims:
                problems.add(f"no curated document {ref.doc_id!r}", ref.file, ref.line,
                             ref.item, "use the id of a file in data/curation/")
            elif ref.claim_id not in claims[ref.doc_id]:
                problems.add(f"document {ref.doc_id} has no claim {ref.claim_id!r}", ref.file,
                             ref.line, ref.item, "check the claim id in that document's file")
    problems.raise_if_any("invalid reference between documents")


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def coverage(cur: Curation) -> Coverage:
    spans = [a.span for c in cur.claims for a in c.anchors]
    spans += [f.anchor.span for f in cur.fields.values()]
    glosses = [g.anchor.span for g in cur.glosses]
    uncovered, no_act = [], []
    sents = cur.transcript_sentences()
    for start, end in sents:
        if any(s.start < end and start < s.end for s in spans):
            continue
        if any(g.start <= start and end <= g.end for g in glosses):
            continue  # the sentence is an editorial gloss, such as a bracketed signature
        reasons = [n.reason for n in cur.no_claim
                   if n.anchor.span.start < end and start < n.anchor.span.end]
        if reasons:
            no_act.append((start, end, reasons[0]))
        else:
            uncovered.append((start, end, cur.text[start:end]))
    return Coverage(cur.doc_id, len(sents), uncovered, no_act)


class _DocumentCompiler:
    def __init__(self, cur: Curation, registry: Registry, types: dict[str, URIRef]) -> None:
        self.cur = cur
        self.registry = registry
        self.types = types
        self.graph = Graph()
        self.doc = document(cur.doc_id)
        self.text = in_document(cur.doc_id, "text")

    def node(self, *parts: str) -> URIRef:
        return in_document(self.cur.doc_id, *parts)

    def add(self, s: URIRef, p: URIRef, o: URIRef | Literal) -> None:
        self.graph.add((s, p, o))

    def anchor(self, node: URIRef, anchor: Anchor) -> URIRef:
        text = self.cur.text
        start, end = anchor.span.start, anchor.span.end
        quote_sel, pos_sel = URIRef(f"{node}/quote"), URIRef(f"{node}/position")
        self.add(node, RDF.type, OA.SpecificResource)
        self.add(node, OA.hasSource, self.text)
        self.add(node, DIP.inLayer, self.node("layer", anchor.layer))
        self.add(node, OA.hasSelector, quote_sel)
        self.add(node, OA.hasSelector, pos_sel)
        self.add(quote_sel, RDF.type, OA.TextQuoteSelector)
        self.add(quote_sel, OA.exact, Literal(text[start:end]))
        self.add(quote_sel, OA.prefix, Literal(text[max(0, start - CONTEXT_CHARS):start]))
        self.add(quote_sel, OA.suffix, Literal(text[end:end + CONTEXT_CHARS]))
        self.add(pos_sel, RDF.type, OA.TextPositionSelector)
        self.add(pos_sel, OA.start, Literal(start, datatype=XSD.nonNegativeInteger))
        self.add(pos_sel, OA.end, Literal(end, datatype=XSD.nonNegativeInteger))
        return node

    def inference(self, subject: URIRef, field: str, prop: URIRef, reason: str) -> None:
        node = URIRef(f"{subject}/inference/{field}")
        self.add(subject, DIP.hasInference, node)
        self.add(node, RDF.type, DIP.CuratorInference)
        self.add(node, DIP.onProperty, prop)
        self.add(node, DIP.reason, Literal(reason, lang="en"))

    def claim_iri(self, ref: str) -> URIRef:
        """A claim of this document (``c09``) or of another (``DOC-ID/c09``)."""
        if "/" in ref:
            doc_id, _, cid = ref.rpartition("/")
            return in_document(doc_id, "claim", cid)
        return self.node("claim", ref)

    def label(self, key: str) -> str:
        ent = self.registry.get(key)
        return ent.label if ent else key

    def compile(self) -> Graph:
        self.document()
        for mention in self.cur.mentions:
            span = mention.anchor.span
            node = self.node("mention", f"{span.start}-{span.end}-{mention.entity}")
            self.add(node, RDF.type, DIP.Mention)
            self.add(node, OA.motivatedBy, OA.identifying)
            self.add(node, OA.hasBody, entity(mention.entity))
            self.add(node, OA.hasTarget, self.anchor(URIRef(f"{node}/target"), mention.anchor))
            self.add(node, DIP.statedIn, self.doc)
            if mention.inferred:
                self.inference(node, "body", OA.hasBody, mention.inferred)
        for claim in self.cur.claims:
            self.claim(claim)
        for gloss in self.cur.glosses:
            node = self.node("gloss", gloss.id)
            self.add(node, RDF.type, DIP.Gloss)
            self.add(node, DCTERMS.identifier, Literal(gloss.id))
            self.add(node, DIP.statement, Literal(gloss.statement, lang="en"))
            if gloss.glosses:
                self.add(node, DIP.glosses, entity(gloss.glosses))
            self.add(node, DIP.speaker, entity(gloss.author))
            self.add(node, DIP.statedIn, self.doc)
            self.add(node, RDFS.label, Literal(f"editorial gloss {gloss.anchor.quote}", lang="en"))
            glossed = Anchor(gloss.anchor.quote, gloss.anchor.span, "glosses")
            self.add(node, DIP.evidence, self.anchor(URIRef(f"{node}/anchor"), glossed))
            self.add(node, DIP.quote, Literal(gloss.anchor.quote))
        for item in self.cur.editorial:
            node = self.node("editorial", item.id)
            self.add(node, RDF.type, DIP.EditorialStatement)
            self.add(node, DCTERMS.identifier, Literal(item.id))
            self.add(node, DIP.statement, Literal(item.statement, lang="en"))
            self.add(node, RDFS.label, Literal(item.statement, lang="en"))
            archive = self.cur.layers_by_name()[item.anchor.layer].author
            self.add(node, DIP.speaker, entity(archive))
            self.add(node, DIP.statedIn, self.doc)
            self.add(node, DIP.evidence, self.anchor(URIRef(f"{node}/anchor"), item.anchor))
            self.add(node, DIP.quote, Literal(item.anchor.quote))
            for key in item.concerns:
                self.add(node, DIP.concerns, entity(key))
            for cid in item.corresponds_to:
                self.add(node, DIP.correspondsTo, self.claim_iri(cid))
            if item.note:
                self.add(node, SKOS.note, Literal(item.note, lang="en"))
        return self.graph

    def document(self) -> None:
        cur, doc = self.cur, self.doc
        self.add(doc, RDF.type, DIP.Document)
        self.add(doc, DCTERMS.identifier, Literal(cur.doc_id))
        self.add(doc, DCTERMS.language, Literal(cur.language))
        self.add(doc, DIP.hasText, self.text)
        self.add(doc, RDFS.label, Literal(str(cur.fields["title"].value), lang="en"))
        if cur.negotiation:
            self.add(doc, DIP.negotiation, entity(cur.negotiation))
        self.add(self.text, RDF.type, DIP.SourceText)
        self.add(self.text, RDF.value, Literal(cur.text))
        self.add(self.text, DIP.sha256, Literal(cur.sha256.lower()))
        self.add(self.text, DCTERMS.format, Literal("text/plain; charset=utf-8"))
        self.add(self.text, DCTERMS.source, Literal(f"data/text/{cur.text_path.name}"))
        for name, described in sorted(cur.fields.items()):
            prop = DOCUMENT_PROPERTY[name]
            values = described.value if isinstance(described.value, list) else [described.value]
            for value in values:
                if name in ("sender", "recipients", "signatories", "archive", "collection"):
                    self.add(doc, prop, entity(value))
                elif name == "date":
                    self.add(doc, prop, Literal(value, datatype=XSD.date))
                elif name == "url":
                    self.add(doc, prop, URIRef(str(value)))
                else:
                    self.add(doc, prop, Literal(str(value)))
            if described.extra.get("carrier"):
                self.add(doc, DIP.carrier, entity(described.extra["carrier"]))
            if described.extra.get("inferred"):
                self.inference(doc, name, prop, str(described.extra["inferred"]))
            node = self.anchor(self.node("meta", name), described.anchor)
            if name == "breaks_off":
                # A partial text: where the stored copy ends (the end of its last words).
                self.add(doc, DIP.textComplete, Literal(False))
                self.add(doc, DIP.breakOffset, Literal(described.anchor.span.end,
                                                       datatype=XSD.nonNegativeInteger))
            self.add(doc, DIP.metadataAnchor, node)
            self.add(node, DIP.supportsProperty, prop)
        for layer in cur.layers:
            node = self.node("layer", layer.name)
            position = URIRef(f"{node}/position")
            self.add(doc, DIP.layer, node)
            self.add(node, RDF.type, LAYER_CLASS[layer.kind])
            self.add(node, RDFS.label, Literal(layer.label, lang="en"))
            self.add(node, OA.hasSource, self.text)
            for author in layer.authors:
                self.add(node, PROV.wasAttributedTo, entity(author))
            self.add(node, OA.hasSelector, position)
            self.add(position, RDF.type, OA.TextPositionSelector)
            self.add(position, OA.start, Literal(layer.span.start, datatype=XSD.nonNegativeInteger))
            self.add(position, OA.end, Literal(layer.span.end, datatype=XSD.nonNegativeInteger))
        if cur.glosses:
            node = self.node("layer", "glosses")
            self.add(doc, DIP.layer, node)
            self.add(node, RDF.type, DIP.GlossLayer)
            self.add(node, RDFS.label, Literal("bracketed editorial glosses", lang="en"))
            self.add(node, OA.hasSource, self.text)
            self.add(node, PROV.wasAttributedTo, entity(cur.glosses[0].author))

    def claim(self, claim: Claim) -> None:
        node = self.node("claim", claim.id)
        cur = self.cur
        self.add(node, RDF.type, self.types[claim.act])
        self.add(node, DCTERMS.identifier, Literal(claim.id))
        actors = " and ".join(self.label(a) for a in claim.actors)
        act_label = claim.act.lower() if claim.act != "Accord" else "agreement"
        self.add(node, RDFS.label, Literal(f"{actors}: {act_label}: {claim.content_label}",
                                           lang="en"))
        for key in claim.actors:
            self.add(node, DIP.actor, entity(key))
        for key in claim.counterparties:
            self.add(node, DIP.counterparty, entity(key))
        for key in claim.issues:
            self.add(node, DIP.issue, entity(key))
        content = URIRef(f"{node}/content")
        self.add(node, DIP.content, content)
        self.add(content, RDF.type, DIP.Proposition)
        self.add(content, RDFS.label, Literal(claim.content_label, lang="en"))
        for key in claim.content_concerns:
            self.add(content, DIP.concerns, entity(key))
        self.add(node, DIP.modality, MODALITY[claim.modality])
        if claim.date:
            self.add(node, DIP.date, Literal(claim.date, datatype=XSD.date))
        for prop, text in ((DIP.timeExpression, claim.time_expression),
                           (DIP.timeQualifier, claim.time_qualifier),
                           (DIP.condition, claim.condition), (DIP.manner, claim.manner)):
            if text:
                self.add(node, prop, Literal(text, lang="en"))
        if claim.note:
            self.add(node, SKOS.note, Literal(claim.note, lang="en"))
        if claim.meeting:
            self.add(node, DIP.meeting, entity(claim.meeting))
        if cur.negotiation:
            self.add(node, DIP.negotiation, entity(cur.negotiation))
        for ref in claim.responds_to:
            self.add(node, DIP.respondsTo, self.claim_iri(ref))
        for ref in claim.assesses:
            self.add(node, DIP.assesses, self.claim_iri(ref))
        if claim.judgement:
            self.add(node, DIP.judgement, JUDGEMENT[claim.judgement])
        if claim.measured_against:
            self.add(node, DIP.measuredAgainst, entity(claim.measured_against))
        for key in claim.subject_to:
            self.add(node, DIP.subjectTo, entity(key))
        if claim.term_of:
            self.add(node, DIP.termOf, entity(claim.term_of))
        for key in claim.speakers:
            self.add(node, DIP.speaker, entity(key))
        if claim.heard_by:
            self.add(node, DIP.heardBy, entity(claim.heard_by))
        for key in cur.reporters:
            self.add(node, DIP.reportedBy, entity(key))
        for key in cur.recipients:
            self.add(node, DIP.reportedTo, entity(key))
        self.add(node, DIP.statedIn, self.doc)
        for number, anchor in enumerate(claim.anchors, 1):
            self.add(node, DIP.evidence, self.anchor(URIRef(f"{node}/anchor/{number}"), anchor))
        self.add(node, DIP.quote, Literal(QUOTE_JOINER.join(a.quote for a in claim.anchors)))
        for name, reason in sorted(claim.inferred.items()):
            self.inference(node, name, FIELD_PROPERTY[name], reason)


def compile_document(cur: Curation, registry: Registry, types: dict[str, URIRef]) -> Graph:
    return _DocumentCompiler(cur, registry, types).compile()


def compile_corpus(corpus: Corpus, ontology: Graph) -> Dataset:
    """The asserted dataset: the registry graph and one graph per document."""
    types = act_types(ontology)
    seen: dict[str, str] = {}
    for cur in corpus.curations:
        if cur.doc_id in seen:
            raise InputError("two curation files describe the same document",
                             problems=[Problem(f"document id {cur.doc_id!r} also in "
                                               f"{seen[cur.doc_id]}", cur.path, None,
                                               "document")])
        seen[cur.doc_id] = cur.path
    dataset = Dataset()
    _copy(registry_graph(corpus.registry), dataset.graph(ENTITIES_GRAPH))
    for cur in corpus.curations:
        _copy(compile_document(cur, corpus.registry, types),
              dataset.graph(document_graph(cur.doc_id)))
    return dataset


def _copy(source: Graph, target: Graph) -> None:
    for triple in sorted(source):
        target.add(triple)
