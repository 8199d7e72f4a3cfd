"""The validation stage: SHACL (pyshacl) over the asserted and inferred graphs.

The data graph is ``build/asserted`` plus ``build/inferred`` (the OWL 2 RL closure
made by owlrl in ``kg infer``), so shapes targeting ``dip:Claim`` reach every act
class. Warnings are reported but do not make the graph non-conforming.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from kg.errors import InputError
from kg.export import describe_parse_error, flatten, read_dataset, turtle, write_atomically
from kg.namespace import DIP, OA
from kg.sparql import short


@dataclass
class Finding:
    severity: str
    focus: str
    path: str
    message: str
    value: str
    quote: str
    shape: str

    def render(self) -> str:
        lines = [f"{self.severity}: {self.message}", f"  focus: {self.focus}"]
        if self.path:
            lines.append(f"  path:  {self.path}")
        if self.value:
            lines.append(f"  value: {self.value}")
        if self.quote:
            lines.append(f'  quote: "{self.quote}"')
        if self.shape:
            lines.append(f"  shape: {self.shape}")
        return "\n".join(lines)


@dataclass
class ValidationResult:
    conforms: bool
    findings: list[Finding]
    report: Graph

    @property
    def violations(self) -> int:
        return sum(1 for f in self.findings if f.severity == "Violation")


def load_graph(files: list[Path], missing_hint: str = "run `make run` first") -> Graph:
    graph = Graph()
    for path in files:
        if not path.exists():
            raise InputError(f"{path} does not exist", hint=missing_hint)
        if path.suffix in (".trig", ".nq"):
            for triple in flatten(read_dataset(path)):
                graph.add(triple)
        else:
            try:
                graph.parse(path, format="turtle")
            except Exception as exc:  # rdflib raises several parser exception types
                raise InputError(f"cannot parse {describe_parse_error(path, exc)}",
                                 hint="fix the Turtle syntax on that line") from None
    return graph


def quote_of(data: Graph, focus: Node) -> str:
    """The words a focus node rests on: its own quote, or its evidence's."""
    candidates = [focus, *data.objects(focus, DIP.evidence), *data.objects(focus, OA.hasTarget)]
    for node in candidates:
        for selector in data.objects(node, OA.hasSelector):
            if (selector, RDF.type, OA.TextQuoteSelector) in data:
                for exact in data.objects(selector, OA.exact):
                    return str(exact)
    return ""


def _path(report: Graph, node: Node) -> str:
    path = report.value(node, SH.resultPath)
    if path is None:
        return ""
    if isinstance(path, URIRef):
        return short(path)
    items = list(report.items(path))
    return " / ".join(short(i) for i in items if isinstance(i, URIRef)) or str(path)


def _node_shape(shapes: Graph, shape: Node | None) -> Node | None:
    """The named node shape a (blank) property shape belongs to."""
    if shape is None or isinstance(shape, URIRef):
        return shape
    return shapes.value(predicate=SH.property, object=shape) or shape


def validate_graph(data: Graph, shapes: Graph, ontology: Graph,
                   inference: str = "none") -> ValidationResult:
    conforms, report, _ = shacl_validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference=inference,
        allow_warnings=True, abort_on_first=False, meta_shacl=False, advanced=False)
    assert isinstance(report, Graph)
    findings = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        focus = report.value(result, SH.focusNode)
        value = report.value(result, SH.value)
        shape = _node_shape(shapes, report.value(result, SH.sourceShape))
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        findings.append(Finding(
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            focus=short(focus) if isinstance(focus, (URIRef, Literal)) else str(focus),
            path=_path(report, result),
            message=messages[0] if messages else "",
            value=short(value) if isinstance(value, (URIRef, Literal)) else "",
            quote=quote_of(data, focus) if focus is not None else "",
            shape=short(shape) if isinstance(shape, URIRef) else "",
        ))
    findings.sort(key=lambda f: (f.severity != "Violation", f.focus, f.path, f.message))
    return ValidationResult(bool(conforms), findings, report)


def validate_files(data_files: list[Path], shapes_file: Path, ontology_file: Path,
                   report_file: Path | None, inference: str = "none",
                   missing_hint: str = "run `make run` first") -> ValidationResult:
    result = validate_graph(load_graph(data_files, missing_hint), load_graph([shapes_file]),
                            load_graph([ontology_file]), inference)
    if report_file is not None:
        write_atomically({report_file: turtle(result.report)})
    return result
