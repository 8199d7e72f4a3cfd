"""The ontology: every term labelled and defined, event codes as strings, namespace in sync."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS, XSD

from kg.compile import act_types
from kg.namespace import DIP
from tests.conftest import ROOT

ONTOLOGY = Graph().parse(ROOT / "ontology" / "dip.ttl")
NS = str(DIP)
TERMS = sorted({s for s in ONTOLOGY.subjects() if isinstance(s, URIRef) and str(s).startswith(NS)})
ACTS = act_types(ONTOLOGY)
# CAMEO 1.1b3 codes and PLOVER categories (CAMEO2PLOVER-2021 crosswalk), as reviewed.
EXPECTED_CODES = {
    "Consultation": ("046", "CONSULT"), "Demand": ("100", "DEMAND"), "Offer": ("030", "AGREE"),
    "Concession": ("080", "CONCEDE"), "Accord": ("019", "AGREE"), "Rejection": ("120", "REJECT"),
    "Assurance": ("032", "AGREE"), "Suggestion": ("020", "none"), "Plan": ("030", "AGREE"),
    "Report": ("010", "none"), "Assessment": ("010", "none"),
    # Third-party advice or instruction: no CAMEO event code (see its dip:codingNote).
    "Advice": ("none", "none"),
}


def test_namespace_module_matches_the_ontology() -> None:
    declared = {str(t)[len(NS):] for t in TERMS}
    module = {name for name in DIP.__annotations__}
    assert declared == module


def test_a_misspelt_term_fails_at_once() -> None:
    with pytest.raises(AttributeError):
        DIP.Concesion  # noqa: B018


@pytest.mark.parametrize("term", TERMS, ids=[str(t)[len(NS):] for t in TERMS])
def test_every_term_has_an_english_label_and_definition(term: URIRef) -> None:
    labels = [o for o in ONTOLOGY.objects(term, RDFS.label) if isinstance(o, Literal)]
    definitions = [o for o in ONTOLOGY.objects(term, SKOS.definition)
                   if isinstance(o, Literal)]
    assert [lbl.language for lbl in labels] == ["en"]
    assert [d.language for d in definitions] == ["en"]
    assert len(str(definitions[0])) > 20


def test_the_act_types_are_those_the_issue_lists() -> None:
    assert set(ACTS) == set(EXPECTED_CODES)


@pytest.mark.parametrize("act", sorted(EXPECTED_CODES))
def test_every_act_type_maps_to_cameo_and_plover_as_strings(act: str) -> None:
    cls = ACTS[act]
    cameo = list(ONTOLOGY.objects(cls, DIP.cameoCode))
    plover = list(ONTOLOGY.objects(cls, DIP.ploverCategory))
    assert len(cameo) == 1 and len(plover) == 1
    assert isinstance(cameo[0], Literal) and cameo[0].datatype in (None, XSD.string)
    assert (str(cameo[0]), str(plover[0])) == EXPECTED_CODES[act]
    assert list(ONTOLOGY.objects(cls, DIP.codingNote)), "say why the code fits"
    assert (cls, RDFS.subClassOf, DIP.Claim) in ONTOLOGY


def test_ontology_header() -> None:
    header = URIRef("https://w3id.org/dipkg/ontology")
    assert (header, RDF.type, OWL.Ontology) in ONTOLOGY
    for prop in (RDFS.label, RDFS.comment, OWL.versionInfo):
        assert ONTOLOGY.value(header, prop) is not None


def test_ontology_version_iri_names_its_version() -> None:
    """The header's version IRI ends with its version, and both equal the project's."""
    from kg import __version__

    header = URIRef("https://w3id.org/dipkg/ontology")
    version = str(ONTOLOGY.value(header, OWL.versionInfo))
    assert ONTOLOGY.value(header, OWL.versionIRI) == URIRef(f"{header}/{version}")
    assert version == __version__
