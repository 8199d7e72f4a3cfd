"""``kg load``, ``kg serve`` and RemoteEngine against a real Oxigraph server on 127.0.0.1.

Error paths run against real HTTP: a closed port, and a scripted ``http.server``
standing in for a store that rejects credentials, is overloaded or fails.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import requests
from rdflib import Literal, URIRef

from kg.build import Paths
from kg.cli import embedded_engine
from kg.errors import EXIT_OK, EXIT_REMOTE, EXIT_USAGE, RemoteError, UsageError
from kg.namespace import ENTITIES_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH, entity
from kg.queries import bind, list_queries, parse_query_file, run
from kg.sparql import Engine, Results, Term
from kg.store import (
    DEFAULT_GRAPH_BASE,
    Part,
    RemoteEngine,
    Retry,
    StoreClient,
    Timeouts,
    connect,
    load,
    read_parts,
)
from tests.conftest import Project, may_be_empty
from tests.servers import ROOT, Answer, Oxigraph, Stub, free_port, kg_main

pytestmark = pytest.mark.server

QUERIES = ROOT / "queries"
SECRET = "s3cr3t-pässword"


@dataclass(frozen=True)
class Build:
    """The project's graph build into a temporary folder."""

    build_dir: Path
    ontology: Path

    def args(self) -> list[str]:
        return ["--build-dir", str(self.build_dir), "--ontology", str(self.ontology)]

    def parts(self) -> list[Part]:
        return read_parts(self.build_dir, self.ontology)

    def embedded(self) -> Engine:
        """The embedded engine exactly as `kg query` builds it."""
        return embedded_engine(Paths(ontology=self.ontology, queries=QUERIES,
                                     build=self.build_dir))


@pytest.fixture(scope="session")
def build(built: Project) -> Build:
    """The session's build (tests/conftest.py) as this module uses it."""
    return Build(built.build, ROOT / "ontology")


@pytest.fixture
def oxigraph(tmp_path: Path) -> Iterator[Oxigraph]:
    server = Oxigraph(tmp_path / "oxigraph").start()
    yield server
    server.stop()


def client_for(server: Oxigraph, **kwargs: object) -> StoreClient:
    return connect(server.url, "oxigraph", auth="none", **kwargs)  # type: ignore[arg-type]


def expected_counts(parts: list[Part], base: str = DEFAULT_GRAPH_BASE) -> dict[str, int]:
    return {p.graph(base): p.triples for p in parts}


# --- loading ---------------------------------------------------------------------------

def test_load_puts_each_part_in_its_graph_and_verifies(
        build: Build, oxigraph: Oxigraph, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    assert kg_main(["load", "--endpoint", oxigraph.url, *build.args()]) == EXIT_OK
    seconds = time.monotonic() - started
    out = capsys.readouterr().out
    parts = build.parts()
    expected = expected_counts(parts)
    assert str(ENTITIES_GRAPH) in expected and str(ONTOLOGY_GRAPH) in expected
    assert any(g.startswith(DEFAULT_GRAPH_BASE + "doc/") for g in expected)
    # Counted independently of kg: every graph, nothing else (no staging left over).
    assert oxigraph.graph_counts() == expected
    for graph, count in expected.items():
        assert f"{graph}  " in out and f"{count} triples" in out
    assert "verified: " in out and f"{sum(expected.values())} triples" in out
    print(f"load of {sum(expected.values())} triples in {len(expected)} graphs: {seconds:.2f} s")


def test_reload_changes_nothing(build: Build, oxigraph: Oxigraph) -> None:
    assert kg_main(["load", "--endpoint", oxigraph.url, *build.args()]) == EXIT_OK
    first = oxigraph.snapshot()
    assert kg_main(["load", "--endpoint", oxigraph.url, *build.args()]) == EXIT_OK
    # Same triples in the same graphs (blank nodes compared up to renaming), no
    # duplicates, no leftover staging graphs.
    assert oxigraph.snapshot() == first
    assert len(oxigraph.dump()) == sum(p.triples for p in build.parts())
    assert set(first) == set(expected_counts(build.parts()))


def test_graph_base_renames_every_graph(build: Build, oxigraph: Oxigraph) -> None:
    base = "http://example.org/kg/"
    assert kg_main(["load", "--endpoint", oxigraph.url, "--graph-base", base,
                    *build.args()]) == EXIT_OK
    counts = oxigraph.graph_counts()
    assert counts == expected_counts(build.parts(), base)
    assert all(g.startswith(base) for g in counts)


def test_without_update_endpoint_each_graph_is_put_and_verified(
        build: Build, oxigraph: Oxigraph, capsys: pytest.CaptureFixture[str]) -> None:
    assert kg_main(["load", "--profile", "generic", "--gsp-url", f"{oxigraph.url}/store",
                    "--query-url", f"{oxigraph.url}/query", *build.args()]) == EXIT_OK
    captured = capsys.readouterr()
    assert "one PUT per graph" in captured.out
    assert "no SPARQL Update endpoint" in captured.err
    assert oxigraph.graph_counts() == expected_counts(build.parts())


def test_oxigraph_applies_one_update_request_all_or_nothing(oxigraph: Oxigraph) -> None:
    """The fact the staged swap relies on: a failing operation undoes the earlier ones."""
    client = client_for(oxigraph)
    client.put_graph("http://t/final", b'<http://t/s> <http://t/p> "old" .\n')
    client.put_graph("http://t/staging", b'<http://t/s> <http://t/p> "new" .\n')
    response = oxigraph.update("MOVE <http://t/staging> TO <http://t/final> ; "
                               "MOVE <http://t/missing> TO <http://t/other>")
    assert response.status_code >= 400
    assert oxigraph.select("SELECT ?o WHERE { GRAPH <http://t/final> { ?s ?p ?o } }") == [
        {"o": "old"}]


def test_verification_detects_a_tampered_graph(build: Build, oxigraph: Oxigraph) -> None:
    parts = build.parts()
    assert kg_main(["load", "--endpoint", oxigraph.url, *build.args()]) == EXIT_OK
    before = oxigraph.snapshot()

    def tamper(step: str, part: Part) -> None:
        if part.key == "entities":  # someone writes into our staging graph
            oxigraph.update(f"INSERT DATA {{ GRAPH <{DEFAULT_GRAPH_BASE}staging/t1/entities> "
                            "{ <http://t/s> <http://t/p> <http://t/o> } }").raise_for_status()

    with pytest.raises(RemoteError) as caught:
        load(parts, client_for(oxigraph), progress=tamper, run_id="t1")
    message = caught.value.render()
    entities = parts[[p.key for p in parts].index("entities")]
    assert "verification failed in the staging graphs" in message
    assert f"staging/t1/entities>: sent {entities.triples}, the server has " \
           f"{entities.triples + 1}" in message
    assert oxigraph.snapshot() == before  # finals untouched, staging dropped


def test_verification_detects_a_miscount_after_the_swap(
        build: Build, oxigraph: Oxigraph, monkeypatch: pytest.MonkeyPatch) -> None:
    original = StoreClient.count

    def count(self: StoreClient, graphs: list[str], *, chunk: int = 100) -> dict[str, int]:
        found = original(self, graphs, chunk=chunk)
        final = str(ENTITIES_GRAPH)
        if final in found:
            found[final] -= 1  # the server "lost" a triple of a final graph
        return found

    monkeypatch.setattr(StoreClient, "count", count)
    with pytest.raises(RemoteError, match="verification failed after the swap"):
        load(build.parts(), client_for(oxigraph))


def test_failed_load_leaves_final_graphs_untouched(build: Build, tmp_path: Path) -> None:
    """The server dies after the first part is staged: an error, and the old graphs stay."""
    server = Oxigraph(tmp_path / "db").start()
    try:
        parts = build.parts()
        load(parts, client_for(server))
        before = server.snapshot()
        extra = b'<http://t/s> <http://t/p> "only in the failed load" .\n'
        changed = [replace(p, ntriples=p.ntriples + extra, triples=p.triples + 1)
                   for p in parts]

        def crash(step: str, part: Part) -> None:
            if part is changed[0]:
                server.kill()

        with pytest.raises(RemoteError) as caught:
            load(changed, client_for(server, retry=Retry((0.1,))), progress=crash)
        assert server.url in caught.value.message
        assert "the final graphs were not replaced" in str(caught.value.hint)
    finally:
        server.stop()
    restarted = Oxigraph(tmp_path / "db", server.port).start()
    try:
        after = restarted.snapshot()
        finals = {g: triples for g, triples in after.items() if "/staging/" not in g}
        assert finals == before  # the failed load changed no final graph
    finally:
        restarted.stop()


# --- querying ----------------------------------------------------------------------------

def comparable(results: Results) -> tuple[list[str], list[tuple[str, ...]]]:
    """Variables, and rows as sorted tuples of N3 terms ("" for unbound)."""
    def n3(term: Term | None) -> str:
        return "" if term is None else term.n3()

    rows = [tuple(n3(row.get(v)) for v in results.variables) for row in results.rows]
    return results.variables, sorted(rows)


@pytest.fixture(scope="module")
def loaded(build: Build, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oxigraph]:
    server = Oxigraph(tmp_path_factory.mktemp("queried")).start()
    load(build.parts(), client_for(server))
    yield server
    server.stop()


def remote_engine(server: Oxigraph, build: Build) -> RemoteEngine:
    from kg.cli_store import default_graphs

    return RemoteEngine(server.url, "oxigraph", default_graphs(build.build_dir),
                        timeout=Timeouts(5, 30))


def sample_bindings(query_file: Path) -> dict[str, Term]:
    """Values for a stored query's required parameters (optional ones stay unbound): its
    first `#+ example:` when it declares one (changes needs two different dates), else a
    sample value per kind."""
    samples = {"iri": "stalin", "date": "1945-07-11", "string": "Soong", "integer": "1"}
    query = parse_query_file(query_file)
    if query.examples:
        return bind(query, [f"{k}={v}" for k, v in query.examples[0].items()])
    raw = [f"{p.name}={samples[p.kind]}" for p in query.params.values() if not p.optional]
    return bind(query, raw)


@pytest.mark.parametrize("query_file", sorted(QUERIES.glob("*.rq")), ids=lambda p: p.stem)
def test_stored_query_same_answer_remote_and_embedded(
        query_file: Path, build: Build, loaded: Oxigraph) -> None:
    query = parse_query_file(query_file)
    bindings = sample_bindings(query_file)
    embedded = run(query, build.embedded(), bindings)
    remote = run(query, remote_engine(loaded, build), bindings)
    if not query.is_violation_check and not may_be_empty(query.name):
        assert embedded.rows, "a competency question with no answer compares nothing"
    assert comparable(remote) == comparable(embedded)


OWN_QUERIES = {
    "classes": "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class "
               "ORDER BY ?class",
    "labels": "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
              "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s ?label",
    "graphs": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g "
              "ORDER BY ?g",
    "literals": "SELECT ?o WHERE { ?s ?p ?o FILTER isLiteral(?o) } ORDER BY ?o",
}


@pytest.mark.parametrize("name", sorted(OWN_QUERIES))
def test_remote_engine_matches_embedded(name: str, build: Build, loaded: Oxigraph) -> None:
    embedded = build.embedded().select(OWN_QUERIES[name])
    remote = remote_engine(loaded, build).select(OWN_QUERIES[name])
    assert embedded.rows
    assert comparable(remote) == comparable(embedded)


def test_remote_dataset_is_our_graphs_without_shapes(build: Build, loaded: Oxigraph) -> None:
    graphs = remote_engine(loaded, build).select(OWN_QUERIES["graphs"]).values("g")
    assert URIRef(str(ONTOLOGY_GRAPH)) in graphs
    assert URIRef(str(SHAPES_GRAPH)) not in graphs  # on the server, not in the dataset
    if SHAPES_GRAPH in [URIRef(g) for g in loaded.graph_counts()]:
        assert len(loaded.graph_counts()) == len(graphs) + 1


def test_remote_engine_binds_parameters(build: Build, loaded: Oxigraph) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p ?o"
    bindings: dict[str, Term] = {"s": entity("stalin")}
    embedded = build.embedded().select(query, bindings)
    remote = remote_engine(loaded, build).select(query, bindings)
    assert embedded.rows
    assert comparable(remote) == comparable(embedded)
    # A literal with quotes and a newline is escaped, never pasted into the query.
    tricky: dict[str, Term] = {"o": Literal('say "yes" }\n DROP ALL')}
    assert remote_engine(loaded, build).select(
        "SELECT ?s WHERE { ?s ?p ?o }", tricky).rows == []


def test_remote_syntax_error_is_an_input_error(build: Build, loaded: Oxigraph) -> None:
    from kg.sparql import SyntaxProblem

    with pytest.raises(SyntaxProblem, match="rejected the query"):
        remote_engine(loaded, build).select("SELECT ?s WHERE { ?s ?p }")


def test_kg_query_with_endpoint_prints_what_the_embedded_engine_prints(
        build: Build, loaded: Oxigraph, capsys: pytest.CaptureFixture[str]) -> None:
    name = "who-conceded-what"
    if not (QUERIES / f"{name}.rq").exists():
        pytest.fail(f"queries/{name}.rq is gone: pick another stored query for this test")
    common = ["query", name, "--format", "csv", "--queries", str(QUERIES), *build.args()]
    assert kg_main(common) == EXIT_OK
    embedded = capsys.readouterr().out
    assert kg_main([*common, "--endpoint", loaded.url]) == EXIT_OK
    remote = capsys.readouterr().out
    assert embedded.count("\n") > 1
    assert sorted(remote.splitlines()) == sorted(embedded.splitlines())


# --- serve -------------------------------------------------------------------------------

def test_serve_loads_prints_the_page_and_stops_on_ctrl_c(build: Build, tmp_path: Path) -> None:
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.servers", "serve", "--port", str(port),
         "--location", str(tmp_path / "served"), *build.args()],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        lines = []
        for line in child.stdout:
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        assert f"YASGUI: http://127.0.0.1:{port}/\n" in lines, lines
        page = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.ok and "<html" in page.text.lower()
        server = Oxigraph(tmp_path, port)
        assert server.graph_counts() == expected_counts(build.parts())
        child.send_signal(signal.SIGINT)
        # communicate() drains both pipes while waiting: a child blocked on a full
        # stderr pipe cannot exit.
        _, errors = child.communicate(timeout=60)
        assert child.returncode == 0, errors
        assert "Stopped" in errors
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


def test_serve_without_oxigraph_binary_says_how_to_install(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from kg.errors import InputError
    from kg.serve import find_oxigraph

    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError, match="oxigraph server binary was not found") as caught:
        find_oxigraph()
    assert "pip install" in str(caught.value.hint)


def test_serve_on_a_busy_port_is_a_usage_error(build: Build, oxigraph: Oxigraph,
                                               tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = kg_main(["serve", "--port", str(oxigraph.port), "--location",
                    str(tmp_path / "other"), *build.args()])
    assert code == EXIT_USAGE
    assert f"port {oxigraph.port} is already in use" in capsys.readouterr().err


# --- errors a user can hit -----------------------------------------------------------------

def test_closed_port_is_a_remote_error_naming_the_endpoint(
        build: Build, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    assert kg_main(["load", "--endpoint", url, *build.args()]) == EXIT_REMOTE
    err = capsys.readouterr().err
    assert f"Error: cannot connect to {url}/store (3 attempts)" in err
    assert "check that the server is running" in err
    assert "Traceback" not in err
    assert time.monotonic() - started < 10  # 3 tries, 0.5 s and 1 s apart


def digest_challenge(seen: object) -> Answer:
    return Answer(401, b"Unauthorized", {
        "WWW-Authenticate": 'Digest realm="test", nonce="abc123", qop="auth", algorithm=MD5'})


def test_wrong_digest_credentials_never_show_the_password(
        build: Build, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("KG_STORE_USER", "dba")
    monkeypatch.setenv("KG_STORE_PASSWORD", SECRET)
    caplog.set_level("DEBUG")
    with Stub(digest_challenge) as stub:
        code = kg_main(["load", "--profile", "virtuoso", "--endpoint", stub.url,
                        *build.args()])
    captured = capsys.readouterr()
    assert code == EXIT_REMOTE
    assert f"Error: {stub.url}/sparql-graph-crud-auth rejected the credentials (401)" \
           in captured.err
    assert "KG_STORE_USER/KG_STORE_PASSWORD" in captured.err
    # Digest was used: the second request answered the challenge, without the password.
    answered = [s for s in stub.seen if "Authorization" in s.headers]
    assert answered and answered[0].headers["Authorization"].startswith('Digest username="dba"')
    for text in (captured.out, captured.err, caplog.text,
                 *(str(s.headers) for s in stub.seen)):
        assert SECRET not in text


def test_wrong_basic_credentials_never_show_the_password(
        build: Build, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import base64

    monkeypatch.setenv("KG_STORE_USER", "admin")
    monkeypatch.setenv("KG_STORE_PASSWORD", SECRET)
    with Stub([Answer(403, f"forbidden for {SECRET}".encode())]) as stub:
        code = kg_main(["load", "--profile", "fuseki", "--endpoint", f"{stub.url}/ds",
                        *build.args()])
    err = capsys.readouterr().err
    assert code == EXIT_REMOTE
    assert f"{stub.url}/ds/data refused access (403)" in err
    assert stub.seen[0].headers["Authorization"].startswith("Basic ")
    encoded = base64.b64encode(f"admin:{SECRET}".encode()).decode()
    assert SECRET not in err and encoded not in err


def test_missing_credentials_say_where_to_put_them(
        build: Build, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("KG_STORE_USER", raising=False)
    monkeypatch.delenv("KG_STORE_PASSWORD", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with Stub(digest_challenge) as stub:
        code = kg_main(["load", "--profile", "virtuoso", "--endpoint", stub.url,
                        *build.args()])
    assert code == EXIT_REMOTE
    assert "no credentials were given: set KG_STORE_USER and KG_STORE_PASSWORD" in \
        capsys.readouterr().err


def test_credentials_from_netrc_are_used_for_digest(
        build: Build, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("KG_STORE_USER", raising=False)
    monkeypatch.delenv("KG_STORE_PASSWORD", raising=False)
    netrc_file = tmp_path / "netrc"
    netrc_file.write_text(f"machine 127.0.0.1 login curator password {SECRET}\n")
    netrc_file.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc_file))
    with Stub(digest_challenge) as stub:
        code = kg_main(["load", "--profile", "virtuoso", "--endpoint", stub.url,
                        *build.args()])
    err = capsys.readouterr().err
    assert code == EXIT_REMOTE
    assert 'Digest username="curator"' in stub.seen[1].headers["Authorization"]
    assert str(netrc_file) in err and SECRET not in err


def test_credentials_in_the_url_are_refused_without_echoing_them(
        build: Build, capsys: pytest.CaptureFixture[str]) -> None:
    code = kg_main(["load", "--endpoint", f"http://dba:{SECRET}@127.0.0.1:1", *build.args()])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert "--endpoint must not contain a user name or password" in err
    assert SECRET not in err


SELECT_JSON = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"uri","value":"http://t/a"}}]}}'
JSON = {"Content-Type": "application/sparql-results+json"}


def stub_engine(stub: Stub, read_timeout: float = 5.0) -> RemoteEngine:
    return RemoteEngine(stub.url, "oxigraph", ["http://t/g"], timeout=Timeouts(2, read_timeout))


def test_503_is_retried_then_answers() -> None:
    with Stub([Answer(503, b"busy"), Answer(200, SELECT_JSON, JSON)]) as stub:
        results = stub_engine(stub).select("SELECT ?x WHERE { ?x ?p ?o }")
    assert results.values("x") == [URIRef("http://t/a")]
    assert len(stub.seen) == 2
    form = stub.seen[1].body.decode()
    assert "default-graph-uri=http%3A%2F%2Ft%2Fg" in form  # the dataset is our graphs
    assert "named-graph-uri=http%3A%2F%2Ft%2Fg" in form


def test_always_503_fails_after_three_tries() -> None:
    started = time.monotonic()
    with Stub([Answer(503, b"busy")]) as stub, pytest.raises(RemoteError) as caught:
        stub_engine(stub).select("SELECT ?x WHERE { ?x ?p ?o }")
    assert len(stub.seen) == 3
    assert f"{stub.url}/query answered 503 while running a query, 3 times" in \
        caught.value.message
    assert caught.value.exit_code == EXIT_REMOTE
    assert time.monotonic() - started < 5


def test_500_is_not_retried_and_shows_the_server_message() -> None:
    with Stub([Answer(500, b"storage exploded")]) as stub, \
            pytest.raises(RemoteError) as caught:
        stub_engine(stub).select("SELECT ?x WHERE { ?x ?p ?o }")
    assert len(stub.seen) == 1
    assert "failed with 500" in caught.value.message
    assert "storage exploded" in caught.value.message


def test_read_timeout_is_retried_and_bounded() -> None:
    started = time.monotonic()
    with Stub([Answer(200, SELECT_JSON, JSON, delay=1.0)]) as stub, \
            pytest.raises(RemoteError) as caught:
        stub_engine(stub, read_timeout=0.2).select("SELECT ?x WHERE { ?x ?p ?o }")
    assert "did not answer within 0.2 s (3 attempts)" in caught.value.message
    assert "raise --timeout" in str(caught.value.hint)
    assert len(stub.seen) == 3
    assert time.monotonic() - started < 8


@pytest.mark.parametrize(("status", "message", "hint"), [
    (404, "answered 404 Not Found while replacing graph", "check --endpoint and --profile"),
    (413, "as too large (413) while replacing graph", "client_max_body_size"),
])
def test_store_refusals_name_the_url_and_what_to_check(
        build: Build, capsys: pytest.CaptureFixture[str],
        status: int, message: str, hint: str) -> None:
    with Stub([Answer(status, b"no")]) as stub:
        code = kg_main(["load", "--endpoint", stub.url, *build.args()])
    err = capsys.readouterr().err
    assert code == EXIT_REMOTE
    assert f"Error: {stub.url}/store " in err and message in err and hint in err
    assert len([s for s in stub.seen if s.method == "PUT"]) == 1  # not retried
    # The failed load tried to drop what it had staged.
    assert any(s.method == "POST" and b"DROP+SILENT+GRAPH" in s.body for s in stub.seen)


@pytest.mark.parametrize(("argv", "message"), [
    (["--profile", "fuseki", "--endpoint", "http://127.0.0.1:3030"], "names no dataset"),
    (["--profile", "generic", "--query-url", "http://127.0.0.1:1/q"], "needs --gsp-url"),
    (["--profile", "virtuoso"], "needs --endpoint URL"),
    (["--endpoint", "ftp://127.0.0.1/"], "is not an http(s) URL"),
    (["--endpoint", "http://127.0.0.1:1", "--graph-base", "urn:x"], "not an IRI ending in"),
])
def test_bad_options_are_usage_errors(build: Build, capsys: pytest.CaptureFixture[str],
                                      argv: list[str], message: str) -> None:
    assert kg_main(["load", *argv, *build.args()]) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_missing_build_is_an_input_error(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = kg_main(["load", "--endpoint", "http://127.0.0.1:1", "--build-dir",
                    str(tmp_path), "--ontology", str(ROOT / "ontology")])
    assert code == 3
    assert "asserted.trig does not exist" in capsys.readouterr().err


def test_default_graphs_are_documents_entities_inferred_ontology(build: Build) -> None:
    from kg.cli_store import default_graphs

    graphs = default_graphs(build.build_dir, "http://example.org/g/")
    assert graphs[-3:] == ["http://example.org/g/entities", "http://example.org/g/inferred",
                           "http://example.org/g/ontology"]
    assert graphs[:-3] and all(g.startswith("http://example.org/g/doc/")
                               or g in ("http://example.org/g/links",
                                        "http://example.org/g/wikidata")
                               for g in graphs[:-3])
    with pytest.raises(UsageError):
        default_graphs(build.build_dir, "not an iri")


def test_stored_queries_folder_is_what_the_parametrised_test_covers() -> None:
    """Guard against a filter shrinking the parametrised test: it covers every .rq."""
    assert [q.path for q in list_queries(QUERIES)] == sorted(QUERIES.glob("*.rq"))
