"""Load the built graph into a real triplestore and query it there.

``kg load`` pushes every part of the build -- one named graph per document, the
entities, the inferred triples, the ontology and (when ``ontology/shapes.ttl``
exists) the shapes -- to a server with the SPARQL 1.1 Graph Store HTTP Protocol,
then counts the triples of each graph on the server and fails if a count differs
from what was sent. :class:`RemoteEngine` asks the same stored queries through the
SPARQL 1.1 Protocol, with the default graph set to the union of our graphs.

How a load stays safe
---------------------

A load never replaces a final graph before everything is on the server and counted:

1. every part is PUT into a fresh staging graph ``<base>staging/<run-id>/<part>``;
2. the staging graphs are counted and compared with what was sent;
3. all final graphs are replaced by ONE SPARQL Update request
   (``MOVE SILENT <staging> TO <final>; ...``);
4. the final graphs are counted again.

On any failure before step 3 the staging graphs are dropped (best effort: a server
that died cannot be cleaned; its leftovers sit under ``<base>staging/`` and never
under a final name) and the final graphs are untouched. A PUT replaces a graph, so
loading the same build twice leaves the same triples (idempotent).

If a store has no SPARQL Update endpoint (``--profile generic`` without
``--update-url``), each final graph is replaced by its own PUT: each graph is then
either wholly old or wholly new, but a failure halfway leaves some graphs new and
others old. The command says so when it takes that path.

What each store guarantees (as observed on this machine)
--------------------------------------------------------

* **Oxigraph** (0.5): every HTTP request is one transaction. A PUT replaces its graph
  atomically, and a SPARQL Update request with several operations is all or nothing:
  ``MOVE <a> TO <b>; MOVE <missing> TO <c>`` fails with 500 and leaves ``<b>``
  unchanged (``tests/test_store.py`` checks this). The swap in step 3 is therefore
  atomic across all graphs.
* **Virtuoso** (7.2.5): a PUT to ``/sparql-graph-crud-auth`` replaces one graph. A
  SPARQL Update request is *not* all or nothing across operations: in
  ``MOVE <a> TO <b>; LOAD <unreachable>`` the MOVE stays applied although the request
  fails, so each operation commits on its own. The staging step still guarantees
  that nothing is swapped before all the data is on the server and counted; the swap
  itself is a run of server-side moves with no upload in between, so the window
  in which some graphs are new and others old is short but not zero. A failure
  inside it is reported by the final count.
* **Fuseki** (TDB2): every HTTP request, including a multi-operation SPARQL Update,
  runs in one TDB2 write transaction, so the swap is atomic as with Oxigraph (from
  Fuseki's documentation; not measured here, Fuseki is not installed).

Blank nodes: each part is sent as its own N-Triples document, so a blank node shared
between two graphs of the build would become two nodes on the server. The build
mints IRIs for everything it identifies, so this does not arise today.

Credentials come from ``KG_STORE_USER`` and ``KG_STORE_PASSWORD`` or from
``~/.netrc`` (or the file named by ``NETRC``); they are never printed and never part
of an error message.
"""

from __future__ import annotations

import netrc
import os
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import requests
from rdflib import Graph

from kg.errors import InputError, RemoteError, UsageError
from kg.namespace import GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH
from kg.queries import inline_values
from kg.sparql import Results, SyntaxProblem, Term, parse_json_results

DEFAULT_GRAPH_BASE = str(GRAPH)
ENV_USER = "KG_STORE_USER"
ENV_PASSWORD = "KG_STORE_PASSWORD"  # noqa: S105 - the name of a variable, not a secret
AUTH_KINDS = ("none", "basic", "digest")


# --- store profiles -------------------------------------------------------------------

@dataclass(frozen=True)
class Profile:
    """Where a kind of store keeps its endpoints, relative to ``--endpoint``.

    ``None`` means the store has no such endpoint by default (``generic``: every URL
    must be given).
    """

    name: str
    gsp_path: str | None
    query_path: str | None
    update_path: str | None
    auth: str = "none"
    graph_param: str = "graph"
    content_type: str = "application/n-triples"
    needs_dataset: bool = False
    note: str = ""


PROFILES: dict[str, Profile] = {
    "oxigraph": Profile(
        "oxigraph", "store", "query", "update",
        note="Oxigraph server: /store, /query, /update; no authentication by default"),
    "virtuoso": Profile(
        "virtuoso", "sparql-graph-crud-auth", "sparql", "sparql-auth", auth="digest",
        content_type="text/turtle",
        note="Virtuoso: writes need HTTP digest authentication (a user with the "
             "SPARQL_UPDATE role, e.g. dba)"),
    "fuseki": Profile(
        "fuseki", "data", "sparql", "update", needs_dataset=True,
        note="Fuseki: --endpoint is the dataset URL, e.g. http://127.0.0.1:3030/ds; basic "
             "authentication if configured"),
    "generic": Profile(
        "generic", None, None, None,
        note="any SPARQL 1.1 store: give --gsp-url and --query-url (and --update-url for an "
             "all-or-nothing swap)"),
}


@dataclass(frozen=True)
class Endpoints:
    """The resolved URLs of one store (never with credentials in them)."""

    base: str
    gsp: str | None
    query: str
    update: str | None


def _check_url(url: str, option: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"{option} must not contain a user name or password",
                         hint=f"remove them from the URL and set {ENV_USER} and "
                              f"{ENV_PASSWORD}, or add the host to ~/.netrc")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{option}: {url!r} is not an http(s) URL",
                         hint="write e.g. http://127.0.0.1:7878")
    return url


def resolve_endpoints(endpoint: str | None, profile: Profile, *, gsp_url: str | None = None,
                      query_url: str | None = None, update_url: str | None = None,
                      for_query: bool = False) -> Endpoints:
    """The store's URLs: the profile's paths under ``endpoint``, or the explicit URLs.

    ``for_query``: only the query URL is needed (no Graph Store Protocol URL).

    >>> resolve_endpoints("http://127.0.0.1:7878", PROFILES["oxigraph"]).gsp
    'http://127.0.0.1:7878/store'
    >>> resolve_endpoints("http://127.0.0.1:3030/ds/", PROFILES["fuseki"]).query
    'http://127.0.0.1:3030/ds/sparql'
    """
    base = ""
    if endpoint is not None:
        base = _check_url(endpoint, "--endpoint").rstrip("/")
        if profile.needs_dataset and urllib.parse.urlsplit(base).path in ("", "/"):
            raise UsageError(f"--endpoint {base} names no dataset",
                             hint=f"for --profile {profile.name} give the dataset URL, "
                                  "e.g. http://127.0.0.1:3030/ds")

    def url(explicit: str | None, path: str | None, option: str) -> str | None:
        if explicit:
            return _check_url(explicit, option)
        if path is None or not base:
            return None
        return f"{base}/{path}"

    gsp = url(gsp_url, profile.gsp_path, "--gsp-url")
    query = url(query_url, profile.query_path, "--query-url")
    update = url(update_url, profile.update_path, "--update-url")
    needed = [("--query-url", query)] + ([] if for_query else [("--gsp-url", gsp)])
    if any(u is None for _, u in needed) and not base and profile.gsp_path is not None:
        raise UsageError(f"--profile {profile.name} needs --endpoint URL (the store's base URL)",
                         hint=profile.note)
    if any(u is None for _, u in needed):
        missing = " and ".join(o for o, u in needed if u is None)
        raise UsageError(f"--profile {profile.name} needs {missing}"
                         + ("" if base else " (or --endpoint)"),
                         hint=profile.note)
    assert query is not None
    return Endpoints(base or query, gsp, query, update)


# --- credentials ----------------------------------------------------------------------

@dataclass(frozen=True)
class Credentials:
    """A user and password; the password never appears in ``repr`` or messages."""

    user: str
    password: str = field(repr=False)
    source: str = ""


def find_credentials(url: str, environ: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials for ``url``: ``KG_STORE_USER``/``KG_STORE_PASSWORD``, else ``~/.netrc``."""
    env = os.environ if environ is None else environ
    user, password = env.get(ENV_USER), env.get(ENV_PASSWORD)
    if user or password:
        if not (user and password is not None):
            raise UsageError(f"{ENV_USER} and {ENV_PASSWORD} must be set together",
                             hint="set both, or neither to use ~/.netrc")
        return Credentials(user, password, f"{ENV_USER}/{ENV_PASSWORD}")
    path = Path(env["NETRC"]) if env.get("NETRC") else Path.home() / ".netrc"
    if not path.exists():
        return None
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (netrc.NetrcParseError, OSError) as exc:
        # The parse error names the file and line, never the file's content.
        reason = exc.msg if isinstance(exc, netrc.NetrcParseError) else exc.strerror
        raise InputError(f"cannot read {path}: {reason}",
                         hint="fix the file, or set KG_STORE_USER and KG_STORE_PASSWORD") from None
    if entry is None:
        return None
    login, _account, secret = entry
    return Credentials(login or "", secret or "", str(path))


# --- HTTP with retries and clear errors ---------------------------------------------

@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for a connection and for each answer."""

    connect: float = 5.0
    read: float = 60.0


@dataclass(frozen=True)
class Retry:
    """Transient failures (connection errors, timeouts, 502/503/504) are retried."""

    delays: tuple[float, ...] = (0.5, 1.0)

    @property
    def tries(self) -> int:
        return len(self.delays) + 1


TRANSIENT_STATUS = frozenset({502, 503, 504})


def _snippet(text: str, limit: int = 300) -> str:
    return " ".join(text.split())[:limit]


class StoreClient:
    """Talks to one store: Graph Store Protocol, SPARQL queries and updates."""

    def __init__(self, endpoints: Endpoints, profile: Profile,
                 credentials: Credentials | None = None, timeouts: Timeouts | None = None,
                 retry: Retry | None = None, auth_kind: str | None = None) -> None:
        self.endpoints = endpoints
        self.profile = profile
        self.timeouts = timeouts or Timeouts()
        self.retry = retry or Retry()
        self.auth_kind = auth_kind or profile.auth
        if self.auth_kind == "none" and credentials is not None:
            self.auth_kind = "basic"  # e.g. Oxigraph or Fuseki behind a proxy
        self._credentials = credentials
        self.session = requests.Session()
        self.session.trust_env = True  # proxies; netrc is read by find_credentials
        self._auth: requests.auth.AuthBase | None = None
        if credentials is not None:
            if self.auth_kind == "digest":
                self._auth = requests.auth.HTTPDigestAuth(credentials.user, credentials.password)
            else:
                self._auth = requests.auth.HTTPBasicAuth(credentials.user, credentials.password)
        else:
            # requests would otherwise apply ~/.netrc as basic auth on its own.
            self._auth = _NoAuth()

    def close(self) -> None:
        self.session.close()

    # -- errors --

    def _safe(self, text: str) -> str:
        """Text with the password (and its encodings) removed."""
        if self._credentials and self._credentials.password:
            secret = self._credentials.password
            for form in {secret, urllib.parse.quote(secret), urllib.parse.quote_plus(secret)}:
                text = text.replace(form, "***")
        return text

    def _error(self, message: str, hint: str) -> RemoteError:
        return RemoteError(self._safe(message), hint=self._safe(hint))

    def _auth_hint(self) -> str:
        if self._credentials is None:
            sends = ("sends no authentication unless credentials are set"
                     if self.auth_kind == "none" else f"uses {self.auth_kind} authentication")
            return (f"no credentials were given: set {ENV_USER} and {ENV_PASSWORD}, or add "
                    f"the host to ~/.netrc (the {self.profile.name} profile {sends})")
        return (f"check the user and password from {self._credentials.source} and that the "
                f"user may write ({self.auth_kind} authentication; {self.profile.note})")

    def _status_error(self, response: requests.Response, url: str, what: str,
                      body_size: int) -> RemoteError:
        status = response.status_code
        detail = _snippet(response.text)
        if status in (401, 403):
            word = "rejected the credentials" if status == 401 else "refused access"
            hint = self._auth_hint()
            if status == 403:
                hint = ("the server may be read-only (`kg serve` and `oxigraph serve-read-only` "
                        "are; load into `oxigraph serve` or a writable store), or " + hint)
            return self._error(f"{url} {word} ({status}) while {what}", hint)
        if status == 404:
            return self._error(f"{url} answered 404 Not Found while {what}",
                               f"check --endpoint and --profile {self.profile.name} "
                               f"({self.profile.note})")
        if status == 413:
            return self._error(f"{url} refused a {body_size}-byte request as too large "
                               f"(413) while {what}",
                               "raise the server's (or its proxy's) request size limit, e.g. "
                               "nginx client_max_body_size")
        if status in TRANSIENT_STATUS:
            return self._error(f"{url} answered {status} while {what}, "
                               f"{self.retry.tries} times",
                               "the server or a proxy in front of it is overloaded or down; "
                               "try again later")
        said = f": {detail}" if detail else " (empty answer)"
        if status >= 500:
            return self._error(f"{url} failed with {status} while {what}{said}",
                               "check the server's log")
        return self._error(f"{url} answered {status} while {what}{said}",
                           f"check --profile {self.profile.name} and the server's log")

    def request(self, method: str, url: str, *, what: str,
                params: Mapping[str, str] | None = None,
                data: bytes | list[tuple[str, str]] | None = None,
                headers: Mapping[str, str] | None = None, retry: bool = True,
                ok: Iterable[int] = ()) -> requests.Response:
        """One HTTP request, retried on transient failures; any failure is a RemoteError.

        ``what`` says what the request was for ("replacing graph <g>") in messages.
        Statuses in ``ok`` are returned instead of raised (besides 2xx).
        """
        body_size = len(data) if isinstance(data, bytes) else 0
        tries = self.retry.tries if retry else 1
        accepted = set(ok)
        failure: RemoteError | None = None
        for attempt in range(tries):
            if attempt:
                time.sleep(self.retry.delays[attempt - 1])
            try:
                response = self.session.request(
                    method, url, params=params, data=data, headers=dict(headers or {}),
                    auth=self._auth, timeout=(self.timeouts.connect, self.timeouts.read))
            except requests.ConnectTimeout:
                failure = self._error(
                    f"could not connect to {url} within {self.timeouts.connect:g} s "
                    f"({tries} attempts) while {what}",
                    "check the host and port in --endpoint and that no firewall drops "
                    "the connection")
                continue
            except requests.ReadTimeout:
                failure = self._error(
                    f"{url} did not answer within {self.timeouts.read:g} s "
                    f"({tries} attempts) while {what}",
                    "the server may be busy: raise --timeout, or check the server's log")
                continue
            except requests.ConnectionError:
                failure = self._error(
                    f"cannot connect to {url} ({tries} attempts) while {what}",
                    "check that the server is running and that --endpoint has the right "
                    "host and port")
                continue
            except requests.RequestException as exc:
                raise self._error(f"request to {url} failed while {what}: "
                                  f"{type(exc).__name__}",
                                  "check --endpoint") from None
            if response.ok or response.status_code in accepted:
                return response
            failure = self._status_error(response, url, what, body_size)
            if response.status_code not in TRANSIENT_STATUS:
                break
        assert failure is not None
        raise failure

    # -- Graph Store Protocol --

    def _gsp(self) -> str:
        if self.endpoints.gsp is None:
            raise UsageError("no Graph Store Protocol URL for this store", hint="give --gsp-url")
        return self.endpoints.gsp

    def put_graph(self, graph: str, ntriples: bytes) -> None:
        """Replace ``graph`` with the N-Triples document (a PUT replaces atomically)."""
        content_type = self.profile.content_type
        if content_type == "text/turtle":
            content_type += "; charset=utf-8"  # N-Triples is Turtle; some stores only know Turtle
        self.request("PUT", self._gsp(), what=f"replacing graph <{graph}>",
                     params={self.profile.graph_param: graph}, data=ntriples,
                     headers={"Content-Type": content_type})

    def update(self, text: str, *, what: str, retry: bool = True) -> None:
        if self.endpoints.update is None:
            raise UsageError("this store has no SPARQL Update endpoint",
                             hint="give --update-url")
        self.request("POST", self.endpoints.update, what=what, data=[("update", text)],
                     retry=retry)

    def _dataset_form(self, text: str, default_graphs: Sequence[str],
                      named_graphs: Sequence[str]) -> list[tuple[str, str]]:
        form = [("query", text)]
        form += [("default-graph-uri", g) for g in default_graphs]
        form += [("named-graph-uri", g) for g in named_graphs]
        return form

    def select(self, text: str, default_graphs: Sequence[str] = (),
               named_graphs: Sequence[str] = (), *, what: str = "running a query") -> Results:
        """A SELECT over the SPARQL 1.1 Protocol (form-encoded POST), as :class:`Results`."""
        response = self.request(
            "POST", self.endpoints.query, what=what,
            data=self._dataset_form(text, default_graphs, named_graphs),
            headers={"Accept": "application/sparql-results+json"}, ok={400})
        if response.status_code == 400:
            raise SyntaxProblem(f"{self.endpoints.query} rejected the query: "
                                f"{_snippet(response.text)}", None)
        try:
            doc: Any = response.json()
        except ValueError:
            raise self._error(f"{self.endpoints.query} did not answer with SPARQL JSON "
                              f"results (Content-Type "
                              f"{response.headers.get('Content-Type', 'none')})",
                              "check --query-url / --profile") from None
        if not isinstance(doc, dict) or "boolean" in doc:
            raise InputError("the query is not a SELECT query",
                             hint="stored queries must be SELECT queries")
        return parse_json_results(doc)

    def construct(self, text: str, default_graphs: Sequence[str] = (),
                  named_graphs: Sequence[str] = ()) -> Graph:
        response = self.request(
            "POST", self.endpoints.query, what="running a CONSTRUCT query",
            data=self._dataset_form(text, default_graphs, named_graphs),
            headers={"Accept": "text/turtle"}, ok={400})
        if response.status_code == 400:
            raise SyntaxProblem(f"{self.endpoints.query} rejected the query: "
                                f"{_snippet(response.text)}", None)
        graph = Graph()
        graph.parse(data=response.text, format="turtle")
        return graph

    def count(self, graphs: Sequence[str], *, chunk: int = 100) -> dict[str, int]:
        """The number of triples of each graph on the server (0 for a missing graph)."""
        counts = dict.fromkeys(graphs, 0)
        for start in range(0, len(graphs), chunk):
            values = " ".join(f"<{g}>" for g in graphs[start:start + chunk])
            query = ("SELECT ?g (COUNT(*) AS ?n) WHERE { VALUES ?g { " + values
                     + " } GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
            for row in self.select(query, what="counting triples").rows:
                graph, number = row.get("g"), row.get("n")
                if graph is not None and number is not None:
                    counts[str(graph)] = int(number)
        return counts


class _NoAuth(requests.auth.AuthBase):
    """No authentication (keeps requests from applying ~/.netrc by itself)."""

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        return r


def connect(endpoint: str | None, profile_name: str = "oxigraph", *,
            gsp_url: str | None = None, query_url: str | None = None,
            update_url: str | None = None, auth: str | None = None,
            timeouts: Timeouts | None = None, retry: Retry | None = None,
            environ: Mapping[str, str] | None = None) -> StoreClient:
    """A client for a store described as on the command line."""
    if profile_name not in PROFILES:
        raise UsageError(f"unknown store profile {profile_name!r}",
                         hint="choose one of " + ", ".join(PROFILES))
    if auth is not None and auth not in AUTH_KINDS:
        raise UsageError(f"unknown --auth {auth!r}", hint="choose one of "
                         + ", ".join(AUTH_KINDS))
    profile = PROFILES[profile_name]
    endpoints = resolve_endpoints(endpoint, profile, gsp_url=gsp_url, query_url=query_url,
                                  update_url=update_url)
    credentials = None if auth == "none" else find_credentials(endpoints.base, environ)
    return StoreClient(endpoints, profile, credentials, timeouts, retry, auth)


# --- the parts of the build ------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """One graph of the build, ready to send: ``key`` is its name under the graph base."""

    key: str
    source: Path
    ntriples: bytes = field(repr=False)
    triples: int

    def graph(self, base: str = DEFAULT_GRAPH_BASE) -> str:
        return base + self.key


def rebase(graph: str, base: str) -> str:
    """A build graph IRI under another base.

    >>> rebase("https://w3id.org/dipkg/graph/doc/x", "http://example.org/g/")
    'http://example.org/g/doc/x'
    """
    if not graph.startswith(DEFAULT_GRAPH_BASE):
        raise InputError(f"graph <{graph}> is not under {DEFAULT_GRAPH_BASE}",
                         hint="the build writes every graph under that base")
    return base + graph[len(DEFAULT_GRAPH_BASE):]


def check_graph_base(base: str) -> str:
    """``--graph-base`` must be an absolute IRI ending in ``/`` or ``#``."""
    if not base.endswith(("/", "#")) or not urllib.parse.urlsplit(base).scheme \
            or any(c in base for c in '<>"{}|^`\\ '):
        raise UsageError(f"--graph-base {base!r} is not an IRI ending in / or #",
                         hint=f"e.g. {DEFAULT_GRAPH_BASE}")
    return base


def _load_file(store: Any, path: Path, fmt: Any, hint: str, to_graph: str | None = None) -> None:
    kwargs: dict[str, Any] = {"path": str(path), "format": fmt}
    if to_graph is not None:
        kwargs["to_graph"] = ox.NamedNode(to_graph)
    try:
        store.load(**kwargs)
    except FileNotFoundError:
        raise InputError(f"{path} does not exist", hint=hint) from None
    except (SyntaxError, ValueError) as exc:
        raise InputError(f"cannot parse {path}: {exc}", hint=hint) from None


def read_parts(build_dir: Path, ontology_dir: Path,
               notes: list[str] | None = None) -> list[Part]:
    """Split the build into parts: document graphs, entities, inferred, ontology, shapes.

    A missing ``shapes.ttl`` is skipped and said in ``notes``.
    """
    store = ox.Store()
    sources: dict[str, Path] = {}
    for path in (build_dir / "asserted.trig", build_dir / "inferred.trig"):
        before = set(store.named_graphs())
        _load_file(store, path, ox.RdfFormat.TRIG, "run `kg build` and `kg infer` first "
                   "(or pass --build-dir)")
        for name in set(store.named_graphs()) - before:
            sources[str(name.value)] = path
        if any(True for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph())):
            raise InputError(f"{path} has triples outside any named graph",
                             hint="rebuild with `kg build` / `kg infer`")
    _load_file(store, ontology_dir / "dip.ttl", ox.RdfFormat.TURTLE,
               "pass --ontology DIR", str(ONTOLOGY_GRAPH))
    sources[str(ONTOLOGY_GRAPH)] = ontology_dir / "dip.ttl"
    shapes = ontology_dir / "shapes.ttl"
    if shapes.exists():
        _load_file(store, shapes, ox.RdfFormat.TURTLE, "fix the shapes file", str(SHAPES_GRAPH))
        sources[str(SHAPES_GRAPH)] = shapes
    elif notes is not None:
        notes.append(f"{shapes} does not exist: the shapes graph was not loaded")

    def order(graph: str) -> tuple[int, str]:
        key = rebase(graph, "")
        rank = {"entities": 1, "inferred": 2, "ontology": 3, "shapes": 4}.get(key, 0)
        return rank, key

    parts = []
    for graph in sorted(sources, key=order):
        triples = [q.triple for q in store.quads_for_pattern(None, None, None,
                                                              ox.NamedNode(graph))]
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        assert data is not None
        parts.append(Part(rebase(graph, ""), sources[graph], data, len(triples)))
    return parts


# --- loading ---------------------------------------------------------------------------

@dataclass
class LoadReport:
    """What a load did: each final graph with its verified triple count."""

    graphs: list[tuple[str, int]]
    staged: bool
    seconds: float
    notes: list[str] = field(default_factory=list)
    endpoint: str = ""  # the store's base URL

    @property
    def triples(self) -> int:
        return sum(n for _, n in self.graphs)


Progress = Callable[[str, Part], None]


def _verify(client: StoreClient, expected: Mapping[str, int], stage: str) -> None:
    found = client.count(list(expected))
    wrong = [f"<{g}>: sent {n}, the server has {found.get(g, 0)}"
             for g, n in expected.items() if found.get(g, 0) != n]
    if wrong:
        raise RemoteError(f"verification failed {stage}: {len(wrong)} graph(s) on "
                          f"{client.endpoints.base} differ from what was sent",
                          hint="\n  ".join(["another process may be writing the same graphs, "
                                            "or the store changed the data:", *wrong[:20]]))


def _swap_text(pairs: Sequence[tuple[str, str, int]]) -> str:
    operations = []
    for staging, final, triples in pairs:
        if triples:
            operations.append(f"MOVE SILENT GRAPH <{staging}> TO GRAPH <{final}>")
        else:  # MOVE SILENT from a graph that may not exist would leave <final> as it was
            operations.append(f"DROP SILENT GRAPH <{final}>")
            operations.append(f"DROP SILENT GRAPH <{staging}>")
    return " ;\n".join(operations)


def _drop_quietly(client: StoreClient, graphs: Sequence[str]) -> bool:
    """Best-effort clean-up of staging graphs; True if it worked."""
    if not graphs:
        return True
    try:
        client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs),
                      what="dropping staging graphs", retry=False)
    except (RemoteError, UsageError):
        return False
    return True


def load(parts: Sequence[Part], client: StoreClient, graph_base: str = DEFAULT_GRAPH_BASE,
         *, progress: Progress | None = None, run_id: str | None = None) -> LoadReport:
    """Replace each part's final graph on the store and verify the counts.

    With an update endpoint the parts are staged, counted and swapped in by one
    update request; without one, each final graph is replaced by its own PUT.
    ``progress(step, part)`` is called after each PUT (step ``"staged"`` or
    ``"loaded"``).
    """
    started = time.monotonic()
    finals = {part.graph(graph_base): part.triples for part in parts}
    if client.endpoints.update is None:
        for part in parts:
            client.put_graph(part.graph(graph_base), part.ntriples)
            if progress:
                progress("loaded", part)
        _verify(client, finals, "after loading")
        note = ("no SPARQL Update endpoint: each graph was replaced by its own PUT "
                "(atomic per graph, not across graphs)")
        return LoadReport(list(finals.items()), False, time.monotonic() - started, [note])

    run = run_id or time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    staging_base = f"{graph_base}staging/{run}/"
    staged: list[str] = []
    try:
        for part in parts:
            staging = part.graph(staging_base)
            staged.append(staging)
            client.put_graph(staging, part.ntriples)
            if progress:
                progress("staged", part)
        _verify(client, {p.graph(staging_base): p.triples for p in parts},
                "in the staging graphs (the final graphs were not touched)")
        client.update(_swap_text([(p.graph(staging_base), p.graph(graph_base), p.triples)
                                  for p in parts]),
                      what=f"swapping {len(parts)} staged graphs into place")
    except BaseException as exc:
        cleaned = _drop_quietly(client, staged)
        if isinstance(exc, RemoteError) and staged and not cleaned:
            exc.hint = ((exc.hint + "\n") if exc.hint else "") + (
                f"the final graphs were not replaced; staging graphs under <{staging_base}> "
                "may remain and can be dropped")
        raise
    _verify(client, finals, "after the swap")
    return LoadReport(list(finals.items()), True, time.monotonic() - started)


# --- querying a store -----------------------------------------------------------------

class RemoteEngine:
    """The :class:`kg.sparql.Engine` protocol over the SPARQL 1.1 Protocol.

    The dataset of every query is our graphs: each is passed as a ``default-graph-uri``
    (so the default graph is their union, as in the embedded engine) and as a
    ``named-graph-uri`` (so ``GRAPH ?g`` sees them, and nothing else on the server).
    Bindings are inlined as a ``VALUES`` block (:func:`kg.queries.inline_values`).
    """

    def __init__(self, endpoint: str | None, profile: str = "oxigraph",
                 default_graphs: Sequence[str] = (), auth: Credentials | None = None,
                 timeout: Timeouts | float | None = None, *, query_url: str | None = None,
                 auth_kind: str | None = None, retry: Retry | None = None) -> None:
        if profile not in PROFILES:
            raise UsageError(f"unknown store profile {profile!r}",
                             hint="choose one of " + ", ".join(PROFILES))
        prof = PROFILES[profile]
        if isinstance(timeout, int | float):
            timeout = Timeouts(read=float(timeout))
        endpoints = resolve_endpoints(endpoint, prof, query_url=query_url, for_query=True)
        self.client = StoreClient(endpoints, prof, auth, timeout, retry, auth_kind)
        self.default_graphs = list(default_graphs)

    @classmethod
    def from_client(cls, client: StoreClient, default_graphs: Sequence[str]) -> RemoteEngine:
        engine = cls.__new__(cls)
        engine.client = client
        engine.default_graphs = list(default_graphs)
        return engine

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> Results:
        text = inline_values(query, dict(bindings)) if bindings else query
        return self.client.select(text, self.default_graphs, self.default_graphs)

    def construct(self, query: str) -> Graph:
        return self.client.construct(query, self.default_graphs, self.default_graphs)
