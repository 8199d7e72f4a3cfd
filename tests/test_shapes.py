"""Every SHACL node shape has a conforming and a violating example (W3C SHACL test-suite style).

For each node shape ``dips:NAME`` declared in ``ontology/shapes.ttl`` there are two
hand-made data graphs in ``tests/shapes/``:

* ``NAME.pass.ttl`` conforms to *all* shapes, and holds a focus node of ``NAME``;
* ``NAME.fail.ttl`` is the same graph with one deliberate defect. It opens with
  header pairs naming the node shape a Violation must come from and a substring
  of that Violation's message::

      # violates: ClaimShape
      # message: after its document (1945-07-11)

  A fail example may break only the shapes its header names, so a defect that
  spills over into another shape has to be declared.

The examples are not pre-inferred: they are validated with pyshacl's RDFS
inference over ``ontology/dip.ttl``, as ``kg validate --inference rdfs FILE`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from kg.build import Paths
from kg.cli import main
from kg.errors import EXIT_NOT_CONFORMING, EXIT_OK
from kg.validate import ValidationResult, load_graph, validate_graph
from tests.conftest import ROOT

PATHS = Paths(ontology=ROOT / "ontology")
EXAMPLES = Path(__file__).resolve().parent / "shapes"
# The shape whose fail example also goes through the command line (its --help names it).
CLI_SHAPE = "ClaimShape"


def _shapes_graph() -> Graph:
    return Graph().parse(PATHS.shapes_file, format="turtle")


def _node_shapes() -> dict[str, URIRef]:
    """Local name -> IRI of every node shape in the shapes namespace (``dips:``)."""
    graph = _shapes_graph()
    namespace = str(dict(graph.namespaces())["dips"])
    return {
        str(shape)[len(namespace):]: shape
        for shape in graph.subjects(RDF.type, SH.NodeShape)
        if isinstance(shape, URIRef) and str(shape).startswith(namespace)
    }


NODE_SHAPES = _node_shapes()
SHAPE_NAMES = sorted(NODE_SHAPES)


@dataclass(frozen=True)
class Expected:
    shape: str
    message: str


@dataclass(frozen=True)
class Result:
    severity: str
    shape: str  # local name of the node shape the result comes from
    message: str
    focus: Node | None

    def __str__(self) -> str:
        return f"{self.severity} from {self.shape or '?'} on {self.focus}: {self.message}"


def example(name: str, kind: str) -> Path:
    path = EXAMPLES / f"{name}.{kind}.ttl"
    if not path.is_file():
        pytest.fail(f"missing example {path.relative_to(ROOT)}: every node shape in "
                    f"{PATHS.shapes_file.name} needs a .pass.ttl and a .fail.ttl")
    return path


def read_header(path: Path) -> list[Expected]:
    """The ``# violates:`` / ``# message:`` pairs at the top of a fail example."""
    expected: list[Expected] = []
    shape = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line.lstrip("#").strip().partition(":")
        if key == "violates":
            shape = value.strip()
        elif key == "message":
            assert shape is not None, f"{path.name}: '# message:' before any '# violates:'"
            expected.append(Expected(shape, value.strip()))
    return expected


@cache
def _shared_graphs() -> tuple[Graph, Graph, dict[Node, str]]:
    """Shapes, ontology, and for each shape node the node shape it belongs to."""
    shapes = load_graph([PATHS.shapes_file])
    owner: dict[Node, str] = {iri: name for name, iri in NODE_SHAPES.items()}
    for name, iri in NODE_SHAPES.items():
        for prop in shapes.objects(iri, SH.property):
            owner[prop] = name
    return shapes, load_graph([PATHS.ontology_file]), owner


@cache
def validate(path: Path) -> tuple[ValidationResult, tuple[Result, ...]]:
    shapes, ontology, owner = _shared_graphs()
    result = validate_graph(load_graph([path]), shapes, ontology, inference="rdfs")
    report = result.report
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        source = report.value(node, SH.sourceShape)
        severity = report.value(node, SH.resultSeverity)
        results.append(Result(
            severity=str(severity).rsplit("#", 1)[-1],
            shape=owner.get(source, "") if source is not None else "",
            message=" ".join(str(m) for m in report.objects(node, SH.resultMessage)),
            focus=report.value(node, SH.focusNode),
        ))
    return result, tuple(sorted(results, key=str))


def show(results: tuple[Result, ...]) -> str:
    return "\n".join(f"  {r}" for r in results) or "  (no results)"


def test_shapes_are_found() -> None:
    """The parametrisation below is not empty, and names the shapes we know exist."""
    assert {"DocumentShape", "SourceTextShape", "ClaimShape", "PartyActorShape"} <= set(
        SHAPE_NAMES)


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_examples_exist(name: str) -> None:
    for kind in ("pass", "fail"):
        assert example(name, kind).stat().st_size > 0


def test_no_example_without_a_shape() -> None:
    """A renamed or deleted shape does not leave its examples behind, untested."""
    stray = sorted(
        path.name for path in EXAMPLES.glob("*.ttl")
        if path.name.split(".", 1)[0] not in NODE_SHAPES
        or not path.name.endswith((".pass.ttl", ".fail.ttl")))
    assert not stray, f"examples in tests/shapes/ that match no node shape: {stray}"


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_pass_example_conforms(name: str) -> None:
    result, results = validate(example(name, "pass"))
    assert result.conforms and not results, (
        f"{name}.pass.ttl should conform to every shape, but:\n{show(results)}")


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_fail_example_violates_its_shape(name: str) -> None:
    path = example(name, "fail")
    expected = read_header(path)
    assert expected, f"{path.name} has no '# violates:' / '# message:' header"
    assert name in {e.shape for e in expected}, (
        f"{path.name} must declare '# violates: {name}' in its header")
    result, results = validate(path)
    assert not result.conforms, f"{path.name} should not conform, but it does"
    violations = [r for r in results if r.severity == "Violation"]
    for want in expected:
        assert any(r.shape == want.shape and want.message in r.message for r in violations), (
            f"{path.name}: expected a Violation from {want.shape} whose message contains "
            f"{want.message!r}; got:\n{show(results)}")
    undeclared = [r for r in violations if r.shape not in {e.shape for e in expected}]
    assert not undeclared, (
        f"{path.name} also breaks shapes its header does not declare:\n"
        f"{show(tuple(undeclared))}")


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_pass_example_holds_the_failing_focus(name: str) -> None:
    """The pass example is not vacuous: the node the fail example breaks is in it too."""
    _, results = validate(example(name, "fail"))
    focus = {r.focus for r in results if r.shape == name and r.severity == "Violation"}
    assert focus, f"{name}.fail.ttl has no Violation from {name}"
    passing = load_graph([example(name, "pass")])
    missing = [f for f in focus if (f, None, None) not in passing]
    assert not missing, f"{name}.pass.ttl lacks the focus node(s) {missing}"


def _cli(path: Path) -> int:
    return main(["validate", "--inference", "rdfs", "--ontology", str(PATHS.ontology), str(path)])


def test_cli_reports_the_fail_example(capsys: pytest.CaptureFixture[str]) -> None:
    path = example(CLI_SHAPE, "fail")
    assert _cli(path) == EXIT_NOT_CONFORMING
    out = capsys.readouterr().out
    for want in read_header(path):
        assert want.message in out, f"`kg validate {path.name}` did not print {want.message!r}"
    assert "does NOT conform" in out


def test_cli_accepts_the_pass_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(example(CLI_SHAPE, "pass")) == EXIT_OK
    out = capsys.readouterr().out
    assert "The graph conforms (SHACL: no findings)" in out
