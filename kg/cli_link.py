"""The ``kg link`` sub-command: propose, check, verify and snapshot links to Wikidata.

``kg.cli`` calls :func:`register` with its ``add`` helper. The decisions are in
``data/links.yaml`` (:mod:`kg.linking`); the network goes through
:class:`kg.wikidata.WikidataClient`, whose answers are cached in
``data/wikidata/cache`` so that ``--offline`` can repeat any command later.
``propose``, ``check`` and ``verify`` read items from the Action API and confirm
their types with one Query Service request per run (falling back to the direct
P31, and saying so, when the Query Service cannot answer, unless ``--strict-types``).
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

from kg.cli_args import AddCommand, Handler, seconds
from kg.errors import EXIT_NOT_CONFORMING, EXIT_OK, UsageError
from kg.linking import (
    CACHE_DIR,
    LINKS_FILE,
    REFERENCE_DATE,
    SNAPSHOT_FILE,
    Assessment,
    Considered,
    LinkEntry,
    Links,
    TypeCheck,
    assess,
    confirm_types,
    entity_names,
    load_links,
    name_similarity,
    snapshot_graph,
    update_links_file,
    with_candidates,
    write_snapshot,
)
from kg.registry import Entity, Registry, load_registry
from kg.wikidata import API_URL, QID, SPARQL_URL, Item, Lookup, Missing, Redirected, WikidataClient

ACTIONS = ("status", "propose", "check", "verify", "snapshot")
NAME_THRESHOLD = 0.75  # below this, the item's names no longer match the entity's
KEEP_CANDIDATES = 5


def _registry(args: argparse.Namespace) -> Registry:
    return load_registry(args.data / "entities.yaml")


def _links(args: argparse.Namespace, registry: Registry) -> Links:
    path = args.data / LINKS_FILE
    if not path.exists():
        return Links(path, {}, list(registry.entities))
    return load_links(path, registry)


def _client(args: argparse.Namespace) -> WikidataClient:
    cache = args.cache if args.cache is not None else args.data / CACHE_DIR
    return WikidataClient(cache_dir=cache, api_url=args.api, sparql_url=args.sparql,
                          offline=args.offline, contact=args.contact,
                          min_interval=args.interval, max_retries=args.retries,
                          timeout=(min(5.0, args.timeout), args.timeout))


def _keys(args: argparse.Namespace, registry: Registry, default: list[str]) -> list[str]:
    keys = args.keys or default
    for key in keys:
        if key not in registry:
            raise UsageError(f"{key!r} is not a key of the entity registry",
                             hint=registry.suggest(key))
    return keys


def _item(lookup: Lookup) -> Item | None:
    if isinstance(lookup, Redirected):
        return lookup.item
    return lookup if isinstance(lookup, Item) else None


# --- status ------------------------------------------------------------------------------

def link_status(args: argparse.Namespace) -> int:
    """Every registry key's decision, without the network."""
    if args.keys:
        raise UsageError("kg link status takes no keys", hint="kg link status")
    registry = _registry(args)
    links = _links(args, registry)
    rows = [("key", "status", "wikidata", "match", "method", "source")]
    counts = {"verified": 0, "candidate": 0, "none": 0}
    for key in registry.entities:
        entry = links.entries.get(key)
        if entry is None:
            rows.append((key, "MISSING", "-", "-", "-", f"no entry in {links.path}"))
            continue
        counts[entry.status] += 1
        shown = entry.wikidata or "-"
        if entry.wikidata and entry.status != "verified":
            shown += " (unverified)"
        rows.append((key, entry.status, shown, entry.match if entry.wikidata else "-",
                     entry.method or "-", _short(entry.source or entry.reason or "-", 60)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    out = sys.stdout
    for row in rows:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False))
                  + "  " + row[5] + "\n")
    out.write(f"{len(registry.entities)} registry keys: {counts['verified']} verified, "
              f"{counts['candidate']} candidate, {counts['none']} without a link (none), "
              f"{len(links.missing)} without a decision\n")
    if links.missing:
        out.write(f"add a decision for each MISSING key to {links.path} (status: candidate or "
                  "none with a reason), or run `kg link propose KEY --write`\n")
    return EXIT_OK


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 1] + "…"


# --- propose -----------------------------------------------------------------------------

def link_propose(args: argparse.Namespace) -> int:
    """Search Wikidata for each key's names, score the items, print (and record) them.

    The items of every key are fetched first, then their types are confirmed with one
    Query Service request for the whole run, then each key's candidates are printed.
    """
    registry = _registry(args)
    links = _links(args, registry)
    default = [k for k in registry.entities
               if k not in links.entries or links.entries[k].status == "candidate"]
    keys = _keys(args, registry, default)
    client = _client(args)
    today = datetime.date.today()
    changed: dict[str, LinkEntry] = {}
    out = sys.stdout
    # Per key: a line to print as is (a verified key), or the entity and its items.
    found: list[tuple[str, str | tuple[Entity, LinkEntry, list[Item]]]] = []
    try:
        for key in keys:
            ent = registry.entities[key]
            entry = links.entries.get(key) or LinkEntry(key)
            if entry.status == "verified":
                found.append((key, f"{key}: verified ({entry.wikidata}); not re-proposed "
                                   "(kg link check re-checks it)\n"))
                continue
            if entry.status == "none" and not args.keys:
                continue
            ids: list[str] = []
            for name in dict.fromkeys(entity_names(ent)):
                ids.extend(c.id for c in client.search(name, limit=args.limit))
            ids = list(dict.fromkeys(ids))
            lookups = client.get_entities(ids) if ids else {}
            items = [item for item in map(_item, lookups.values()) if item is not None]
            found.append((key, (ent, entry, items)))
        pairs = [(what[0], item) for _, what in found if not isinstance(what, str)
                 for item in what[2]]
        types = confirm_types(client, pairs, strict=args.strict_types)
    finally:
        client.close()
    _say_fallback(types)
    for key, what in found:
        if isinstance(what, str):
            out.write(what)
            continue
        ent, entry, items = what
        scored = [(assess(ent, item, entry.reference_date, types), item) for item in items]
        scored.sort(key=lambda s: (-s[0].score, int(s[1].id[1:])))
        out.write(f"{key} ({ent.type}: {ent.label})\n")
        if not scored:
            out.write("  no candidates\n")
        for result, item in scored:
            details = "; ".join(d for d in (f"names {result.names:.2f}", result.type_summary)
                                if d)
            out.write(f"  {result.score:.2f}  {item.id:<10} {item.label()}"
                      + (f" -- {item.description()}" if item.description() else "")
                      + f"  [{details}]\n")
            for problem in result.problems:
                out.write(f"        implausible: {problem}\n")
            for note in result.notes:
                out.write(f"        note: {note}\n")
        considered = [Considered(item.id, item.label(), result.score)
                      for result, item in scored[:KEEP_CANDIDATES]]
        if considered:
            best = considered[0]
            reason = (f"Proposed by kg link propose on {today.isoformat()} from a Wikidata "
                      f"search for {', '.join(entity_names(ent))}; best {best.id} "
                      f"({best.label}, score {best.score:.2f}). Not verified: choose an "
                      "item and run kg link verify.")
        else:
            reason = (f"kg link propose found no Wikidata item on {today.isoformat()} for "
                      f"{', '.join(entity_names(ent))}.")
        changed[key] = with_candidates(entry, considered, today, reason)
    if args.write and changed:
        update_links_file(links.path, changed)
        out.write(f"recorded candidates for {len(changed)} key(s) in {links.path} "
                  "(status: candidate, unverified)\n")
    elif changed:
        out.write("nothing written (add --write to record the candidates)\n")
    return EXIT_OK


def _say_fallback(types: TypeCheck) -> None:
    """Say so when the types were read from the direct P31 only."""
    if types.unavailable is not None:
        sys.stdout.write(types.message + "\n")


# --- check and verify ----------------------------------------------------------------------

def _problems(entry: LinkEntry, registry: Registry, lookup: Lookup,
              types: TypeCheck | None = None) -> tuple[list[str], list[str], Assessment | None]:
    """What is wrong with a link (problems), what could not be confirmed (notes), the score."""
    ent = registry.entities[entry.key]
    if isinstance(lookup, Missing):
        return [f"{lookup.id} does not exist (deleted, or never existed)"], [], None
    problems: list[str] = []
    if isinstance(lookup, Redirected):
        problems.append(f"{lookup.id} was merged into {lookup.target} (a redirect): link "
                        f"{lookup.target} instead")
    item = _item(lookup)
    assert item is not None
    names = name_similarity(entity_names(ent), item.names())
    if names < NAME_THRESHOLD:
        problems.append(f"the item's label {item.label()!r} no longer matches "
                        f"{ent.label!r} or its other names (similarity {names:.2f})")
    result = assess(ent, item, entry.reference_date, types)
    problems.extend(f"implausible: {p}" for p in result.problems)
    return problems, result.notes, result


def _pairs(registry: Registry, entries: list[LinkEntry],
           lookups: dict[str, Lookup]) -> list[tuple[Entity, Item]]:
    """(entity, item) for each entry whose item exists (a redirect's target)."""
    out = []
    for entry in entries:
        item = _item(lookups[entry.wikidata]) if entry.wikidata else None
        if item is not None:
            out.append((registry.entities[entry.key], item))
    return out


def link_check(args: argparse.Namespace) -> int:
    """Re-check every link that names an item; exit 1 if a verified one fails."""
    registry = _registry(args)
    links = _links(args, registry)
    default = [k for k, e in links.entries.items() if e.wikidata]
    keys = _keys(args, registry, default)
    entries = [links.entries[k] for k in keys if k in links.entries and links.entries[k].wikidata]
    client = _client(args)
    try:
        lookups = client.get_entities([e.wikidata for e in entries if e.wikidata])
        types = confirm_types(client, _pairs(registry, entries, lookups),
                              strict=args.strict_types)
    finally:
        client.close()
    out = sys.stdout
    _say_fallback(types)
    failed_verified = 0
    failed = 0
    for entry in entries:
        assert entry.wikidata is not None
        lookup = lookups[entry.wikidata]
        problems, notes, result = _problems(entry, registry, lookup, types)
        item = _item(lookup)
        label = f" ({item.label()})" if item is not None else ""
        verdict = "FAILS" if problems else "ok"
        out.write(f"{entry.key}: {entry.status} {entry.wikidata}{label}: {verdict}\n")
        for problem in problems:
            out.write(f"  {problem}\n")
        for note in notes:
            out.write(f"  note: {note}\n")
        if result is not None and result.type_summary:
            out.write(f"  {result.type_summary}\n")
        if problems:
            failed += 1
            failed_verified += entry.status == "verified"
    out.write(f"checked {len(entries)} link(s): {failed} fail"
              + (f", {failed_verified} of them verified" if failed_verified else "") + "\n")
    if failed_verified:
        out.write(f"fix the verified links that fail in {links.path} (another item, or status: "
                  "candidate) and run kg link check again\n")
        return EXIT_NOT_CONFORMING
    return EXIT_OK


def link_verify(args: argparse.Namespace) -> int:
    """Check KEY's item on the Wikidata API; with --write record it as verified."""
    if len(args.keys) != 2 or not QID.match(args.keys[1]):
        raise UsageError("kg link verify takes a registry key and an item id",
                         hint="kg link verify stalin Q855 --write")
    key, qid = args.keys
    registry = _registry(args)
    _keys(argparse.Namespace(keys=[key]), registry, [])
    links = _links(args, registry)
    entry = links.entries.get(key) or LinkEntry(key)
    as_of = args.as_of or entry.as_of
    probe = LinkEntry(key, wikidata=qid, as_of=as_of)
    client = _client(args)
    try:
        lookups = client.get_entities([qid])
        types = confirm_types(client, _pairs(registry, [probe], lookups),
                              strict=args.strict_types)
    finally:
        client.close()
    lookup = lookups[qid]
    problems, notes, result = _problems(probe, registry, lookup, types)
    out = sys.stdout
    _say_fallback(types)
    for note in notes:
        out.write(f"note: {note}\n")
    if result is not None and result.type_summary:
        out.write(f"{result.type_summary}\n")
    if problems:
        out.write(f"{key}: {qid} FAILS the check, nothing recorded:\n")
        for problem in problems:
            out.write(f"  {problem}\n")
        return EXIT_NOT_CONFORMING
    item = _item(lookup)
    assert item is not None and result is not None
    ent = registry.entities[key]
    revision = f"revision {item.lastrevid}, " if item.lastrevid is not None else ""
    source = (f"Wikidata Action API wbgetentities ({args.api}), item {qid}, {revision}"
              f"retrieved {item.retrieved}")
    evidence = f"label {item.label()!r}" + (f"; description {item.description()!r}"
                                            if item.description() else "")
    candidates = [c for c in entry.candidates if c.id != qid]
    candidates.insert(0, Considered(qid, item.label(), result.score))
    verified = LinkEntry(
        key, status="verified", wikidata=qid, match=args.match or entry.match,
        checked=datetime.date.today(), method="wikidata-api", source=source,
        evidence=evidence, as_of=as_of, candidates=candidates[:KEEP_CANDIDATES],
        reason=(f"Checked against the Wikidata API: the item's names match {ent.label!r} "
                f"(similarity {result.names:.2f}); plausible as of "
                f"{probe.reference_date.isoformat()} (score {result.score:.2f})"
                + (f"; {result.type_summary}" if result.type_summary else "") + "."))
    out.write(f"{key}: {qid} ({item.label()}) passes the check\n  source: {source}\n")
    if args.write:
        update_links_file(links.path, {key: verified})
        out.write(f"recorded {key} as verified ({verified.match} match) in {links.path}\n")
    else:
        out.write("nothing written (add --write to record the link as verified)\n")
    return EXIT_OK


# --- snapshot --------------------------------------------------------------------------------

def link_snapshot(args: argparse.Namespace) -> int:
    """The facts of the verified links' items into data/wikidata/snapshot.ttl."""
    if args.keys:
        raise UsageError("kg link snapshot takes no keys: it covers every verified link",
                         hint="kg link snapshot")
    registry = _registry(args)
    links = _links(args, registry)
    ids = sorted({e.wikidata for e in links.entries.values()
                  if e.status == "verified" and e.wikidata}, key=lambda q: int(q[1:]))
    client = _client(args)
    try:
        lookups = client.get_entities(ids) if ids else {}
    finally:
        client.close()
    items = []
    for qid, lookup in lookups.items():
        if isinstance(lookup, Item):
            items.append(lookup)
        else:
            what = ("was merged into " + lookup.target if isinstance(lookup, Redirected)
                    else "does not exist")
            sys.stderr.write(f"warning: {qid} {what}; its facts are left out (run kg link "
                             "check)\n")
    graph = snapshot_graph(items, f"Wikidata Action API wbgetentities ({args.api})")
    path = args.data / SNAPSHOT_FILE
    write_snapshot(path, graph)
    sys.stdout.write(f"wrote {len(graph)} triples about {len(items)} item(s) to {path}\n")
    return EXIT_OK


HANDLERS: dict[str, Handler] = {"status": link_status, "propose": link_propose,
                                "check": link_check, "verify": link_verify,
                                "snapshot": link_snapshot}


def cmd_link(args: argparse.Namespace) -> int:
    return HANDLERS[args.action](args)


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def register(add: AddCommand) -> None:
    """Add ``kg link`` with kg.cli's ``add`` helper."""
    parser = add(
        "link", cmd_link,
        "Link registry entities to Wikidata: status (offline: every decision), propose "
        "(search and score candidates), check (re-check linked items: redirects, deletions, "
        "labels, plausibility), verify KEY QID (check one item and record it as verified), "
        "snapshot (cache the facts of verified items for queries).",
        "kg link status\n  kg link propose stalin --contact mailto:you@example.org\n"
        "  kg link verify stalin Q855 --write --contact mailto:you@example.org\n"
        "  kg link check --offline")
    parser.add_argument("action", choices=ACTIONS, help="what to do")
    parser.add_argument("keys", nargs="*", metavar="KEY",
                        help="registry keys (default: all that apply); verify: KEY QID")
    parser.add_argument("--write", action="store_true",
                        help="propose, verify: record the result in data/links.yaml")
    parser.add_argument("--match", choices=["exact", "close"],
                        help="verify: skos:exactMatch or skos:closeMatch (default: the "
                             "entry's, else exact)")
    parser.add_argument("--as-of", type=_date, metavar="DATE",
                        help="verify: the date at which the item must be plausible (default: "
                             f"the entry's as_of, else {REFERENCE_DATE.isoformat()})")
    parser.add_argument("--limit", type=int, default=5, metavar="N",
                        help="propose: search results per name (default 5)")
    group = parser.add_argument_group(
        "Wikidata", "Answers are cached in DATA/wikidata/cache; --offline uses only the cache.")
    group.add_argument("--contact", metavar="EMAIL|URL",
                       help="your contact for the User-Agent Wikimedia requires "
                            "(default: $KG_CONTACT); required online")
    group.add_argument("--offline", action="store_true",
                       help="never use the network: answer from the cache, fail on a miss")
    group.add_argument("--cache", type=Path, metavar="DIR",
                       help="cache folder (default: DATA/wikidata/cache)")
    group.add_argument("--api", default=API_URL, metavar="URL",
                       help=f"Action API endpoint (default: {API_URL})")
    group.add_argument("--sparql", default=SPARQL_URL, metavar="URL",
                       help=f"Query Service endpoint (default: {SPARQL_URL})")
    group.add_argument("--interval", type=seconds, default=1.0, metavar="S",
                       help="seconds between requests (default 1)")
    group.add_argument("--retries", type=int, default=3, metavar="N",
                       help="retries after a 429, 503, maxlag, 5xx or timeout (default 3)")
    group.add_argument("--timeout", type=seconds, default=30.0, metavar="S",
                       help="seconds to wait for each answer (default 30)")
    group.add_argument("--strict-types", action="store_true",
                       help="propose, check, verify: fail (exit 4) if the Query Service "
                            "cannot confirm the types, instead of falling back to each "
                            "item's direct P31")


__all__ = ["register"]
