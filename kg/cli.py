"""The ``kg`` command: one verb per pipeline stage.

Every sub-command's ``--help`` ends with an example. User errors print
``Error: ...`` with a hint and exit with the codes listed in :mod:`kg.errors`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kg import __version__
from kg.api import CheckResult, Project
from kg.build import Paths
from kg.cli_args import Handler, at_least_one, iso_date
from kg.errors import (
    EXIT_NOT_CONFORMING,
    EXIT_OK,
    EXIT_USAGE,
    InputError,
    KgError,
    UsageError,
)
from kg.sparql import Engine


class _Parser(argparse.ArgumentParser):
    """argparse that exits with our usage code (2) and a hint."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"Error: {message}\nHint: run `{self.prog} --help`\n")
        raise SystemExit(EXIT_USAGE)


def _paths(args: argparse.Namespace) -> Paths:
    paths: Paths = args.paths
    return paths


def _project(args: argparse.Namespace) -> Project:
    return Project(args.paths, args.config, quiet=False)


def _common(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "project folders", "By default, those of the project (the kg.toml in this folder or "
        "the nearest one above it), and the packaged ontology and queries.")
    group.add_argument("--data", type=Path, default=None, metavar="DIR",
                       help="texts, curation files and entity registry (default: the "
                            "project's, else data)")
    group.add_argument("--ontology", type=Path, default=None, metavar="DIR",
                       help="ontology, shapes and rules (default: the packaged ones, with "
                            "the project's own terms and shapes)")
    group.add_argument("--queries", type=Path, default=None, metavar="DIR",
                       help="stored SPARQL queries (default: the packaged ones; the "
                            "project's own queries are searched first)")
    group.add_argument("--build-dir", type=Path, default=None, metavar="DIR",
                       help="where outputs are written and read (default: the project's, "
                            "else build)")


def _resolve(args: argparse.Namespace) -> None:
    """Fill in the folders the options leave out, from kg.toml or the defaults."""
    from kg.project import resolve_paths

    args.paths, args.config = resolve_paths(args.data, args.ontology, args.queries,
                                            args.build_dir)
    args.data, args.ontology = args.paths.data, args.paths.ontology
    args.queries, args.build_dir = args.paths.queries, args.paths.build


def cmd_build(args: argparse.Namespace) -> int:
    result = _project(args).build()
    out = sys.stdout
    for doc in result.documents:
        cov = doc.coverage
        no_act = (f" ({len(cov.no_act)} more curated as reporting no act)"
                  if cov.no_act else "")
        out.write(f"{doc.doc_id}: {doc.claims} claims, {doc.mentions} mentions, "
                  f"{doc.editorial} editorial statements; "
                  f"coverage {cov.covered}/{cov.total} transcript sentences{no_act}\n")
        for start, end, reason in cov.no_act:
            out.write(f"  no act [{start}:{end}]: {reason}\n")
        for start, end, sentence in cov.uncovered:
            out.write(f"  uncovered [{start}:{end}]: {sentence}\n")
    chunks = len(result.rebuilt) + result.reused
    out.write(f"compiled {len(result.rebuilt)} of {chunks} parts (documents, registry, links; "
              f"the rest unchanged since the last build)\n")
    if result.files:
        out.write(f"wrote {result.triples} triples in {result.graphs} graphs to "
                  + ", ".join(str(f) for f in result.files) + "\n")
    else:
        out.write(f"{result.triples} triples in {result.graphs} graphs: "
                  f"{_paths(args).build}/asserted.* are up to date\n")
    return EXIT_OK


def cmd_infer(args: argparse.Namespace) -> int:
    result = _project(args).infer(reasoner=args.reasoner)
    rules = ", ".join(f"{name}: {count}" for name, count in result.rules.items())
    where = (", ".join(str(f) for f in result.files) if result.files
             else f"{_paths(args).build}/inferred.* (up to date)")
    sys.stdout.write(f"OWL RL derived {result.owl} triples; rules derived {rules}; "
                     f"wrote {result.triples} inferred triples to {where}\n")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from kg.validate import Finding, validate_files

    paths = _paths(args)
    out = sys.stdout
    report = args.report
    failed: list[CheckResult] = []
    findings: list[Finding]
    if args.files:
        result = validate_files(args.files, paths.shapes_file, paths.ontology_file, report,
                                args.inference, "check the file name")
        findings, conforms = result.findings, result.conforms
    else:
        validation = _project(args).validate(report)
        findings, conforms = validation.findings, validation.conforms
        failed, report = validation.failed_checks, validation.report_file
    shown = [f for f in findings if not (args.quiet and f.severity != "Violation")]
    for finding in shown:
        out.write(finding.render() + "\n\n")
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    summary = ", ".join(f"{n} {k.lower()}{'s' if n != 1 else ''}"
                        for k, n in sorted(counts.items()))
    failed_checks = len(failed)
    if failed:
        from kg.sparql import to_table

        for check in failed:
            out.write(f"Violation: check {check.query.name} returned "
                      f"{len(check.results.rows)} row(s): {check.query.summary}\n"
                      f"{to_table(check.results)}\n")
    if findings:
        out.write("By document: " + _findings_by_part(findings) + "\n")
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
    """The built graph (asserted + inferred + ontology) in an embedded engine.

    Oxigraph answers on the working store (``build/store``), opened read-only; rdflib
    (``--engine rdflib``, the cross-check) loads the output files.
    """
    from kg.namespace import ONTOLOGY_GRAPH
    from kg.sparql import RdflibEngine

    if engine == "oxigraph":
        from kg.pipeline.run import Pipeline

        pipeline = Pipeline(paths)
        if "inferred" not in pipeline.cache.state:
            raise InputError(f"{paths.build / 'store'} does not exist or is not complete: the "
                             "graph has not been built and inferred yet",
                             hint="run `make run` (or kg build, kg infer) first")
        return pipeline.answers(read_only=True)
    chosen = RdflibEngine()
    for path in (paths.build / "asserted.nq", paths.build / "inferred.nq"):
        chosen.load_file(path)
    chosen.load_file(paths.ontology_file, ONTOLOGY_GRAPH)
    return chosen


def cmd_query(args: argparse.Namespace) -> int:
    from kg.sparql import FORMATTERS

    project = _project(args)
    if args.list:
        for stored in project.stored_queries():
            params = " ".join(f"[--param {p.name}=...]" if p.optional else f"--param {p.name}=..."
                              for p in stored.params.values())
            line = " ".join(p for p in (stored.name, params, f"({project.origin(stored)})") if p)
            sys.stdout.write(f"{line}\n    {stored.summary}\n")
        return EXIT_OK
    if not args.query:
        raise UsageError("name a stored query or a .rq file",
                         hint="kg query --list shows the stored queries")
    given: dict[str, str] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"bad --param {item!r}", hint="write --param name=value")
        given[name] = value
    if args.endpoint:
        from kg.cli_store import engine_from_args

        engine: Engine = engine_from_args(args)
    else:
        engine = project.engine(args.engine)
    results = project.results(args.query, given, engine)
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
    sys.stdout.write(_project(args).report(as_of=args.as_of))
    return EXIT_OK


def cmd_new(args: argparse.Namespace) -> int:
    text_path, curation_path = _project(args).new_document(args.text, args.id)
    sys.stdout.write(
        f"wrote {text_path} (a byte-for-byte copy) and {curation_path}\n"
        "next: fill in every TODO in the curation file (docs/curation-guide.md), record the\n"
        f"text's source in {args.data / 'README.md'}, then run `kg build` and fix what it "
        "reports.\n")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from kg.project import CONFIG_FILE

    project = Project.init(args.dir, title=args.title, licence=args.licence,
                           negotiations=args.negotiation, example=args.example)
    root = args.dir
    sys.stdout.write(
        f"started the corpus {project.config.title if project.config else root} in {root}: "
        f"{root / CONFIG_FILE}, {root / 'README.md'}, {project.paths.data}/ (text/, "
        "curation/, entities.yaml), queries/\n"
        f"next: cd {root}, add the parties to data/entities.yaml, then `kg new TEXT` for "
        "each document" + (" (or try `kg build` on the example first)" if args.example
                          else "") + ".\n")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from kg import schema
    from kg.project import vocab_dir

    if args.write:
        for path in schema.write(vocab_dir() / "schema"):
            sys.stdout.write(f"wrote {path}\n")
        return EXIT_OK
    sys.stdout.write(schema.generate(args.kind))
    return EXIT_OK


def cmd_bench(args: argparse.Namespace) -> int:
    from kg.bench import HEADER, Scenario, bench, bench_docs, render, render_row

    if args.copies:
        sys.stdout.write(render(bench(_paths(args), args.copies, not args.no_rdflib)))
        return EXIT_OK
    measured: list[Scenario] = []

    def show(result: Scenario) -> None:
        sys.stdout.write(render_row(result, measured) + "\n")
        sys.stdout.flush()
        measured.append(result)

    sys.stdout.write(HEADER + "\n")
    bench_docs(_paths(args), args.docs or [30], args.naive, args.naive_max, show)
    return EXIT_OK


def cmd_site(args: argparse.Namespace) -> int:
    from kg.site import build_site

    paths = _paths(args)
    result = build_site(paths, embedded_engine(paths), args.output)
    sys.stdout.write(f"wrote {result.pages} pages to {result.folder} in {result.seconds:.2f} s "
                     f"(and {paths.build / 'void.ttl'}); open {result.folder / 'index.html'}\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kg",
        description="Build, check, query and load the knowledge graph of diplomatic documents.",
        epilog="Example: kg build && kg validate && kg query who-conceded-what",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"kg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def plain(name: str, handler: Handler, help_text: str,
              example: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text,
                                 epilog=f"Example:\n  {example}",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
        command.set_defaults(handler=handler)
        return command

    def add(name: str, handler: Handler, help_text: str, example: str) -> argparse.ArgumentParser:
        command = plain(name, handler, help_text, example)
        _common(command)
        return command

    init = plain("init", cmd_init,
                 "Start a new corpus in DIR: kg.toml (title, base IRI, licence, negotiations, "
                 "folders), data/text/, data/curation/, data/entities.yaml with the "
                 "negotiations and the parties left for you, queries/ and a README.",
                 "kg init potsdam --title 'The Potsdam conference' "
                 "--negotiation potsdam-conference-1945")
    init.add_argument("dir", type=Path, metavar="DIR", help="the new project's folder")
    init.add_argument("--title", help="the corpus's title (default: the folder's name)")
    init.add_argument("--licence", default="CC-BY-4.0",
                      help="licence of the curation (default: CC-BY-4.0)")
    init.add_argument("--negotiation", action="append", default=[], metavar="KEY",
                      help="a negotiation the corpus is about, as a registry key (repeatable)")
    init.add_argument("--example", action="store_true",
                      help="add a tiny curated example document (an invented memorandum) "
                           "and the registry entries it names")
    schema_cmd = plain("schema", cmd_schema,
                       "Print the JSON Schema of curation files, of the entity registry or of "
                       "kg.toml (what editors use to check them as you type).",
                       "kg schema curation > curation.schema.json")
    schema_cmd.add_argument("kind", nargs="?", choices=["curation", "registry", "config"],
                            default="curation", help="which schema (default: curation)")
    schema_cmd.add_argument("--write", action="store_true",
                            help="regenerate the packaged schema files from kg/schema.py "
                                 "(for developers)")

    add("build", cmd_build,
        "Compile texts, curation and registry into build/asserted.{trig,nq,ttl,nt,jsonld} "
        "and build/context.jsonld; print coverage.", "kg build")
    infer = add("infer", cmd_infer,
                "Derive build/inferred.*: the entailments of the ontology's class and property "
                "hierarchies, domains and ranges (per document, cached; or the OWL 2 RL closure "
                "by owlrl, the reference) and the status rules in ontology/rules/, run on the "
                "working store.", "kg infer            # or: kg infer --reasoner owlrl")
    infer.add_argument("--reasoner", choices=["fast", "owlrl"], default="fast",
                       help="fast (default): per-document rules, the same triples as owlrl "
                            "on this ontology (tested); owlrl: the whole-graph OWL 2 RL "
                            "closure, the reference")
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
    site = add("site", cmd_site,
               "Write a static site to build/site/ from the built graph: a reading view per "
               "document, issue, party and entity pages, the stored questions, the ontology, "
               "shapes and dataset description (also build/void.ttl).", "kg site")
    site.add_argument("-o", "--output", type=Path, metavar="DIR",
                      help="where to write the site (default: BUILD-DIR/site)")
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
                    "Measure the pipeline end to end on corpora of N documents (copies of the "
                    "corpus): cold, warm (nothing changed) and after one edit, with time per "
                    "document and peak memory; --naive adds the whole-graph pipeline for the "
                    "ratio. --copies N gives the older stage-by-stage table of the whole-graph "
                    "pipeline.",
                    "kg bench --docs 30 90 --naive")
    bench_cmd.add_argument("--docs", type=at_least_one, nargs="+", metavar="N",
                           help="corpus sizes to measure (default 30)")
    bench_cmd.add_argument("--naive", action="store_true",
                           help="also run the whole-graph pipeline (slow: minutes at 90 docs)")
    bench_cmd.add_argument("--naive-max", type=at_least_one, default=90, metavar="N",
                           help="largest corpus the whole-graph pipeline runs on (default 90)")
    bench_cmd.add_argument("--copies", type=at_least_one, metavar="N",
                           help="stage by stage, the whole-graph pipeline on the corpus and on "
                                "N copies of it")
    bench_cmd.add_argument("--no-rdflib", action="store_true",
                           help="with --copies: skip the rdflib query baseline")
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
        if hasattr(args, "data"):
            _resolve(args)
        code = int(args.handler(args))
        sys.stdout.flush()  # here, so that a reader gone away is caught below
        return code
    except KgError as exc:
        sys.stderr.write(exc.render() + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130
    except BrokenPipeError:
        # The reader stopped early (`kg query --list | head`): stop quietly, as a Unix
        # tool ended by SIGPIPE does. Output still buffered goes nowhere at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
