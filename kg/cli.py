"""The ``kg`` command: one verb per pipeline stage.

Every sub-command's ``--help`` ends with an example. User errors print
``Error: ...`` with a hint and exit with the codes listed in :mod:`kg.errors`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from kg import __version__
from kg.build import Paths
from kg.errors import EXIT_NOT_CONFORMING, EXIT_OK, EXIT_USAGE, KgError

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that exits with our usage code (2) and a hint."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"Error: {message}\nHint: run `{self.prog} --help`\n")
        raise SystemExit(EXIT_USAGE)


def _paths(args: argparse.Namespace) -> Paths:
    return Paths(data=args.data, ontology=args.ontology, queries=args.queries,
                 build=args.build_dir)


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("project folders")
    group.add_argument("--data", type=Path, default=Path("data"), metavar="DIR",
                       help="texts, curation files and entity registry (default: data)")
    group.add_argument("--ontology", type=Path, default=Path("ontology"), metavar="DIR",
                       help="ontology, shapes and rules (default: ontology)")
    group.add_argument("--queries", type=Path, default=Path("queries"), metavar="DIR",
                       help="stored SPARQL queries (default: queries)")
    group.add_argument("--build-dir", type=Path, default=Path("build"), metavar="DIR",
                       help="where outputs are written and read (default: build)")


def cmd_build(args: argparse.Namespace) -> int:
    from kg.build import build

    result = build(_paths(args))
    out = sys.stdout
    for cur, cov in zip(result.corpus.curations, result.coverage, strict=True):
        out.write(f"{cur.doc_id}: {len(cur.claims)} claims, {len(cur.mentions)} mentions, "
                  f"{len(cur.editorial) + len(cur.glosses)} editorial statements; "
                  f"coverage {cov.covered}/{cov.total} transcript sentences\n")
        for start, end, sentence in cov.uncovered:
            out.write(f"  uncovered [{start}:{end}]: {sentence}\n")
    out.write(f"wrote {result.triples} triples in {len(result.graphs)} graphs to "
              + ", ".join(str(f) for f in result.files) + "\n")
    return EXIT_OK


def cmd_infer(args: argparse.Namespace) -> int:
    from kg.build import load_ontology
    from kg.reason import infer

    paths = _paths(args)
    result = infer(paths.asserted, load_ontology(paths.ontology_file), paths.rules_dir,
                   paths.build)
    rules = ", ".join(f"{name}: {count}" for name, count in result.rules.items())
    sys.stdout.write(f"OWL RL derived {result.owl} triples; rules derived {rules}; "
                     f"wrote {len(result.graph)} inferred triples to "
                     + ", ".join(str(f) for f in result.files) + "\n")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from kg.validate import validate_files

    paths = _paths(args)
    data = args.files or [paths.asserted, paths.inferred]
    report = args.report if args.report else (None if args.files else paths.build / "validation.ttl")
    result = validate_files(data, paths.shapes_file, paths.ontology_file, report, args.inference)
    out = sys.stdout
    shown = [f for f in result.findings if not (args.quiet and f.severity != "Violation")]
    for finding in shown:
        out.write(finding.render() + "\n\n")
    counts = {}
    for finding in result.findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    summary = ", ".join(f"{n} {k.lower()}{'s' if n != 1 else ''}" for k, n in sorted(counts.items()))
    verdict = "conforms" if result.conforms else "does NOT conform"
    where = f"; report written to {report}" if report else ""
    out.write(f"SHACL: the graph {verdict} ({summary or 'no findings'}){where}\n")
    return EXIT_OK if result.conforms else EXIT_NOT_CONFORMING


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kg",
        description="Build, check, query and load the knowledge graph of diplomatic documents.",
        epilog="Example: kg build && kg validate && kg query who-conceded-what",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"kg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, handler: Handler, help_text: str, example: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text,
                                 epilog=f"Example:\n  {example}",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        command.set_defaults(handler=handler)
        _common(command)
        return command

    add("build", cmd_build,
        "Compile texts, curation and registry into build/asserted.{trig,nq,ttl,nt,jsonld}; "
        "print coverage.", "kg build")
    add("infer", cmd_infer,
        "Derive build/inferred.* from build/asserted.trig with OWL 2 RL (owlrl) and the "
        "status rules in ontology/rules/.", "kg infer")
    validate = add("validate", cmd_validate,
                   "Validate build/asserted + build/inferred against ontology/shapes.ttl; "
                   "exit 0 if the graph conforms, 1 if not.",
                   "kg validate            # or: kg validate tests/shapes/ClaimShape.fail.ttl")
    validate.add_argument("files", nargs="*", type=Path,
                          help="data files to validate instead of the build outputs")
    validate.add_argument("--report", type=Path, metavar="FILE",
                          help="where to write the SHACL report as Turtle "
                               "(default: build/validation.ttl)")
    validate.add_argument("--inference", choices=["none", "rdfs", "owlrl"], default="none",
                          help="inference pyshacl runs first (default none: the build's "
                               "inferred graph is already included)")
    validate.add_argument("--quiet", action="store_true", help="print violations only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args))
    except KgError as exc:
        sys.stderr.write(exc.render() + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130
