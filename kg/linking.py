"""Links from registry entities to Wikidata items: the decisions, their checks, their graphs.

The decisions live in ``data/links.yaml``, one entry per registry key (see
:data:`LINKS_HEADER` for the fields). :func:`link_graphs` compiles them into the
named graph ``graph/links``: one ``dip:LinkDecision`` per key with its provenance,
and the mapping triple (``skos:exactMatch`` or ``skos:closeMatch``) for verified
links only. The facts read from Wikidata for verified links (``kg link snapshot``)
are kept in ``data/wikidata/snapshot.ttl`` and compiled into ``graph/wikidata``, with
the facts a verified stored-source decision copied from a named stored copy of the
item's statements (``facts:``, :func:`facts_graph`), each set under its own record.

Scoring and plausibility (:func:`assess`) compare an item with a registry entity:
names (label and aliases against label and alternative names), type and dates
(alive, or in existence, at the date the documents speak of the entity). The type
is confirmed by one batched Query Service request per command
(:func:`confirm_types`: ``?item wdt:P31/wdt:P279* ?class``, so a narrower class
counts), or, when the Query Service cannot answer, from the item's direct P31 only.
"""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from kg.errors import InputError, ProblemList, RemoteError
from kg.export import describe_parse_error, turtle, write_atomically
from kg.namespace import (
    DIP,
    GEO,
    ID,
    LINKS_GRAPH,
    WD,
    WDT,
    WIKIDATA_GRAPH,
    entity,
)
from kg.registry import Entity, Registry
from kg.wikidata import QID, CacheMiss, Item, WikidataClient
from kg.yamlio import LineDict, load_file, load_text

LINKS_FILE = "links.yaml"
SNAPSHOT_FILE = Path("wikidata") / "snapshot.ttl"
CACHE_DIR = Path("wikidata") / "cache"
# The date of the cable: who was alive and what existed is judged at this date,
# unless a decision says otherwise (as_of).
REFERENCE_DATE = datetime.date(1945, 7, 11)

STATUSES = {"verified": DIP.VerifiedLink, "candidate": DIP.CandidateLink, "none": DIP.NoLink}
MATCHES = {"exact": SKOS.exactMatch, "close": SKOS.closeMatch}
METHODS = ("wikidata-api", "stored-source", "curator")
VERIFYING_METHODS = ("wikidata-api", "stored-source")
FIELDS = ("wikidata", "match", "status", "checked", "method", "source", "evidence", "as_of",
          "facts", "candidates", "reason")
# The facts a verified stored-source decision may copy from a named stored copy of the
# item's Wikidata statements (facts:), and the Wikidata property of each date.
FACT_DATES = {"born": "P569", "died": "P570", "inception": "P571", "dissolved": "P576"}
FACT_FIELDS = ("source", "label", *FACT_DATES, "coordinates", "evidence")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_POINT = re.compile(r"^Point\((-?[0-9]+(?:\.[0-9]+)?) (-?[0-9]+(?:\.[0-9]+)?)\)$")

# Classes that confirm a registry type. The Query Service confirms an item that is an
# instance of one of them or of any subclass (wdt:P31/wdt:P279*); without it only the
# direct P31 is read. An item of another class is "not confirmed", never
# "contradicted" -- except for persons, where every person item is an instance of
# human (Q5).
HUMAN = "Q5"
EXPECTED_TYPES: dict[str, frozenset[str]] = {
    "Person": frozenset({HUMAN}),
    # sovereign state, historical country, country
    "State": frozenset({"Q3624078", "Q3024240", "Q6256"}),
}
LIFESPAN = {"Person": ("P569", "P570"), "State": ("P571", "P576"),
            "Government": ("P571", "P576"), "Organization": ("P571", "P576")}

LINKS_HEADER = """\
# Links from the registry (data/entities.yaml) to Wikidata: one decision per key.
#
# Every registry key has an entry; the build fails on a key without one, and on
# an entry whose key is not in the registry. Fields:
#
#   wikidata:   the chosen item (Q...), or absent when there is none
#   match:      exact (default) -> skos:exactMatch; close -> skos:closeMatch, where the
#               1945 entity and the item differ in scope (Port Arthur 1945 and today's
#               Lüshunkou District)
#   status:     verified  -- the identifier was checked against a named source; only a
#                            verified link is asserted in the graph
#               candidate -- proposed or not yet checked; recorded, shown as unverified,
#                            never asserted
#               none      -- a decision not to link; reason: says why
#   checked:    date of the decision or check (YYYY-MM-DD)
#   method:     wikidata-api (kg link verify) | stored-source | curator
#   source:     REQUIRED when verified: what the identifier was checked against, named
#               so that anyone can check it again (API and revision; or repository,
#               path and commit of a stored public source)
#   evidence:   the words seen in the source
#   as_of:      date at which the item must be plausible (person alive, state in
#               existence); default 1945-07-11
#   facts:      only on a verified stored-source decision: facts copied from a named
#               stored copy of the item's Wikidata statements, compiled like the
#               snapshot's (graph/wikidata) under their own record; the file must show
#               each one. Fields: source (REQUIRED: repository, file and commit),
#               born (P569), died (P570), inception (P571), dissolved (P576) as
#               YYYY-MM-DD, coordinates (P625) as "Point(LONGITUDE LATITUDE)", label,
#               evidence (the words seen there)
#   candidates: the items considered, each {id: Q..., label: ..., score: 0..1}
#   reason:     why this item, or why no link
#
# Never write an identifier you have not seen in a source. `kg link propose KEY
# --write` records candidates; `kg link verify KEY Q... --write` records a link
# checked against the Wikidata API; `kg link status` lists every decision.
"""


# --- the decisions -------------------------------------------------------------------------

@dataclass(frozen=True)
class Considered:
    """A candidate item recorded in a decision."""

    id: str
    label: str
    score: float


@dataclass(frozen=True)
class StoredFacts:
    """Facts copied from a named stored copy of an item's Wikidata statements (facts:)."""

    source: str
    dates: tuple[tuple[str, datetime.date], ...] = ()  # (field, day), e.g. ("born", ...)
    coordinates: tuple[float, float] | None = None  # (longitude, latitude)
    label: str | None = None
    evidence: str | None = None
    line: int = field(default=0, compare=False)


@dataclass
class LinkEntry:
    key: str
    status: str = "candidate"
    wikidata: str | None = None
    match: str = "exact"
    checked: datetime.date | None = None
    method: str | None = None
    source: str | None = None
    evidence: str | None = None
    as_of: datetime.date | None = None
    facts: StoredFacts | None = None
    candidates: list[Considered] = field(default_factory=list)
    reason: str | None = None
    line: int = 0

    @property
    def reference_date(self) -> datetime.date:
        return self.as_of or REFERENCE_DATE


@dataclass
class Links:
    path: Path
    entries: dict[str, LinkEntry]
    missing: list[str]  # registry keys without an entry


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value).strip() or None
    return None


def _fact_day(value: Any) -> datetime.date | None:
    """A day written YYYY-MM-DD (YAML reads it as a date); a time of day is refused."""
    if isinstance(value, datetime.datetime):
        return None
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _DAY.match(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _point(value: Any) -> tuple[float, float] | None:
    """(longitude, latitude) from "Point(LONGITUDE LATITUDE)", both in range."""
    match = _POINT.match(value) if isinstance(value, str) else None
    if not match:
        return None
    lon, lat = float(match.group(1)), float(match.group(2))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def _facts(raw: Any, line: int, key: str, name: str,
           problems: ProblemList) -> StoredFacts | None:
    """The facts: block of a decision, every problem reported with its line."""
    if not isinstance(raw, LineDict):
        problems.add("facts must be a mapping (source:, born:, died:, inception:, dissolved:, "
                     "coordinates:, label:, evidence:)", name, line, key)
        return None

    def problem(message: str, field_name: str | None, hint: str | None = None) -> None:
        problems.add(message, name, raw.key_line(field_name) if field_name else line, key,
                     hint)

    ok = True
    for field_name in sorted(set(raw) - set(FACT_FIELDS)):
        close = difflib.get_close_matches(field_name, FACT_FIELDS, n=1)
        problem(f"facts: unknown field {field_name!r}", field_name,
                f"did you mean {close[0]}?" if close else "allowed: " + ", ".join(FACT_FIELDS))
        ok = False
    texts: dict[str, str | None] = {}
    for name_ in ("source", "label", "evidence"):
        value = raw.get(name_)
        texts[name_] = _text(value)
        if value is not None and not (isinstance(value, str) and not value.strip()) \
                and texts[name_] is None:
            problem(f"facts: {name_} must be text", name_)
            ok = False
    source = texts["source"]
    if raw.get("source") is None or (isinstance(raw["source"], str) and source is None):
        problem("facts need source: (the stored copy they were copied from)",
                "source" if "source" in raw else None,
                "name it so that anyone can read it again: repository, file and commit")
        ok = False
    dates: list[tuple[str, datetime.date]] = []
    for name_ in FACT_DATES:
        if name_ not in raw:
            continue
        day = _fact_day(raw[name_])
        if day is None:
            problem(f"facts: {name_} must be a day YYYY-MM-DD, not {raw[name_]!r}", name_,
                    "copy the day the stored copy shows, without a time "
                    "(1884-05-08T00:00:00Z is written 1884-05-08)")
            ok = False
        else:
            dates.append((name_, day))
    coordinates = None
    if "coordinates" in raw:
        coordinates = _point(raw["coordinates"])
        if coordinates is None:
            problem(f"facts: coordinates must be \"Point(LONGITUDE LATITUDE)\", numbers with "
                    f"longitude -180..180 and latitude -90..90, not {raw['coordinates']!r}",
                    "coordinates", "as Wikidata writes P625, e.g. \"Point(34.14 44.46)\"")
            ok = False
    if ok and not dates and coordinates is None and texts["label"] is None:
        problem("facts name no fact", None,
                "give born, died, inception, dissolved, coordinates or label, or remove facts:")
        ok = False
    if not ok or source is None:
        return None
    return StoredFacts(source, tuple(dates), coordinates, texts["label"], texts["evidence"],
                       raw.line)


def _entry(key: str, raw: LineDict, name: str, problems: ProblemList) -> LinkEntry:
    def problem(message: str, field_name: str | None = None, hint: str | None = None) -> None:
        line = raw.key_line(field_name) if field_name else raw.line
        problems.add(message, name, line, key, hint)

    for field_name in sorted(set(raw) - set(FIELDS)):
        close = difflib.get_close_matches(field_name, FIELDS, n=1)
        problem(f"unknown field {field_name!r}", field_name,
                f"did you mean {close[0]}?" if close else "allowed: " + ", ".join(FIELDS))
    entry = LinkEntry(key, line=raw.line)
    status = raw.get("status")
    if status is None:
        problem("missing status: (verified, candidate or none)", None,
                "status: candidate until the id is checked against a source")
    elif status not in STATUSES:
        problem(f"status must be one of {', '.join(STATUSES)}, not {status!r}", "status",
                "verified (checked against a named source), candidate or none")
    else:
        entry.status = str(status)
    qid = raw.get("wikidata")
    if qid is not None and qid != "":
        if not isinstance(qid, str) or not QID.match(qid):
            problem(f"wikidata must be an item id like Q42, not {qid!r}", "wikidata",
                    "copy the id from the source you checked; leave it out if there is none")
        else:
            entry.wikidata = qid
    match = raw.get("match", "exact")
    if match not in MATCHES:
        problem(f"match must be exact or close, not {match!r}", "match")
    else:
        entry.match = str(match)
    if "checked" in raw:
        entry.checked = _date(raw["checked"])
        if entry.checked is None:
            problem(f"checked must be a date YYYY-MM-DD, not {raw['checked']!r}", "checked")
    if "as_of" in raw:
        entry.as_of = _date(raw["as_of"])
        if entry.as_of is None:
            problem(f"as_of must be a date YYYY-MM-DD, not {raw['as_of']!r}", "as_of")
    method = raw.get("method")
    if method is not None:
        if method not in METHODS:
            problem(f"method must be one of {', '.join(METHODS)}, not {method!r}", "method")
        else:
            entry.method = str(method)
    for name_ in ("source", "evidence", "reason"):
        value = raw.get(name_)
        if value is not None and _text(value) is None:
            problem(f"{name_} must be text", name_)
        setattr(entry, name_, _text(value))
    candidates = raw.get("candidates") or []
    if not isinstance(candidates, list):
        problem("candidates must be a list of {id, label, score}", "candidates")
        candidates = []
    for item in candidates:
        line = item.line if isinstance(item, LineDict) else raw.key_line("candidates")
        cid = item.get("id") if isinstance(item, dict) else None
        score = item.get("score", 0) if isinstance(item, dict) else None
        extra = sorted(str(k) for k in item if k not in ("id", "label", "score")) \
            if isinstance(item, dict) else []
        if extra:
            problems.add(f"candidate {cid}: unknown field(s) {', '.join(extra)}", name, line, key,
                         "a candidate is {id: Q..., label: ..., score: 0..1}; give each item "
                         "its own line")
            continue
        if not isinstance(cid, str) or not QID.match(cid):
            problems.add(f"candidate id must be an item id like Q42, not {cid!r}", name, line,
                         key)
            continue
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            problems.add(f"candidate {cid}: score must be a number from 0 to 1", name, line, key)
            continue
        entry.candidates.append(Considered(cid, _text(item.get("label")) or "", float(score)))
    if "facts" in raw:
        entry.facts = _facts(raw["facts"], raw.key_line("facts"), key, name, problems)
        if entry.status != "verified" or entry.method != "stored-source":
            problem("facts: only a verified decision with method: stored-source may carry "
                    "facts copied from a stored copy", "facts",
                    "remove facts: (kg link snapshot reads the facts of items verified on "
                    "the API), or verify the link against the stored copy first")
    # What each status requires.
    if entry.status == "verified":
        needs = [(entry.wikidata, "wikidata", "the item id"),
                 (entry.source, "source", "the source the id was checked against"),
                 (entry.method, "method", "wikidata-api or stored-source"),
                 (entry.checked, "checked", "the date of the check")]
        for value, name_, what in needs:
            if value is None:
                problem(f"a verified link needs {name_}: ({what})", None,
                        "a link is verified only when its id was checked against a named "
                        "source; otherwise set status: candidate")
        if entry.method == "curator":
            problem("a verified link needs a method that checks a source (wikidata-api or "
                    "stored-source), not curator", "method",
                    "set status: candidate until the id is checked against a source")
    elif entry.status == "none":
        if entry.wikidata:
            problem("status none cannot name an item", "wikidata",
                    "remove wikidata:, or set status: candidate")
        if not entry.reason:
            problem("status none needs a reason: (why there is no link)", "status",
                    "e.g. reason: an issue under negotiation, not a thing Wikidata describes")
    return entry


def load_links(path: Path, registry: Registry, display: str | None = None) -> Links:
    """Read and check ``links.yaml`` against the registry; every problem at once.

    Keys of the registry without an entry are returned in ``missing`` (the build
    refuses them with :func:`require_complete`; ``kg link status`` lists them).
    """
    name = display or str(path)
    data = load_file(path, name)
    problems = ProblemList()
    if data is None:
        data = LineDict()
        data.line, data.key_lines = 1, {}
    if not isinstance(data, LineDict):
        problems.add("the links file must be a mapping of registry keys to decisions", name, 1)
        problems.raise_if_any(f"invalid links file {name}")
    entries: dict[str, LinkEntry] = {}
    for key, raw in data.items():
        line = data.key_line(key)
        if key not in registry:
            problems.add(f"{key!r} is not a key of the registry {registry.path}", name, line,
                         key, registry.suggest(key) + " (or delete the entry)")
            continue
        if not isinstance(raw, LineDict):
            problems.add("a decision must be a mapping (status:, wikidata:, reason: ...)", name,
                         line, key)
            continue
        entries[key] = _entry(key, raw, name, problems)
    exact: dict[str, str] = {}
    for entry in entries.values():
        if entry.status == "verified" and entry.wikidata and entry.match == "exact":
            other = exact.setdefault(entry.wikidata, entry.key)
            if other != entry.key:
                problems.add(f"{entry.wikidata} is already the exact match of {other}; two "
                             "entities cannot both be exactly the same item", name, entry.line,
                             entry.key, "link one of them with match: close, or choose "
                             "another item")
    copied: dict[str, str] = {}
    for entry in entries.values():
        if entry.facts and entry.wikidata:
            other = copied.setdefault(entry.wikidata, entry.key)
            if other != entry.key:
                problems.add(f"the facts of {entry.wikidata} are already copied in the "
                             f"decision for {other}", name, entry.facts.line, entry.key,
                             "give an item's facts in one decision only")
    problems.raise_if_any(f"invalid links file {name}")
    missing = [key for key in registry.entities if key not in entries]
    return Links(path, entries, missing)


def require_complete(links: Links) -> None:
    """Refuse a links file that lacks a decision for some registry key."""
    problems = ProblemList()
    for key in links.missing:
        problems.add(f"no link decision for the registry key {key!r}", str(links.path), None,
                     key, f"add `{key}: {{status: candidate, reason: not yet checked against "
                     f"any source}}` (or status: none with a reason), or run `kg link propose "
                     f"{key} --write`")
    problems.raise_if_any(f"{links.path} lacks decisions")


# --- writing the file ----------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z][A-Za-z0-9 ,.'()/-]*$")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"}


def _scalar(text: str) -> str:
    import json

    if _PLAIN.match(text) and text.casefold() not in _YAML_WORDS and not text.endswith(" "):
        return text
    return json.dumps(text, ensure_ascii=False)


def render_entry(entry: LinkEntry) -> str:
    """One decision as YAML, fields in a fixed order (reads back to the same entry)."""
    lines = [f"{entry.key}:"]
    if entry.wikidata:
        lines.append(f"  wikidata: {entry.wikidata}")
        lines.append(f"  match: {entry.match}")
    lines.append(f"  status: {entry.status}")
    if entry.checked:
        lines.append(f"  checked: {entry.checked.isoformat()}")
    if entry.method:
        lines.append(f"  method: {entry.method}")
    for name in ("source", "evidence"):
        value = getattr(entry, name)
        if value:
            lines.append(f"  {name}: {_scalar(value)}")
    if entry.as_of:
        lines.append(f"  as_of: {entry.as_of.isoformat()}")
    if entry.facts:
        facts = entry.facts
        lines.append("  facts:")
        lines.append(f"    source: {_scalar(facts.source)}")
        if facts.label:
            lines.append(f"    label: {_scalar(facts.label)}")
        for name_, day in facts.dates:
            lines.append(f"    {name_}: {day.isoformat()}")
        if facts.coordinates:
            lon, lat = facts.coordinates
            lines.append(f"    coordinates: \"Point({lon} {lat})\"")
        if facts.evidence:
            lines.append(f"    evidence: {_scalar(facts.evidence)}")
    if entry.candidates:
        lines.append("  candidates:")
        for cand in entry.candidates:
            lines.append(f"    - {{id: {cand.id}, label: {_scalar(cand.label or cand.id)}, "
                         f"score: {cand.score:.2f}}}")
    if entry.reason:
        lines.append(f"  reason: {_scalar(entry.reason)}")
    return "\n".join(lines) + "\n"


def _blocks(text: str, name: str) -> dict[str, tuple[int, int]]:
    """For each top-level key, the [start, end) line span of its entry, comments excluded."""
    data = load_text(text, name) if text.strip() else None
    if not isinstance(data, LineDict):
        return {}
    lines = text.splitlines()
    starts = sorted((data.key_line(k) - 1, k) for k in data)
    spans: dict[str, tuple[int, int]] = {}
    for index, (start, key) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        while end > start + 1 and (not lines[end - 1].strip()
                                   or lines[end - 1].startswith("#")):
            end -= 1
        spans[key] = (start, end)
    return spans


def update_links_file(path: Path, changed: Mapping[str, LinkEntry]) -> None:
    """Rewrite the entries in ``changed`` (atomically), keeping every other line as it is.

    Entries for new keys are appended at the end; a missing file is created with
    :data:`LINKS_HEADER`.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else LINKS_HEADER
    spans = _blocks(text, str(path))
    lines = text.splitlines()
    for key, (start, end) in sorted(spans.items(), key=lambda s: -s[1][0]):
        if key in changed:
            lines[start:end] = render_entry(changed[key]).rstrip("\n").split("\n")
    out = "\n".join(lines).rstrip("\n") + "\n"
    for key, entry in changed.items():
        if key not in spans:
            out += "\n" + render_entry(entry)
    write_atomically({path: out})


# --- names, types, dates: how well an item fits an entity ------------------------------------

def normalise(name: str) -> str:
    """Case, accents and punctuation removed: "Lüshun" ~ "lushun", "T. V. Soong" ~ "t v soong"."""
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]", " ", stripped.casefold()).split())


def name_similarity(ours: Iterable[str], theirs: Iterable[str]) -> float:
    """The best similarity (0..1) between any of our names and any of the item's."""
    best = 0.0
    theirs = [normalise(t) for t in theirs if t]
    for mine in (normalise(o) for o in ours if o):
        for other in theirs:
            if mine == other:
                return 1.0
            best = max(best, difflib.SequenceMatcher(None, mine, other).ratio())
    return best


# How a type was checked (Assessment.type_via).
VIA_QUERY = "query service (P31/P279*)"
VIA_DIRECT = "direct P31 only"


@dataclass(frozen=True)
class Assessment:
    """How an item fits an entity: the score and what speaks against it."""

    score: float
    names: float
    problems: list[str]  # failed plausibility: the item cannot be the entity
    notes: list[str]     # what could not be confirmed
    type_ok: bool | None = None  # None: the entity's type has no expected classes
    type_via: str = ""           # VIA_QUERY or VIA_DIRECT when type_ok is not None

    @property
    def type_summary(self) -> str:
        """``type: confirmed, query service (P31/P279*)`` and the like; "" if not checked."""
        if self.type_ok is None:
            return ""
        return f"type: {'confirmed' if self.type_ok else 'not confirmed'}, {self.type_via}"


# --- the type query on the Query Service -----------------------------------------------------

WD_PREFIX = "http://www.wikidata.org/entity/"


@dataclass(frozen=True)
class TypeCheck:
    """The Query Service's answer on the items' classes, or why there is none.

    ``classes`` maps each queried item to the expected classes it is an instance of,
    directly or through subclasses; an item not in it was not queried (its type is
    read from its direct P31). ``unavailable`` says why the query could not be used.
    """

    classes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    unavailable: str | None = None

    @property
    def message(self) -> str:
        """The line a command prints when it fell back to the direct P31."""
        if self.unavailable is None:
            return ""
        return f"type from direct P31 only: query service unavailable ({self.unavailable})"


def _sorted_qids(ids: Iterable[str]) -> list[str]:
    # fullmatch: QID's "$" would also accept a trailing newline
    return sorted({i for i in ids if QID.fullmatch(i)}, key=lambda q: int(q[1:]))


def type_query(ids: Iterable[str]) -> str:
    """The SELECT that confirms the items' types, built from validated item ids only.

    Items and classes are bound with VALUES (sorted, so the same items give the same
    query, and the cache answers it again); an id that is not ``Q`` and digits is
    refused, never pasted into the query.
    """
    wanted = list(ids)
    for qid in wanted:
        if not QID.fullmatch(qid):
            raise ValueError(f"{qid!r} is not a Wikidata item id")
    items = " ".join(f"wd:{q}" for q in _sorted_qids(wanted))
    classes = " ".join(f"wd:{q}" for q in _sorted_qids(
        c for expected in EXPECTED_TYPES.values() for c in expected))
    return ("PREFIX wd: <http://www.wikidata.org/entity/>\n"
            "PREFIX wdt: <http://www.wikidata.org/prop/direct/>\n"
            "SELECT ?item ?class WHERE {\n"
            f"  VALUES ?item {{ {items} }}\n"
            f"  VALUES ?class {{ {classes} }}\n"
            "  ?item wdt:P31/wdt:P279* ?class .\n"
            "}\n")


def _entity_qid(term: Any) -> str | None:
    if not isinstance(term, dict) or term.get("type") != "uri":
        return None
    value = term.get("value")
    if not isinstance(value, str) or not value.startswith(WD_PREFIX):
        return None
    qid = value[len(WD_PREFIX):]
    return qid if QID.fullmatch(qid) else None


def parse_type_bindings(bindings: Iterable[Any], ids: Iterable[str],
                        where: str = "the Query Service") -> dict[str, frozenset[str]]:
    """Each queried item's expected classes from the ``?item ?class`` bindings."""
    asked = _sorted_qids(ids)
    known = {c for expected in EXPECTED_TYPES.values() for c in expected}
    found: dict[str, set[str]] = {qid: set() for qid in asked}
    for binding in bindings:
        if not isinstance(binding, dict):
            raise RemoteError(f"the answer of {where} to the type query is not SPARQL JSON "
                              "results (a binding is not an object)",
                              hint="check --sparql: it must be a SPARQL 1.1 endpoint")
        qid, cls = _entity_qid(binding.get("item")), _entity_qid(binding.get("class"))
        if qid is None or cls is None:
            raise RemoteError(f"the answer of {where} to the type query binds ?item and "
                              f"?class to something other than Wikidata items: {binding!r}",
                              hint="check --sparql: it must be the Wikidata Query Service")
        if qid in found and cls in known:
            found[qid].add(cls)
    return {qid: frozenset(classes) for qid, classes in found.items()}


def confirm_types(client: WikidataClient, pairs: Iterable[tuple[Entity, Item]],
                  strict: bool = False) -> TypeCheck:
    """One Query Service request for every item whose entity's type has expected classes.

    If the Query Service fails (after the client's retries), times out, answers
    malformed JSON, or ``--offline`` has no cached answer, the check falls back to
    each item's direct P31 (``unavailable`` says why) -- unless ``strict``, when the
    error is raised (a remote failure exits 4, a cache miss 3).
    """
    ids = _sorted_qids(item.id for ent, item in pairs if ent.type in EXPECTED_TYPES)
    if not ids:
        return TypeCheck()
    try:
        bindings = client.sparql(
            type_query(ids), what="the type query",
            check=lambda rows: parse_type_bindings(rows, ids, client.sparql_url))
        return TypeCheck(parse_type_bindings(bindings, ids, client.sparql_url))
    except CacheMiss:
        if strict:
            raise
        return TypeCheck(unavailable="the type query is not in the Wikidata cache and "
                                     "--offline was given")
    except RemoteError as exc:
        if strict:
            raise RemoteError(f"the Query Service could not confirm the types and "
                              f"--strict-types was given: {exc.message}",
                              hint="try again later, or drop --strict-types to fall back to "
                                   "each item's direct P31 (instance of)") from None
        return TypeCheck(unavailable=exc.message)


def entity_names(ent: Entity) -> list[str]:
    return [ent.label, *ent.alt]


def assess(ent: Entity, item: Item, as_of: datetime.date = REFERENCE_DATE,
           types: TypeCheck | None = None) -> Assessment:
    """Score ``item`` as a link for ``ent``: names 0.6, type 0.2, dates 0.2 (where they apply).

    The type is confirmed by ``types`` (the Query Service: an instance of an expected
    class or of a subclass) when it covers the item, else by the direct P31 alone.
    """
    names = name_similarity(entity_names(ent), item.names())
    parts: list[tuple[float, float]] = [(0.6, names)]
    problems: list[str] = []
    notes: list[str] = []
    type_ok: bool | None = None
    via = ""
    expected = EXPECTED_TYPES.get(ent.type)
    if expected is not None:
        direct = set(item.item_values("P31"))
        queried = types.classes.get(item.id) if types is not None else None
        via = VIA_DIRECT if queried is None else VIA_QUERY
        type_ok = bool(direct & expected or (queried or set()) & expected)
        if queried is not None and queried & expected:
            parts.append((0.2, 1.0))
        elif direct & expected:
            parts.append((0.2, 1.0))
            via = VIA_DIRECT  # the API's P31 is newer than the Query Service's copy
        elif not direct:
            parts.append((0.2, 0.5))
            notes.append("the item states no type (P31)")
        elif ent.type == "Person":
            parts.append((0.2, 0.0))
            problems.append(f"not a human: instance of {', '.join(sorted(direct))}, not {HUMAN}"
                            + (", nor of a subclass of it" if queried is not None else ""))
        else:
            parts.append((0.2, 0.3))
            classes = sorted(expected, key=lambda q: int(q[1:]))
            wanted = (", ".join(classes[:-1]) + " or " if len(classes) > 1 else "") + classes[-1]
            notes.append(f"type not confirmed: instance of {', '.join(sorted(direct))}, "
                         + (f"not a subclass of {wanted} (query service)"
                            if queried is not None else f"not {wanted} (direct P31 only)"))
    lifespan = LIFESPAN.get(ent.type)
    if lifespan is not None:
        start_prop, end_prop = lifespan
        starts = [t.earliest() for t in item.times(start_prop)]
        ends = [t.latest() for t in item.times(end_prop)]
        starts_known = [d for d in starts if d is not None]
        ends_known = [d for d in ends if d is not None]
        verb = ("born", "died") if ent.type == "Person" else ("founded", "dissolved")
        wrong = []
        if starts_known and min(starts_known) > as_of:
            wrong.append(f"{verb[0]} {min(starts_known).isoformat()}, after {as_of.isoformat()}")
        if ends_known and max(ends_known) < as_of:
            wrong.append(f"{verb[1]} {max(ends_known).isoformat()}, before {as_of.isoformat()}")
        if wrong:
            parts.append((0.2, 0.0))
            problems.extend(wrong)
        elif starts_known or ends_known:
            parts.append((0.2, 1.0))
        else:
            parts.append((0.2, 0.5))
            notes.append(f"no dates ({start_prop}, {end_prop}) to check against "
                         f"{as_of.isoformat()}")
    total = sum(w for w, _ in parts)
    score = round(sum(w * v for w, v in parts) / total, 2)
    return Assessment(score, round(names, 2), problems, notes, type_ok, via)


# --- the graphs -----------------------------------------------------------------------------

def decision_iri(key: str) -> URIRef:
    return ID[f"link/{key}"]


def decision_graph(links: Links) -> Graph:
    """Every decision with its provenance; the mapping triple for verified links only."""
    graph = Graph()
    for key in sorted(links.entries):
        entry = links.entries[key]
        node = decision_iri(key)
        subject = entity(key)
        graph.add((node, RDF.type, DIP.LinkDecision))
        graph.add((node, DIP.linkSubject, subject))
        graph.add((node, DIP.linkStatus, STATUSES[entry.status]))
        if entry.wikidata:
            graph.add((node, DIP.linkTarget, WD[entry.wikidata]))
            graph.add((node, DIP.matchProperty, MATCHES[entry.match]))
            if entry.status == "verified":
                graph.add((subject, MATCHES[entry.match], WD[entry.wikidata]))
        if entry.checked:
            graph.add((node, DCTERMS.date, Literal(entry.checked, datatype=XSD.date)))
        if entry.method:
            activity = ID[f"link/{key}/activity"]
            graph.add((node, PROV.wasGeneratedBy, activity))
            graph.add((activity, RDF.type, PROV.Activity))
            graph.add((activity, DIP.linkMethod, Literal(entry.method)))
            if entry.checked:
                graph.add((activity, DCTERMS.date, Literal(entry.checked, datatype=XSD.date)))
        if entry.source:
            graph.add((node, DIP.verifiedAgainst, Literal(entry.source)))
        if entry.evidence:
            graph.add((node, DIP.linkEvidence, Literal(entry.evidence)))
        if entry.reason:
            graph.add((node, DIP.decisionReason, Literal(entry.reason, lang="en")))
        if entry.as_of:
            graph.add((node, DIP.linkAsOf, Literal(entry.as_of, datatype=XSD.date)))
        for cand in entry.candidates:
            cnode = ID[f"link/{key}/candidate/{cand.id}"]
            graph.add((node, DIP.candidate, cnode))
            graph.add((cnode, RDF.type, DIP.LinkCandidate))
            graph.add((cnode, DIP.linkTarget, WD[cand.id]))
            if cand.label:
                graph.add((cnode, RDFS.label, Literal(cand.label, lang="en")))
            graph.add((cnode, DIP.score, Literal(Decimal(f"{cand.score:.2f}"),
                                                 datatype=XSD.decimal)))
    return graph


def link_graphs(data_dir: Path, registry: Registry) -> dict[URIRef, Graph]:
    """``graph/links`` from ``data_dir/links.yaml`` and ``graph/wikidata`` from the snapshot.

    Without a links file there are no link graphs. A registry key without a
    decision, or a decision for an unknown key, is an input error.
    """
    path = data_dir / LINKS_FILE
    if not path.exists():
        return {}
    links = load_links(path, registry)
    require_complete(links)
    graphs = {LINKS_GRAPH: decision_graph(links)}
    facts = read_snapshot(data_dir / SNAPSHOT_FILE)
    facts += facts_graph(links)
    if len(facts):
        graphs[WIKIDATA_GRAPH] = facts
    return graphs


# --- the snapshot of Wikidata facts ------------------------------------------------------------

# Wikidata's RDF writes descriptions with http://schema.org/ (not https).
WIKIDATA_DESCRIPTION = URIRef("http://schema.org/description")
SNAPSHOT_PROPS = ("P31", "P569", "P570", "P571", "P576", "P625")
_TIME_TYPES = {11: XSD.date, 10: XSD.gYearMonth, 9: XSD.gYear}


def _time_literal(time: str, precision: int) -> Literal | None:
    match = re.match(r"^\+(\d{4})-(\d\d)-(\d\d)T", time)
    if not match or precision < 9:
        return None
    year, month, day = match.groups()
    kind = _TIME_TYPES[min(precision, 11)]
    text = {XSD.date: f"{year}-{month}-{day}", XSD.gYearMonth: f"{year}-{month}",
            XSD.gYear: year}[kind]
    return Literal(text, datatype=kind)


def _day_literal(day: datetime.date) -> Literal:
    return Literal(day.isoformat(), datatype=XSD.date)


def _point_literal(lon: float, lat: float) -> Literal:
    return Literal(f"Point({lon:g} {lat:g})", datatype=GEO.wktLiteral)


def snapshot_graph(items: Iterable[Item], source: str) -> Graph:
    """The few facts the project uses, as Wikidata's own RDF states them, with provenance.

    Per item: ``rdfs:label`` and ``<http://schema.org/description>`` (English), ``wdt:P31``, and
    ``wdt:P569``/``P570``/``P571``/``P576`` as ``xsd:date`` (``gYearMonth``/``gYear``
    at month or year precision), ``wdt:P625`` as a ``geo:wktLiteral``. A record
    ``id/wikidata/Q...`` says which revision they were read from, when and how.
    """
    graph = Graph()
    for item in items:
        node = WD[item.id]
        if item.label():
            graph.add((node, RDFS.label, Literal(item.label(), lang="en")))
        if item.description():
            graph.add((node, WIKIDATA_DESCRIPTION, Literal(item.description(), lang="en")))
        for qid in item.item_values("P31"):
            if QID.match(qid):
                graph.add((node, WDT.P31, WD[qid]))
        for prop in ("P569", "P570", "P571", "P576"):
            for value in item.times(prop):
                literal = _time_literal(value.time, value.precision)
                if literal is not None:
                    graph.add((node, WDT[prop], literal))
        for lat, lon in item.coordinates():
            graph.add((node, WDT.P625, _point_literal(lon, lat)))
        record = ID[f"wikidata/{item.id}"]
        graph.add((record, RDF.type, PROV.Entity))
        graph.add((record, DCTERMS.subject, node))
        graph.add((record, DCTERMS.source, Literal(source)))
        graph.add((record, DIP.factOrigin, DIP.WikidataAPI))
        if item.lastrevid is not None:
            graph.add((record, DIP.itemRevision, Literal(item.lastrevid)))
        if item.modified:
            graph.add((record, DCTERMS.modified, Literal(item.modified, datatype=XSD.dateTime)))
        if item.retrieved:
            graph.add((record, PROV.generatedAtTime, Literal(item.retrieved,
                                                              datatype=XSD.dateTime)))
    return graph


def stored_copy_record(qid: str) -> URIRef:
    return ID[f"wikidata/{qid}/stored-copy"]


def facts_graph(links: Links) -> Graph:
    """The facts verified stored-source decisions copied from stored copies (facts:).

    Stated exactly as :func:`snapshot_graph` states them (``wdt:P569`` ... as
    ``xsd:date``, ``wdt:P625`` as a ``geo:wktLiteral``, the label in English), with
    a record ``id/wikidata/Q.../stored-copy`` per item: a ``prov:Entity`` about the
    item, with the stored copy as ``dcterms:source``, the decision it was copied for
    as ``prov:wasDerivedFrom``, the words seen as ``dip:factEvidence`` and
    ``dip:factOrigin dip:StoredCopy`` (not retrieved from the API). The API
    snapshot's record of the same item, if any, stays beside it.
    """
    graph = Graph()
    for key in sorted(links.entries):
        entry = links.entries[key]
        facts = entry.facts
        if facts is None or entry.status != "verified" or not entry.wikidata:
            continue
        node = WD[entry.wikidata]
        if facts.label:
            graph.add((node, RDFS.label, Literal(facts.label, lang="en")))
        for name, day in facts.dates:
            graph.add((node, WDT[FACT_DATES[name]], _day_literal(day)))
        if facts.coordinates:
            graph.add((node, WDT.P625, _point_literal(*facts.coordinates)))
        record = stored_copy_record(entry.wikidata)
        graph.add((record, RDF.type, PROV.Entity))
        graph.add((record, DCTERMS.subject, node))
        graph.add((record, DCTERMS.source, Literal(facts.source)))
        graph.add((record, PROV.wasDerivedFrom, decision_iri(key)))
        graph.add((record, DIP.factOrigin, DIP.StoredCopy))
        if facts.evidence:
            graph.add((record, DIP.factEvidence, Literal(facts.evidence)))
    return graph


SNAPSHOT_HEADER = """\
# Facts read from Wikidata for the verified links of data/links.yaml, written by
# `kg link snapshot` (do not edit by hand). Each item's record id/wikidata/Q...
# names the revision the facts were read from and when.
"""


def write_snapshot(path: Path, graph: Graph) -> None:
    write_atomically({path: SNAPSHOT_HEADER + turtle(graph)})


def read_snapshot(path: Path) -> Graph:
    graph = Graph()
    if not path.exists():
        return graph
    try:
        graph.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises several parser exception types
        raise InputError(f"cannot parse {describe_parse_error(path, exc)}",
                         hint="regenerate it with `kg link snapshot`") from None
    return graph


def with_candidates(entry: LinkEntry, considered: list[Considered], today: datetime.date,
                    reason: str) -> LinkEntry:
    """A candidate decision recording the items a search considered (not for verified ones)."""
    assert entry.status != "verified", "a verified decision is never overwritten by a proposal"
    return replace(entry, status="candidate", candidates=considered, checked=today,
                   method="wikidata-api", reason=reason)


__all__ = ["CACHE_DIR", "EXPECTED_TYPES", "FACT_DATES", "FACT_FIELDS", "LINKS_FILE",
           "LINKS_HEADER", "REFERENCE_DATE", "SNAPSHOT_FILE", "VIA_DIRECT", "VIA_QUERY",
           "Assessment", "Considered", "LinkEntry", "Links", "StoredFacts", "TypeCheck",
           "assess", "confirm_types", "decision_graph", "facts_graph", "link_graphs",
           "load_links", "name_similarity", "parse_type_bindings", "read_snapshot",
           "render_entry", "require_complete", "snapshot_graph", "stored_copy_record",
           "type_query", "update_links_file", "write_snapshot"]
