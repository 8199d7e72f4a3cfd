"""The project's namespaces: one place for every IRI base.

``DIP`` is closed (``_fail = True``): a misspelt term raises at once. A test keeps
its terms equal to those declared in ``ontology/dip.ttl``.

>>> str(DIP.Concession)
'https://w3id.org/dipkg/ontology#Concession'
>>> entity("stalin")
rdflib.term.URIRef('https://w3id.org/dipkg/id/entity/stalin')
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

BASE = "https://w3id.org/dipkg/"
ONTOLOGY_IRI = URIRef(BASE + "ontology")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
OA = Namespace("http://www.w3.org/ns/oa#")
SCHEMA = Namespace("https://schema.org/")
# Wikidata items and their direct ("truthy") properties, as in Wikidata's own RDF.
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")


class DIP(DefinedNamespace):
    """Terms of the diplomatic negotiation ontology (ontology/dip.ttl)."""

    _NS = Namespace(BASE + "ontology#")
    _fail = True

    # Conditions, settlement, partial texts and time-aware standings (issue 12).
    Advice: URIRef
    subjectTo: URIRef
    termOf: URIRef
    breaksOff: URIRef
    textComplete: URIRef
    breakOffset: URIRef
    effectiveDate: URIRef
    dateBasis: URIRef
    DateBasis: URIRef
    OwnDate: URIRef
    DocumentDate: URIRef
    NotYetRaised: URIRef
    Open: URIRef
    Settled: URIRef
    DatedStanding: URIRef
    standingOf: URIRef
    standingIn: URIRef
    asOf: URIRef
    standingStatus: URIRef
    restsOn: URIRef
    validUntil: URIRef
    supersededOn: URIRef
    Accord: URIRef
    Agreed: URIRef
    ArchiveSummary: URIRef
    Assessment: URIRef
    Assurance: URIRef
    CatalogueRecord: URIRef
    Claim: URIRef
    Collection: URIRef
    Concession: URIRef
    Conditional: URIRef
    Conference: URIRef
    Consultation: URIRef
    CuratorInference: URIRef
    Demand: URIRef
    Disputed: URIRef
    Document: URIRef
    Done: URIRef
    EditorialNotes: URIRef
    EditorialStatement: URIRef
    ExceedsAgreement: URIRef
    Gloss: URIRef
    GlossLayer: URIRef
    Government: URIRef
    HistoricalEvent: URIRef
    Instrument: URIRef
    Issue: URIRef
    IssueStatus: URIRef
    Judgement: URIRef
    Meeting: URIRef
    MeetsAgreement: URIRef
    Mention: URIRef
    Modality: URIRef
    Negotiation: URIRef
    Offer: URIRef
    Office: URIRef
    Opinion: URIRef
    Organization: URIRef
    Party: URIRef
    Person: URIRef
    Place: URIRef
    Plan: URIRef
    Planned: URIRef
    Proposition: URIRef
    Rejection: URIRef
    Report: URIRef
    SourceText: URIRef
    State: URIRef
    Statement: URIRef
    Suggestion: URIRef
    TextLayer: URIRef
    Transcript: URIRef
    actor: URIRef
    archive: URIRef
    assesses: URIRef
    cameoCode: URIRef
    cameoLabel: URIRef
    carrier: URIRef
    citation: URIRef
    classification: URIRef
    codingNote: URIRef
    collection: URIRef
    concerns: URIRef
    condition: URIRef
    content: URIRef
    correspondsTo: URIRef
    counterparty: URIRef
    date: URIRef
    documentForm: URIRef
    evidence: URIRef
    glosses: URIRef
    hasInference: URIRef
    hasText: URIRef
    heardBy: URIRef
    holdsOffice: URIRef
    inLayer: URIRef
    issue: URIRef
    issueScheme: URIRef
    issueStatus: URIRef
    IssueStanding: URIRef
    statusOf: URIRef
    issueStatusScheme: URIRef
    judgement: URIRef
    judgementScheme: URIRef
    layer: URIRef
    manner: URIRef
    measuredAgainst: URIRef
    meeting: URIRef
    metadataAnchor: URIRef
    modality: URIRef
    modalityScheme: URIRef
    negotiation: URIRef
    onProperty: URIRef
    partOf: URIRef
    participant: URIRef
    party: URIRef
    place: URIRef
    ploverCategory: URIRef
    quote: URIRef
    reason: URIRef
    recipient: URIRef
    reportedBy: URIRef
    reportedTo: URIRef
    represents: URIRef
    respondsTo: URIRef
    sender: URIRef
    signatory: URIRef
    sha256: URIRef
    speaker: URIRef
    statedIn: URIRef
    statement: URIRef
    statusSupportedBy: URIRef
    supportsProperty: URIRef
    timeExpression: URIRef
    timeQualifier: URIRef

    # Linking to Wikidata (the last section of ontology/dip.ttl)
    CandidateLink: URIRef
    FactOrigin: URIRef
    LinkCandidate: URIRef
    LinkDecision: URIRef
    LinkStatus: URIRef
    NoLink: URIRef
    StoredCopy: URIRef
    VerifiedLink: URIRef
    WikidataAPI: URIRef
    candidate: URIRef
    decisionReason: URIRef
    factEvidence: URIRef
    factOrigin: URIRef
    factOriginScheme: URIRef
    itemRevision: URIRef
    linkAsOf: URIRef
    linkEvidence: URIRef
    linkMethod: URIRef
    linkStatus: URIRef
    linkStatusScheme: URIRef
    linkSubject: URIRef
    linkTarget: URIRef
    matchProperty: URIRef
    score: URIRef
    verifiedAgainst: URIRef


PREFIXES: dict[str, str] = {
    "dip": str(DIP),
    "id": str(ID),
    "ent": str(ID) + "entity/",
    "doc": str(ID) + "doc/",
    "oa": str(OA),
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "schema": str(SCHEMA),
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
    "wd": str(WD),
    "wdt": str(WDT),
    "geo": str(GEO),
}


def entity(key: str) -> URIRef:
    """The IRI of a registry entity."""
    return ID[f"entity/{key}"]


def document(doc_id: str) -> URIRef:
    """The IRI of a document."""
    return ID[f"doc/{doc_id}"]


def in_document(doc_id: str, *parts: str) -> URIRef:
    """The IRI of something minted inside a document (claim, anchor, mention...)."""
    return ID["doc/" + "/".join((doc_id, *parts))]


def document_graph(doc_id: str) -> URIRef:
    """The named graph holding one document's assertions."""
    return GRAPH[f"doc/{doc_id}"]


ENTITIES_GRAPH = GRAPH["entities"]
INFERRED_GRAPH = GRAPH["inferred"]
ONTOLOGY_GRAPH = GRAPH["ontology"]
SHAPES_GRAPH = GRAPH["shapes"]
LINKS_GRAPH = GRAPH["links"]
WIKIDATA_GRAPH = GRAPH["wikidata"]
