"""The ``kg load`` and ``kg serve`` sub-commands, and the options to query a store.

``kg.cli`` calls :func:`register` with its ``add`` helper; ``kg query --endpoint``
uses :func:`add_endpoint_options`, :func:`default_graphs` and :func:`engine_from_args`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from kg.cli_args import AddCommand, positive_seconds
from kg.errors import EXIT_OK, InputError
from kg.namespace import (
    ENTITIES_GRAPH,
    INFERRED_GRAPH,
    LINKS_GRAPH,
    ONTOLOGY_GRAPH,
    WIKIDATA_GRAPH,
)
from kg.store import (
    AUTH_KINDS,
    DEFAULT_GRAPH_BASE,
    PROFILES,
    RemoteEngine,
    StoreClient,
    Timeouts,
    check_graph_base,
    connect,
    rebase,
)


def add_endpoint_options(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """``--endpoint`` and the options that say how to talk to the store."""
    group = parser.add_argument_group(
        "triplestore", "Credentials: KG_STORE_USER and KG_STORE_PASSWORD, or ~/.netrc.")
    group.add_argument("--endpoint", required=required, metavar="URL",
                       help="the store's base URL (required except for --profile "
                            "generic), e.g. http://127.0.0.1:7878 (Oxigraph), "
                            "http://127.0.0.1:8890 (Virtuoso), http://127.0.0.1:3030/ds "
                            "(Fuseki dataset)")
    group.add_argument("--profile", choices=sorted(PROFILES), default="oxigraph",
                       help="kind of store: where its endpoints are and how it "
                            "authenticates (default: oxigraph)")
    group.add_argument("--graph-base", default=DEFAULT_GRAPH_BASE, metavar="IRI",
                       help="IRI under which our named graphs live on the store "
                            f"(default: {DEFAULT_GRAPH_BASE})")
    group.add_argument("--timeout", type=positive_seconds, default=60.0, metavar="S",
                       help="seconds to wait for each answer (default: 60)")
    group.add_argument("--connect-timeout", type=positive_seconds, default=5.0, metavar="S",
                       help="seconds to wait for a connection (default: 5)")
    group.add_argument("--auth", choices=AUTH_KINDS, default=None,
                       help="override the profile's authentication (basic for Oxigraph and "
                            "Fuseki when credentials are set, digest for Virtuoso)")
    group.add_argument("--gsp-url", metavar="URL",
                       help="Graph Store Protocol URL (for --profile generic, or to override)")
    group.add_argument("--query-url", metavar="URL",
                       help="SPARQL query URL (for --profile generic, or to override)")
    group.add_argument("--update-url", metavar="URL",
                       help="SPARQL Update URL (optional for --profile generic; without it "
                            "each graph is replaced by its own PUT)")


def _client(args: argparse.Namespace) -> StoreClient:
    return connect(args.endpoint, args.profile, gsp_url=args.gsp_url,
                   query_url=args.query_url, update_url=args.update_url, auth=args.auth,
                   timeouts=Timeouts(args.connect_timeout, args.timeout))


def default_graphs(build_dir: Path, graph_base: str = DEFAULT_GRAPH_BASE) -> list[str]:
    """The graphs the embedded engine queries: documents, links, entities, inferred, ontology.

    Not the shapes. Document graphs are read from ``build_dir/asserted.trig``.
    """
    base = check_graph_base(graph_base)
    path = build_dir / "asserted.trig"
    try:
        names = {q.graph_name.value for q in ox.parse(path=str(path), format=ox.RdfFormat.TRIG)
                 if isinstance(q.graph_name, ox.NamedNode)}
    except FileNotFoundError:
        raise InputError(f"{path} does not exist",
                         hint="run `kg build` first (or pass --build-dir)") from None
    except (SyntaxError, ValueError) as exc:
        raise InputError(f"cannot parse {path}: {exc}", hint="run `kg build` again") from None
    fixed = {str(ENTITIES_GRAPH), str(INFERRED_GRAPH), str(ONTOLOGY_GRAPH)}
    linking = [str(g) for g in (LINKS_GRAPH, WIKIDATA_GRAPH) if str(g) in names]
    documents = sorted(names - fixed - set(linking))
    return [rebase(g, base) for g in
            [*documents, *linking, str(ENTITIES_GRAPH), str(INFERRED_GRAPH),
             str(ONTOLOGY_GRAPH)]]


def engine_from_args(args: argparse.Namespace,
                     default_graphs_: Sequence[str] | None = None) -> RemoteEngine:
    """A :class:`RemoteEngine` from the options of :func:`add_endpoint_options`.

    Without ``default_graphs_``, the graphs are :func:`default_graphs` of
    ``args.build_dir`` under ``args.graph_base``.
    """
    graphs = (list(default_graphs_) if default_graphs_ is not None
              else default_graphs(args.build_dir, args.graph_base))
    client = connect(args.endpoint, args.profile, gsp_url=args.gsp_url,
                     query_url=args.query_url, update_url=args.update_url, auth=args.auth,
                     timeouts=Timeouts(args.connect_timeout, args.timeout))
    return RemoteEngine.from_client(client, graphs)


def cmd_load(args: argparse.Namespace) -> int:
    """Load the build into the store, verify, print per-graph counts."""
    from kg.api import Project

    err = sys.stderr

    def progress(step: str, done: int, total: int) -> None:
        if err.isatty():
            err.write(f"\r{step} {done}/{total} graphs")
            err.flush()

    try:
        report = Project(args.paths, args.config).load(
            args.endpoint, profile=args.profile, graph_base=args.graph_base,
            progress=progress, gsp_url=args.gsp_url, query_url=args.query_url,
            update_url=args.update_url, auth=args.auth,
            timeouts=Timeouts(args.connect_timeout, args.timeout))
    finally:
        if err.isatty():
            err.write("\r\033[K")
    for note in report.notes:
        err.write(f"note: {note}\n")
    width = max(len(g) for g, _ in report.graphs)
    out = sys.stdout
    for graph, count in report.graphs:
        out.write(f"{graph:<{width}}  {count:>8} triples\n")
    how = ("staged, counted, swapped in one update" if report.staged
           else "one PUT per graph")
    out.write(f"verified: {len(report.graphs)} graphs, {report.triples} triples on "
              f"{report.endpoint} equal what was sent ({how}; {report.seconds:.2f} s)\n")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    """Start Oxigraph, load the build, serve until Ctrl-C."""
    from kg.serve import serve

    return serve(args.build_dir, args.ontology, port=args.port, location=args.location,
                 graph_base=check_graph_base(args.graph_base))


def register(add: AddCommand) -> None:
    """Add ``kg load`` and ``kg serve`` with kg.cli's ``add`` helper."""
    parser = add("load", cmd_load,
                 "Load build/ (documents, entities, links, Wikidata facts, inferred), the "
                 "ontology and the shapes into a triplestore, one named graph each, with the "
                 "SPARQL 1.1 Graph Store Protocol; verify the triple counts on the server.",
                 "KG_STORE_USER=dba KG_STORE_PASSWORD=dba kg load --profile virtuoso "
                 "--endpoint http://127.0.0.1:8890")
    add_endpoint_options(parser)

    from kg.serve import DEFAULT_PORT

    parser = add("serve", cmd_serve,
                 "Start a local Oxigraph server, load the build into it and serve the "
                 "YASGUI query page until Ctrl-C.",
                 "kg serve --port 7878   # then open http://127.0.0.1:7878/")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port on 127.0.0.1 (default: {DEFAULT_PORT})")
    parser.add_argument("--location", type=Path, default=None, metavar="DIR",
                        help="keep the database in DIR (default: a temporary folder, "
                             "deleted on exit)")
    parser.add_argument("--graph-base", default=DEFAULT_GRAPH_BASE, metavar="IRI",
                        help=f"IRI base of the named graphs (default: {DEFAULT_GRAPH_BASE})")


__all__ = ["add_endpoint_options", "default_graphs", "engine_from_args", "register"]
