"""The ``kg`` command: one verb per pipeline stage.

Every sub-command's ``--help`` ends with an example. User errors print
``Error: ...`` with a hint and exit with the codes listed in :mod:`kg.errors`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kg import __version__
from kg.build import Paths
from kg.cli_args import Handler, at_least_one, iso_date
from kg.errors import EXIT_NOT_CONFORMING, EXIT_OK, EXIT_USAGE, KgError, UsageError
from kg.sparql import Engine


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
        no_act = (f" ({len(cov.no_act)} more curated as reporting no act)"
                  if cov.no_act else "")
        out.write(f"{cur.doc_id}: {len(cur.claims)} claims, {len(cur.mentions)} mentions, "
                  f"{len(cur.editorial) + len(cur.glosses)} editorial statements; "
                  f"coverage {cov.covered}/{cov.total} transcript sentences{no_act}\n")
        for start, end, reason in cov.no_act:
            out.write(f"  no act [{start}:{end}]: {reason}\n")
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
    # The same N-Quads files the violation checks and `kg query` read.
    data = args.files or [paths.build / "asserted.nq", paths.build / "inferred.nq"]
    default_report = None if args.files else paths.build / "validation.ttl"
    report = args.report or default_report
    hint = "check the file name" if args.files else "run `make run` (or kg build, kg infer) first"
    result = validate_files(data, paths.shapes_file, paths.ontology_file, report, args.inference,
                            hint)
    out = sys.stdout
    shown = [f for f in result.findings if not (args.quiet and f.severity != "Violation")]
    for finding in shown:
        out.write(finding.render() + "\n\n")
    counts: dict[str, int] = {}
    for finding in result.findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    summary = ", ".join(f"{n} {k.lower()}{'s' if n != 1 else ''}"
                        for k, n in sorted(counts.items()))
    conforms = result.conforms
    failed_checks = 0
    if not args.files:
        from kg.queries import list_queries, run

        engine = embedded_engine(paths)
        for stored in list_queries(paths.queries):
            if not stored.is_violation_check:
                continue
            rows = run(stored, engine)
            if rows.rows:
                conforms = False
                failed_checks += 1
                from kg.sparql import to_table

                out.write(f"Violation: check {stored.name} returned {len(rows.rows)} row(s): "
                          f"{stored.summary}\n{to_table(rows)}\n")
    if result.findings:
        out.write("By document: " + _findings_by_part(result.findings) + "\n")
    verdict = "conforms" if conforms else "does NOT conform"
    where = f"; report written to {report}" if report else ""
    checks = (f"; {failed_checks} violation check{'s' if failed_checks != 1 else ''} "
              "returned rows" if failed_checks else "")
    out.write(f"The graph {verdict} (SHACL: {summary or 'no findings'}{checks}){where}\n")
    return EXIT_OK if conforms else EXIT_NOT_CONFORMING


def _findings_by_part(findings: Sequence[Any]) -> str:
    """Count SHACL findings per document graph (or registry, links), from their focus IRIs.

    >>> from types import SimpleNamespace as F
    >>> _findings_by_part([F(focus="<https://w3id.org/dipkg/id/doc/d1/claim/c1>",
    ...                      severity="Violation"),
    ...                    F(focus="<https://w3id.org/dipkg/id/entity/x>", severity="Warning")])
    'd1: 1 violation; registry: 1 warning'
    """
    counts: dict[str, dict[str, int]] = {}
    for finding in findings:
        focus = str(finding.focus).strip("<>")
        if "/id/doc/" in focus:
            part = focus.split("/id/doc/", 1)[1].split("/", 1)[0]
        elif "/id/entity/" in focus:
            part = "registry"
        elif "/id/link/" in focus or "/id/wikidata/" in focus:
            part = "links"
        else:
            part = "other"
        by_severity = counts.setdefault(part, {})
        by_severity[finding.severity] = by_severity.get(finding.severity, 0) + 1
    return "; ".join(
        f"{part}: " + ", ".join(f"{n} {sev.lower()}{'s' if n != 1 else ''}"
                                for sev, n in sorted(sevs.items()))
        for part, sevs in sorted(counts.items(), key=lambda kv: (kv[0] == "other", kv[0])))


def embedded_engine(paths: Paths, engine: str = "oxigraph") -> Engine:
    """The built graph (asserted + inferred + ontology) in an embedded engine."""
    from kg.namespace import ONTOLOGY_GRAPH
    from kg.sparql import OxigraphEngine, RdflibEngine

    chosen: OxigraphEngine | RdflibEngine = (
        OxigraphEngine() if engine == "oxigraph" else RdflibEngine())
    for path in (paths.build / "asserted.nq", paths.build / "inferred.nq"):
        chosen.load_file(path)
    chosen.load_file(paths.ontology_file, ONTOLOGY_GRAPH)
    return chosen


def cmd_query(args: argparse.Namespace) -> int:
    from kg.queries import bind, find_query, list_queries, run
    from kg.sparql import FORMATTERS

    paths = _paths(args)
    if args.list:
        for stored in list_queries(paths.queries):
            params = " ".join(f"[--param {p.name}=...]" if p.optional else f"--param {p.name}=..."
                              for p in stored.params.values())
            sys.stdout.write(f"{stored.name} {params}\n    {stored.summary}\n")
        return EXIT_OK
    if not args.query:
        raise UsageError("name a stored query or a .rq file",
                         hint="kg query --list shows the stored queries")
    stored = find_query(args.query, paths.queries)
    keys = None
    if any(p.kind == "iri" for p in stored.params.values()) and args.param:
        from kg.registry import load_registry

        registry_file = paths.data / "entities.yaml"
        if registry_file.exists():
            keys = {k: e.type for k, e in load_registry(registry_file).entities.items()}
    bindings = bind(stored, args.param, keys)
    if args.endpoint:
        from kg.cli_store import engine_from_args

        engine: Engine = engine_from_args(args)
    else:
        engine = embedded_engine(paths, args.engine)
    results = run(stored, engine, bindings)
    fmt = args.format
    if fmt is None:
        suffix = args.output.suffix.lower().lstrip(".") if args.output else ""
        fmt = suffix if suffix in ("csv", "tsv", "json") else "table"
    text = FORMATTERS[fmt](results)
    if args.output:
        from kg.export import write_atomically

        write_atomically({args.output: text})
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from kg.report import report

    paths = _paths(args)
    sys.stdout.write(report(paths, embedded_engine(paths), args.as_of))
    return EXIT_OK


def cmd_new(args: argparse.Namespace) -> int:
    from kg.scaffold import new_document

    text_path, curation_path = new_document(args.text, args.data, args.id)
    sys.stdout.write(
        f"wrote {text_path} (a byte-for-byte copy) and {curation_path}\n"
        "next: fill in every TODO in the curation file (docs/curation-guide.md), record the\n"
        f"text's source in {args.data / 'README.md'}, then run `kg build` and fix what it "
        "reports.\n")
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from kg.bench import bench, render

    sys.stdout.write(render(bench(_paths(args), args.copies, not args.no_rdflib)))
    return EXIT_OK


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
        "Compile texts, curation and registry into build/asserted.{trig,nq,ttl,nt,jsonld} "
        "and build/context.jsonld; print coverage.", "kg build")
    add("infer", cmd_infer,
        "Derive build/inferred.* from build/asserted.trig with OWL 2 RL (owlrl) and the "
        "status rules in ontology/rules/.", "kg infer")
    validate = add("validate", cmd_validate,
                   "Validate build/asserted + build/inferred against ontology/shapes.ttl and run "
                   "the queries/*-violation.rq checks (or SHACL only, on the files given); "
                   "exit 0 if the graph conforms, 1 if not.",
                   "kg validate            # or: kg validate tests/shapes/ClaimShape.fail.ttl")
    validate.add_argument("files", nargs="*", type=Path,
                          help="data files to validate instead of the build outputs")
    validate.add_argument("--report", type=Path, metavar="FILE",
                          help="where to write the SHACL report as Turtle (default: "
                               "build/validation.ttl when validating the build; none for "
                               "files given on the command line)")
    validate.add_argument("--inference", choices=["none", "rdfs", "owlrl"], default="none",
                          help="inference pyshacl runs first (default none: the build's "
                               "inferred graph is already included)")
    validate.add_argument("--quiet", action="store_true", help="print violations only")
    query = add("query", cmd_query,
                "Run a stored query (queries/NAME.rq) or any .rq file on the built graph, "
                "or on a triplestore with --endpoint.",
                "kg query who-conceded-what --param actor=stalin --format csv")
    query.add_argument("query", nargs="?", metavar="NAME|FILE",
                       help="stored query name (see --list) or path to a .rq file")
    query.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="bind a declared parameter (repeatable); IRIs may be registry keys")
    query.add_argument("--format", choices=["table", "csv", "tsv", "json"], default=None,
                       help="table for a terminal (default), or a SPARQL 1.1 results format "
                            "(default with -o FILE.csv, .tsv or .json: that format)")
    query.add_argument("--engine", choices=["oxigraph", "rdflib"], default="oxigraph",
                       help="embedded engine (default oxigraph; rdflib gives the same answers, "
                            "slower)")
    query.add_argument("-o", "--output", type=Path, metavar="FILE",
                       help="write the results to FILE instead of standard output")
    query.add_argument("--list", action="store_true", help="list the stored queries")
    from kg.cli_store import add_endpoint_options, register

    add_endpoint_options(query)
    report_cmd = add(
        "report", cmd_report,
        "Print who conceded what to whom, where each issue stood on a date (by default the "
        "latest document's) with each side's position and the supporting quotes, and what "
        "Washington advised (the end of `make run`).", "kg report --as-of 1945-07-11")
    report_cmd.add_argument("--as-of", type=iso_date, metavar="DATE",
                            help="read the standings on this date, YYYY-MM-DD (default: the "
                                 "date of the latest document)")
    register(add)
    from kg.cli_link import register as register_link

    register_link(add)
    new = add("new", cmd_new,
              "Start a new document: copy a text file to data/text/ and write a curation "
              "skeleton to data/curation/ (checksum, header fields, its sentences to curate).",
              "kg new ~/captures/1945-08-14-treaty.txt --id 1945-08-14-treaty-of-friendship")
    new.add_argument("text", type=Path, help="the document's text (UTF-8), as captured")
    new.add_argument("--id", metavar="ID",
                     help="document id: lower case, digits and hyphens (default: from the "
                          "file name)")
    bench_cmd = add("bench", cmd_bench,
                    "Print the time and peak memory of each stage on the corpus, and on N "
                    "copies of it (ratios against the 1-copy run and against Oxigraph).",
                    "kg bench --copies 10")
    bench_cmd.add_argument("--copies", type=at_least_one, default=5, metavar="N",
                           help="also run every stage on N copies of the corpus (default 5)")
    bench_cmd.add_argument("--no-rdflib", action="store_true",
                           help="skip the rdflib query baseline (slow on many copies)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # Keys may follow options (`kg link propose --write stalin`): argparse stops
        # filling a positional list at the first option, so collect the rest here.
        if isinstance(getattr(args, "keys", None), list) and not any(
                e.startswith("-") for e in extra):
            args.keys = [*args.keys, *extra]
        else:
            command = getattr(args, "command", None)
            parser.print_usage(sys.stderr)
            sys.stderr.write(f"Error: unrecognized arguments: {' '.join(extra)}\n"
                             f"Hint: run `kg {command + ' ' if command else ''}--help`\n")
            return EXIT_USAGE
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
