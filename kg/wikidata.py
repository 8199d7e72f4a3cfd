"""A polite client for Wikidata: the Action API and the Query Service, with a disk cache.

It follows the Wikimedia API etiquette and User-Agent policy:

* a descriptive ``User-Agent`` naming the tool and a contact
  (``dipkg/0.1.0 (mailto:you@example.org) python-requests/2.x``); without a contact
  an online client refuses to start;
* one request at a time (a lock; calls are sequential), at least ``min_interval``
  seconds apart;
* ``maxlag`` on every Action API request; a ``maxlag`` error (HTTP 200 with
  ``{"error": {"code": "maxlag"}}``), 429 and 503 are retried after the
  ``Retry-After`` the server sends (capped); other 5xx, timeouts and connection
  errors with exponential backoff; at most ``max_retries`` retries, then
  :class:`~kg.errors.RemoteError` (exit 4);
* every successful answer is kept on disk, one JSON file per request keyed by
  the SHA-256 of method, URL and sorted parameters (``maxlag`` excluded), written
  atomically; ``offline=True`` answers from that cache only.

Malformed JSON is an error and is never cached.
"""

from __future__ import annotations

import datetime
import email.utils
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from kg import __version__
from kg.errors import InputError, RemoteError, UsageError
from kg.export import write_atomically

API_URL = "https://www.wikidata.org/w/api.php"
SPARQL_URL = "https://query.wikidata.org/sparql"
CONTACT_ENV = "KG_CONTACT"
QID = re.compile(r"^Q[1-9][0-9]*\Z")  # \Z: "Q42\n" does not match
BATCH = 50  # wbgetentities takes at most 50 ids per request
ENTITY_PROPS = ("labels", "descriptions", "aliases", "claims", "info")


class CacheMiss(InputError):
    """``--offline`` and the answer is not in the cache (exit 3)."""


def user_agent(contact: str) -> str:
    """The User-Agent the Wikimedia policy asks for: tool/version (contact) library/version."""
    return f"dipkg/{__version__} ({contact}) python-requests/{requests.__version__}"


# --- what the API returns -------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """One hit of ``wbsearchentities``."""

    id: str
    label: str
    description: str
    match_type: str
    match_text: str


@dataclass(frozen=True)
class WikiTime:
    """A Wikibase time value: ``+1878-12-18T00:00:00Z`` with its precision (9 year, 11 day)."""

    time: str
    precision: int

    @property
    def year(self) -> int:
        return int(self.time[:self.time.index("-", 1)])

    def parts(self) -> tuple[int, int | None, int | None]:
        """(year, month, day), with None where the precision does not reach."""
        match = re.match(r"^([+-]\d+)-(\d\d)-(\d\d)", self.time)
        if not match:
            raise ValueError(f"not a Wikibase time: {self.time!r}")
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
        return (year, month if self.precision >= 10 and month else None,
                day if self.precision >= 11 and day else None)

    def earliest(self) -> datetime.date | None:
        year, month, day = self.parts()
        if not 1 <= year <= 9999:
            return None
        return datetime.date(year, month or 1, day or 1)

    def latest(self) -> datetime.date | None:
        year, month, day = self.parts()
        if not 1 <= year <= 9999:
            return None
        if month is None:
            return datetime.date(year, 12, 31)
        if day is None:
            following = datetime.date(year + (month == 12), month % 12 + 1, 1)
            return following - datetime.timedelta(days=1)
        return datetime.date(year, month, day)


@dataclass(frozen=True)
class Item:
    """An entity as ``wbgetentities`` returns it, with when we got it."""

    id: str
    data: Mapping[str, Any]
    retrieved: str = ""  # ISO 8601 UTC time of the HTTP answer

    def label(self, language: str = "en") -> str:
        return str(self.data.get("labels", {}).get(language, {}).get("value", ""))

    def description(self, language: str = "en") -> str:
        return str(self.data.get("descriptions", {}).get(language, {}).get("value", ""))

    def aliases(self, language: str = "en") -> list[str]:
        return [str(a.get("value", "")) for a in self.data.get("aliases", {}).get(language, [])]

    def names(self, language: str = "en") -> list[str]:
        """Label and aliases in ``language``."""
        return [n for n in [self.label(language), *self.aliases(language)] if n]

    @property
    def lastrevid(self) -> int | None:
        value = self.data.get("lastrevid")
        return int(value) if isinstance(value, int) else None

    @property
    def modified(self) -> str:
        return str(self.data.get("modified", ""))

    def _values(self, prop: str, kind: str) -> list[Any]:
        """Values of the statements on ``prop`` of type ``kind`` (deprecated rank skipped)."""
        out = []
        for statement in self.data.get("claims", {}).get(prop, []):
            if statement.get("rank") == "deprecated":
                continue
            snak = statement.get("mainsnak", {})
            value = snak.get("datavalue", {})
            if snak.get("snaktype") == "value" and value.get("type") == kind:
                out.append(value.get("value"))
        return out

    def item_values(self, prop: str) -> list[str]:
        return [str(v["id"]) for v in self._values(prop, "wikibase-entityid")
                if isinstance(v, dict) and "id" in v]

    def times(self, prop: str) -> list[WikiTime]:
        return [WikiTime(str(v["time"]), int(v.get("precision", 0)))
                for v in self._values(prop, "time") if isinstance(v, dict) and "time" in v]

    def coordinates(self, prop: str = "P625") -> list[tuple[float, float]]:
        """(latitude, longitude) pairs on Earth."""
        return [(float(v["latitude"]), float(v["longitude"]))
                for v in self._values(prop, "globecoordinate")
                if isinstance(v, dict) and str(v.get("globe", "")).endswith("/Q2")]


@dataclass(frozen=True)
class Missing:
    """The id names no item (never existed, or deleted)."""

    id: str


@dataclass(frozen=True)
class Redirected:
    """The id was merged into another item; ``item`` is the target's data."""

    id: str
    target: str
    item: Item


Lookup = Item | Missing | Redirected


@dataclass(frozen=True)
class Answer:
    body: Any
    retrieved: str
    from_cache: bool


# --- the client -------------------------------------------------------------------------

def _retry_after(value: str | None, cap: float) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    delta = (when - datetime.datetime.now(datetime.UTC)).total_seconds()
    return min(max(delta, 0.0), cap)


@dataclass
class WikidataClient:
    """Wikidata's Action API and Query Service, one polite request at a time."""

    cache_dir: Path | None = None
    api_url: str = API_URL
    sparql_url: str = SPARQL_URL
    offline: bool = False
    contact: str | None = None
    timeout: tuple[float, float] = (5.0, 30.0)
    max_retries: int = 3
    maxlag: int = 5
    min_interval: float = 1.0
    max_wait: float = 60.0  # cap on Retry-After and backoff
    backoff: float = 1.0    # first backoff, doubled on each retry
    sleep: Callable[[float], None] = time.sleep
    requests_made: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _session: requests.Session | None = field(default=None, repr=False)
    _last: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.contact = (self.contact or os.environ.get(CONTACT_ENV) or "").strip() or None
        if not self.offline and not self.contact:
            raise UsageError(
                "Wikidata asks every client to identify itself with a contact",
                hint=f"pass --contact 'mailto:you@example.org' (or a URL), or set {CONTACT_ENV}; "
                     "or use --offline to work from the cache")

    @property
    def headers(self) -> dict[str, str]:
        return {"User-Agent": user_agent(self.contact or "offline"),
                "Accept-Encoding": "gzip"}

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- the cache --

    @staticmethod
    def cache_key(method: str, url: str, params: Mapping[str, str]) -> str:
        canonical = json.dumps([method.upper(), url, sorted((k, str(v)) for k, v in params.items()
                                                           if k != "maxlag")])
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def _cache_file(self, method: str, url: str, params: Mapping[str, str]) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{self.cache_key(method, url, params)}.json"

    def _read_cache(self, path: Path | None) -> Answer | None:
        if path is None or not path.exists():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            return Answer(record["body"], str(record["retrieved"]), True)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged cache file is as good as none

    def _write_cache(self, path: Path | None, url: str, params: Mapping[str, str],
                     answer: Answer) -> None:
        if path is None:
            return
        record = {"request": {"method": "GET", "url": url,
                              "params": {k: v for k, v in sorted(params.items())
                                         if k != "maxlag"}},
                  "retrieved": answer.retrieved, "body": answer.body}
        write_atomically({path: json.dumps(record, indent=1, sort_keys=True,
                                           ensure_ascii=False) + "\n"})

    # -- HTTP --

    def _wait_turn(self) -> None:
        gap = self.min_interval - (time.monotonic() - self._last)
        if gap > 0 and self._last:
            self.sleep(gap)

    def _fetch(self, url: str, params: dict[str, str], what: str,
               accept: str = "application/json",
               check: Callable[[Any], object] | None = None) -> Answer:
        """GET with the cache, the lock, retries and the checks on the answer.

        ``check`` may raise on an answer of the wrong shape, before it is cached.
        """
        path = self._cache_file("GET", url, params)
        cached = self._read_cache(path)
        if cached is not None:
            return cached
        if self.offline:
            raise CacheMiss(
                f"{what} is not in the Wikidata cache ({self.cache_dir}) and --offline was given",
                hint="run the same command without --offline on a machine that is online "
                     "(the answers are then cached), or copy that cache folder here")
        sent = dict(params)
        if url == self.api_url:
            sent["maxlag"] = str(self.maxlag)
        with self._lock:
            answer = self._fetch_locked(url, sent, what, accept)
        if check is not None:
            check(answer.body)
        self._write_cache(path, url, params, answer)
        return answer

    def _fetch_locked(self, url: str, params: dict[str, str], what: str,
                      accept: str) -> Answer:
        if self._session is None:
            self._session = requests.Session()
        headers = {**self.headers, "Accept": accept}
        problem = ""
        wait = 0.0
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.sleep(wait)
            self._wait_turn()
            wait = min(self.backoff * 2 ** attempt, self.max_wait)
            try:
                self.requests_made += 1
                response = self._session.get(url, params=params, headers=headers,
                                             timeout=self.timeout)
            except requests.Timeout:
                problem = f"no answer within {self.timeout[1]:g} s"
                continue
            except requests.ConnectionError as exc:
                problem = f"cannot connect ({type(exc).__name__})"
                continue
            finally:
                self._last = time.monotonic()
            retrieved = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if response.status_code in (429, 503):
                problem = f"HTTP {response.status_code} (the service asks us to slow down)"
                wait = _retry_after(response.headers.get("Retry-After"), self.max_wait) or wait
                continue
            if response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            if response.status_code != 200:
                raise RemoteError(
                    f"Wikidata refused {what}: HTTP {response.status_code} from {url}",
                    hint="check --api / --sparql and the request; a 403 usually means the "
                         "User-Agent was refused: give a real contact with --contact")
            try:
                body = response.json()
            except ValueError:
                raise RemoteError(
                    f"Wikidata answered {what} with malformed JSON ({url}, "
                    f"{response.headers.get('Content-Type', 'no content type')}, "
                    f"{len(response.content)} bytes)",
                    hint="the service or a proxy in between is misbehaving; try again later "
                         "(nothing was cached)") from None
            error = body.get("error") if isinstance(body, dict) else None
            if isinstance(error, dict) and error.get("code") == "maxlag":
                problem = "the database replicas lag (maxlag)"
                wait = _retry_after(response.headers.get("Retry-After"), self.max_wait) or wait
                continue
            if isinstance(error, dict):
                raise RemoteError(
                    f"Wikidata refused {what}: {error.get('code')}: {error.get('info', '')}",
                    hint="check the identifiers and the options given")
            return Answer(body, retrieved, False)
        raise RemoteError(
            f"Wikidata did not answer {what} after {self.max_retries + 1} attempts: "
            f"{problem} ({url})",
            hint="Wikidata may be overloaded or unreachable: try again later, or work from "
                 "the cache with --offline")

    # -- the API --

    def search(self, text: str, language: str = "en", type: str = "item",
               limit: int = 7) -> list[Candidate]:
        """``wbsearchentities``: items whose label or alias matches ``text``."""
        params = {"action": "wbsearchentities", "search": text, "language": language,
                  "uselang": language, "type": type, "limit": str(limit), "format": "json"}
        body = self._fetch(self.api_url, params, f"the search for {text!r}").body
        hits = body.get("search") if isinstance(body, dict) else None
        if not isinstance(hits, list):
            raise RemoteError(f"Wikidata's answer to the search for {text!r} has no results "
                              f"list ({self.api_url})", hint="check --api")
        out = []
        for hit in hits:
            if not isinstance(hit, dict) or not QID.match(str(hit.get("id", ""))):
                continue
            match = hit.get("match") or {}
            out.append(Candidate(str(hit["id"]), str(hit.get("label", "")),
                                 str(hit.get("description", "")), str(match.get("type", "")),
                                 str(match.get("text", ""))))
        return out

    def get_entities(self, ids: Iterable[str],
                     props: Sequence[str] = ENTITY_PROPS) -> dict[str, Lookup]:
        """``wbgetentities``: each id's item, or a :class:`Missing` / :class:`Redirected`.

        Each id is cached on its own, so a later call with other ids still finds it;
        ids not cached are asked for in batches of 50.
        """
        wanted = list(dict.fromkeys(ids))
        for qid in wanted:
            if not QID.match(qid):
                raise UsageError(f"{qid!r} is not a Wikidata item id",
                                 hint="an item id is Q followed by digits, e.g. Q42")
        base = {"action": "wbgetentities", "props": "|".join(props), "languages": "en",
                "format": "json"}
        result: dict[str, Lookup] = {}
        todo = []
        for qid in wanted:
            cached = self._read_cache(self._cache_file("GET", self.api_url,
                                                       {**base, "ids": qid}))
            if cached is not None:
                result[qid] = self._lookup(qid, [qid], cached)
            else:
                todo.append(qid)
        for start in range(0, len(todo), BATCH):
            batch = todo[start:start + BATCH]
            params = {**base, "ids": "|".join(batch)}
            what = f"the item{'s' if len(batch) > 1 else ''} {', '.join(batch)}"
            if len(batch) == 1:
                answer = self._fetch(self.api_url, params, what)
            else:
                if self.offline:
                    raise CacheMiss(
                        f"{what} are not in the Wikidata cache ({self.cache_dir}) and "
                        "--offline was given",
                        hint="run the same command without --offline on a machine that is "
                             "online (the answers are then cached)")
                with self._lock:
                    answer = self._fetch_locked(self.api_url, {**params,
                                                               "maxlag": str(self.maxlag)},
                                                what, "application/json")
            for qid in batch:
                lookup = self._lookup(qid, batch, answer)
                result[qid] = lookup
                if len(batch) > 1:  # cache each id's part of a batch as its own answer
                    self._write_cache(self._cache_file("GET", self.api_url,
                                                       {**base, "ids": qid}),
                                      self.api_url, {**base, "ids": qid},
                                      Answer(self._single(qid, lookup, answer), answer.retrieved,
                                             False))
        return {qid: result[qid] for qid in wanted}

    @staticmethod
    def _single(qid: str, lookup: Lookup, answer: Answer) -> dict[str, Any]:
        if isinstance(lookup, Missing):
            return {"entities": {qid: {"id": qid, "missing": ""}}, "success": 1}
        item = lookup.item if isinstance(lookup, Redirected) else lookup
        return {"entities": {item.id: dict(item.data)}, "success": 1}

    def _lookup(self, qid: str, batch: list[str], answer: Answer) -> Lookup:
        body = answer.body
        entities = body.get("entities") if isinstance(body, dict) else None
        if not isinstance(entities, dict):
            raise RemoteError(f"Wikidata's answer for {', '.join(batch)} has no entities "
                              f"({self.api_url})", hint="check --api")
        for key, data in entities.items():
            if not isinstance(data, dict):
                continue
            redirect = data.get("redirects")
            if isinstance(redirect, dict) and redirect.get("from") == qid:
                target = str(redirect.get("to") or data.get("id") or key)
                return Redirected(qid, target, Item(target, data, answer.retrieved))
        data = entities.get(qid)
        if not isinstance(data, dict) or "missing" in data:
            return Missing(qid)
        return Item(qid, data, answer.retrieved)

    def sparql(self, query: str, what: str = "the SPARQL query",
               check: Callable[[list[Any]], object] | None = None
               ) -> list[dict[str, dict[str, str]]]:
        """Run a SELECT on the Query Service (GET); the SPARQL 1.1 JSON bindings.

        The same etiquette, retries, cache and ``offline`` as the Action API (no
        ``maxlag``: the Query Service does not take it). ``check`` may raise on
        bindings of the wrong shape; such an answer is not cached.
        """
        def bindings_of(body: Any) -> list[dict[str, dict[str, str]]]:
            try:
                bindings = body["results"]["bindings"]
            except (KeyError, TypeError):
                bindings = None
            if not isinstance(bindings, list):
                raise RemoteError(f"the Query Service's answer to {what} has no results "
                                  f"({self.sparql_url}; nothing was cached)",
                                  hint="check --sparql and the query")
            if check is not None:
                check(bindings)
            return list(bindings)

        body = self._fetch(self.sparql_url, {"query": query, "format": "json"}, what,
                           "application/sparql-results+json", check=bindings_of).body
        return bindings_of(body)


__all__ = ["API_URL", "CONTACT_ENV", "QID", "SPARQL_URL", "Answer", "CacheMiss", "Candidate",
           "Item", "Lookup", "Missing", "Redirected", "WikiTime", "WikidataClient",
           "user_agent"]
