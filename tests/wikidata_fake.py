"""A stand-in for Wikidata on 127.0.0.1: answers shaped exactly as the real services answer.

The JSON follows what ``wbsearchentities``, ``wbgetentities`` and the Query Service
return (field names, nesting, datatypes). The Query Service evaluates the type query
(``VALUES ?item``, ``VALUES ?class``, ``?item wdt:P31/wdt:P279* ?class``) over the
stand-in's own items and their P31 and P279 statements, and answers a query it cannot
parse with HTTP 400, as WDQS does. The items are made up, with ids from Q900001 up,
so no test asserts a real-world identifier.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from pytest_httpserver import HTTPServer
from rdflib.plugins.sparql import prepareQuery
from werkzeug import Request, Response

GREGORIAN = "http://www.wikidata.org/entity/Q1985727"
EARTH = "http://www.wikidata.org/entity/Q2"
HUMAN = "Q5"
SOVEREIGN_STATE = "Q3624078"
HISTORICAL_COUNTRY = "Q3024240"
WD = "http://www.wikidata.org/entity/"
SPARQL_JSON = "application/sparql-results+json;charset=utf-8"


def _statement(prop: str, datavalue: dict[str, Any], datatype: str,
               rank: str = "normal") -> dict[str, Any]:
    return {"mainsnak": {"snaktype": "value", "property": prop, "datavalue": datavalue,
                         "datatype": datatype},
            "type": "statement", "id": f"Q$fake-{prop}-{abs(hash(str(datavalue))) % 10**8}",
            "rank": rank}


def item_claim(prop: str, qid: str) -> dict[str, Any]:
    return _statement(prop, {"value": {"entity-type": "item", "numeric-id": int(qid[1:]),
                                       "id": qid}, "type": "wikibase-entityid"},
                      "wikibase-item")


def time_claim(prop: str, date: str, precision: int = 11) -> dict[str, Any]:
    """``date`` as YYYY-MM-DD; month and day are 00 below their precision, as Wikidata does."""
    year, month, day = date.split("-")
    if precision < 11:
        day = "00"
    if precision < 10:
        month = "00"
    return _statement(prop, {"value": {"time": f"+{year}-{month}-{day}T00:00:00Z",
                                       "timezone": 0, "before": 0, "after": 0,
                                       "precision": precision, "calendarmodel": GREGORIAN},
                             "type": "time"}, "time")


def coordinate_claim(lat: float, lon: float) -> dict[str, Any]:
    return _statement("P625", {"value": {"latitude": lat, "longitude": lon, "altitude": None,
                                         "precision": 0.0001, "globe": EARTH},
                               "type": "globecoordinate"}, "globe-coordinate")


def entity(qid: str, label: str, description: str = "", aliases: list[str] | None = None,
           *, types: list[str] | None = None, born: str | None = None,
           died: str | None = None, inception: str | None = None,
           dissolved: str | None = None, coordinates: tuple[float, float] | None = None,
           subclass_of: list[str] | None = None, lastrevid: int = 1000001) -> dict[str, Any]:
    """An item as ``wbgetentities`` returns it (labels, descriptions, aliases, claims, info)."""
    claims: dict[str, list[dict[str, Any]]] = {}
    if types:
        claims["P31"] = [item_claim("P31", t) for t in types]
    if subclass_of:
        claims["P279"] = [item_claim("P279", c) for c in subclass_of]
    for prop, value in (("P569", born), ("P570", died), ("P571", inception),
                        ("P576", dissolved)):
        if value:
            claims[prop] = [time_claim(prop, value)]
    if coordinates:
        claims["P625"] = [coordinate_claim(*coordinates)]
    data: dict[str, Any] = {
        "pageid": 9000000 + int(qid[1:]) % 100000, "ns": 0, "title": qid,
        "lastrevid": lastrevid, "modified": "2026-10-01T12:00:00Z", "type": "item", "id": qid,
        "labels": {"en": {"language": "en", "value": label}},
        "descriptions": ({"en": {"language": "en", "value": description}}
                         if description else {}),
        "aliases": {"en": [{"language": "en", "value": a} for a in aliases or []]},
        "claims": claims,
    }
    return data


@contextmanager
def loopback_server(threaded: bool = True) -> Iterator[HTTPServer]:
    """An HTTP server on 127.0.0.1 (a free port), stopped when the block ends.

    Threaded by default, so that concurrent requests would really overlap.
    """
    server = HTTPServer(host="127.0.0.1", port=0, threaded=threaded)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def link_data(folder: Path, registry: str, links: str) -> Path:
    """A data folder with just an entity registry and its link decisions."""
    folder.mkdir()
    (folder / "entities.yaml").write_text(registry, encoding="utf-8")
    (folder / "links.yaml").write_text(links, encoding="utf-8")
    return folder


def search_hit(data: dict[str, Any], matched: str) -> dict[str, Any]:
    """One element of ``wbsearchentities``' ``search`` list for the item ``data``."""
    qid = data["id"]
    label = data["labels"]["en"]["value"]
    description = data["descriptions"].get("en", {}).get("value", "")
    is_label = matched == label
    hit: dict[str, Any] = {
        "id": qid, "title": qid, "pageid": data["pageid"],
        "concepturi": f"http://www.wikidata.org/entity/{qid}",
        "repository": "wikidata", "url": f"//www.wikidata.org/wiki/{qid}",
        "display": {"label": {"value": label, "language": "en"}},
        "label": label,
        "match": {"type": "label" if is_label else "alias", "language": "en", "text": matched},
    }
    if description:
        hit["description"] = description
        hit["display"]["description"] = {"value": description, "language": "en"}
    if not is_label:
        hit["aliases"] = [matched]
    return hit


def search_body(term: str, hits: list[dict[str, Any]]) -> dict[str, Any]:
    return {"searchinfo": {"search": term}, "search": hits, "success": 1}


def json_response(body: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json; charset=utf-8")


@dataclass
class FakeWikidata:
    """Items, redirects and deletions behind ``/w/api.php`` and ``/sparql``.

    ``script`` is a list of responses served first, one per request, before the
    normal answers (to stage 429s, maxlag errors, 5xx...); ``sparql_script`` the
    same for the Query Service alone. ``sparql_log`` keeps each Query Service
    request's parameters, ``sparql_accepts`` its Accept header.
    """

    server: HTTPServer
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    script: list[Callable[[Request], Response]] = field(default_factory=list)
    log: list[dict[str, str]] = field(default_factory=list)
    user_agents: list[str] = field(default_factory=list)
    sparql_bindings: list[dict[str, Any]] = field(default_factory=list)
    sparql_script: list[Callable[[Request], Response]] = field(default_factory=list)
    sparql_log: list[dict[str, str]] = field(default_factory=list)
    sparql_accepts: list[str] = field(default_factory=list)

    def install(self) -> FakeWikidata:
        self.server.expect_request("/w/api.php").respond_with_handler(self.api)
        self.server.expect_request("/sparql").respond_with_handler(self.sparql)
        return self

    @property
    def api_url(self) -> str:
        return self.server.url_for("/w/api.php")

    @property
    def sparql_url(self) -> str:
        return self.server.url_for("/sparql")

    def add(self, data: dict[str, Any]) -> None:
        self.items[data["id"]] = data

    def _scripted(self, request: Request) -> Response | None:
        self.log.append(dict(request.args))
        self.user_agents.append(request.headers.get("User-Agent", ""))
        if self.script:
            return self.script.pop(0)(request)
        return None

    def api(self, request: Request) -> Response:
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        args = request.args
        action = args.get("action")
        if action == "wbsearchentities":
            term = args.get("search", "")
            hits = []
            for data in self.items.values():
                names = [data["labels"]["en"]["value"]] + [
                    a["value"] for a in data["aliases"].get("en", [])]
                for name in names:
                    if name.casefold().startswith(term.casefold()):
                        hits.append(search_hit(data, name))
                        break
            return json_response(search_body(term, hits[:int(args.get("limit", "7"))]))
        if action == "wbgetentities":
            entities: dict[str, Any] = {}
            for qid in args.get("ids", "").split("|"):
                target = self.redirects.get(qid)
                if target:
                    entities[target] = {**self.items[target],
                                        "redirects": {"from": qid, "to": target}}
                elif qid in self.items:
                    entities[qid] = self.items[qid]
                else:
                    entities[qid] = {"id": qid, "missing": ""}
            return json_response({"entities": entities, "success": 1})
        return json_response({"error": {"code": "badvalue",
                                        "info": f"Unrecognized value for parameter \"action\": "
                                                f"{action}."}})

    def sparql(self, request: Request) -> Response:
        self.sparql_log.append(dict(request.args))
        self.sparql_accepts.append(request.headers.get("Accept", ""))
        scripted = self._scripted(request)
        if scripted is not None:
            return scripted
        if self.sparql_script:
            return self.sparql_script.pop(0)(request)
        query = parse_qs(request.query_string.decode()).get("query", [""])[0]
        if self.sparql_bindings:
            variables = sorted({k for b in self.sparql_bindings for k in b})
            body = {"head": {"vars": variables},
                    "results": {"bindings": self.sparql_bindings}}
            return Response(json.dumps(body), content_type=SPARQL_JSON)
        try:
            prepareQuery(query)
        except Exception as exc:  # pyparsing's ParseException, and others
            return Response(f"SPARQL-QUERY: queryStr={query}\n"
                            f"java.util.concurrent.ExecutionException: "
                            f"org.openrdf.query.MalformedQueryException: {exc}",
                            status=400, content_type="text/plain; charset=utf-8")
        return Response(json.dumps(self.type_answer(query)), content_type=SPARQL_JSON)

    def _values(self, query: str, var: str) -> list[str]:
        match = re.search(r"VALUES\s+\?" + var + r"\s*\{([^}]*)\}", query)
        return re.findall(r"wd:(Q\d+)", match.group(1)) if match else []

    def _claims(self, qid: str, prop: str) -> list[str]:
        claims = self.items.get(qid, {}).get("claims", {}).get(prop, [])
        return [c["mainsnak"]["datavalue"]["value"]["id"] for c in claims
                if c.get("rank") != "deprecated"]

    def type_answer(self, query: str) -> dict[str, Any]:
        """``?item wdt:P31/wdt:P279* ?class`` over the stand-in's items, as WDQS answers it."""
        classes = set(self._values(query, "class"))
        bindings = []
        for qid in self._values(query, "item"):
            seen: set[str] = set()
            todo = self._claims(qid, "P31")
            while todo:  # the subclass closure, zero or more P279 steps
                cls = todo.pop()
                if cls not in seen:
                    seen.add(cls)
                    todo.extend(self._claims(cls, "P279"))
            for cls in sorted(seen & classes):
                bindings.append({"item": {"type": "uri", "value": WD + qid},
                                 "class": {"type": "uri", "value": WD + cls}})
        return {"head": {"vars": ["item", "class"]}, "results": {"bindings": bindings}}


def maxlag_error(retry_after: str = "1") -> Callable[[Request], Response]:
    """What the Action API sends when the replicas lag: HTTP 200, an error, Retry-After."""
    def respond(request: Request) -> Response:
        return json_response(
            {"error": {"code": "maxlag", "info": "Waiting for 10.64.48.35: 6.2 seconds lagged.",
                       "host": "10.64.48.35", "lag": 6.2, "type": "db",
                       "*": "See https://www.wikidata.org/w/api.php for API usage."},
             "servedby": "mw1234"},
            headers={"Retry-After": retry_after, "X-Database-Lag": "6"})
    return respond


def status(code: int, retry_after: str | None = None,
           body: str = "") -> Callable[[Request], Response]:
    def respond(request: Request) -> Response:
        headers = {"Retry-After": retry_after} if retry_after else {}
        return Response(body or f"<html><body>Error {code}</body></html>", status=code,
                        headers=headers, content_type="text/html")
    return respond


def malformed() -> Callable[[Request], Response]:
    def respond(request: Request) -> Response:
        return Response('{"entities": {"Q900001": {"type": "item", "id": ',
                        content_type="application/json")
    return respond


def slow(seconds: float) -> Callable[[Request], Response]:
    def respond(request: Request) -> Response:
        import time
        time.sleep(seconds)
        return json_response({"entities": {}, "success": 1})
    return respond
