"""Render the site's pages and write them atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote as urlquote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from rdflib import RDF, Literal, URIRef

from kg import __version__
from kg.build import Paths
from kg.errors import InputError
from kg.namespace import DIP
from kg.queries import StoredQuery, list_queries, run
from kg.site import publish
from kg.site.model import ACT_TAGS, Claim, Model, page_path
from kg.site.reading import spans
from kg.sparql import Engine, Results, Term

# The YASGUI page of `kg serve` on its default port; the page reads the query and the
# endpoint from the fragment (YASGUI's share links), and needs the endpoint given, as it
# would otherwise derive it from the whole address, fragment included.
YASGUI = "http://127.0.0.1:7878/"
STATIC = ("site.css", "site.js")
# The build files the w3id redirects send RDF clients to (see w3id.htaccess).
# Shown in their own sections of an issue page; any other stored query with an
# `issue` parameter (and no other required one) gets a table there too.
ISSUE_PAGE_QUERIES = frozenset({"positions-over-time", "yalta-comparison"})
DATA_FILES = ("asserted.ttl", "asserted.jsonld", "context.jsonld")
LINK_STATUS = {"VerifiedLink": "verified", "CandidateLink": "candidate", "NoLink": "none"}
PROPERTY_LABELS = {
    "actor": "actor", "counterparty": "counterparty", "issue": "issue", "content": "content",
    "speaker": "said by", "heardBy": "said to", "reportedBy": "reported by",
    "reportedTo": "reported to", "respondsTo": "responds to", "meeting": "meeting",
    "negotiation": "negotiation", "modality": "modality", "condition": "condition",
    "manner": "manner", "assesses": "assesses", "measuredAgainst": "measured against",
    "judgement": "judgement", "place": "place", "party": "party",
}


@dataclass
class SiteResult:
    pages: int
    seconds: float
    folder: Path


def no_act_passages(paths: Paths) -> dict[str, list[tuple[int, int, str]]]:
    """The passages the curators marked as reporting no act (not in the graph: from curation)."""
    from kg.build import load_ontology
    from kg.compile import coverage, load_corpus

    corpus = load_corpus(paths.data, load_ontology(paths.ontology_file))
    return {cur.doc_id: coverage(cur).no_act for cur in corpus.curations}


class Site:
    def __init__(self, paths: Paths, engine: Engine) -> None:
        self.paths = paths
        self.engine = engine
        self.model = Model(engine, no_act_passages(paths))
        self.env = Environment(loader=PackageLoader("kg.site", "templates"),
                               autoescape=select_autoescape(["html"]),
                               undefined=StrictUndefined, trim_blocks=True,
                               lstrip_blocks=True, keep_trailing_newline=True)
        self.env.filters["urlquote"] = lambda s: urlquote(str(s), safe="")
        self.queries = {q.name: q for q in list_queries(paths.queries)}
        self.files: dict[str, str] = {}

    # --- helpers given to every template -------------------------------------------

    def context(self, path: str) -> dict[str, Any]:
        depth = path.count("/")
        root = "../" * depth
        model = self.model

        def href(target: Term | str | None, fragment: str = "") -> str:
            if target is None:
                return ""
            if isinstance(target, str) and not isinstance(target, URIRef):
                page = target
            else:
                claim = model.claims.get(target)
                if claim is not None:
                    page = page_path(claim.doc) or ""
                    fragment = fragment or f"claim-{claim.id}"
                else:
                    page = page_path(target) or ""
                if not page:
                    return str(target)
            return root + page + (f"#{fragment}" if fragment else "")

        return {"root": root, "path": path, "href": href, "label": model.index.label,
                "m": model, "version": __version__, "act_tags": ACT_TAGS,
                "claim_for": self.claim_for, "is_local": lambda t: page_path(t) is not None,
                "fmt": fmt, "acts": self.legend(),
                "claim_page": lambda c: page_path(c.iri) or ""}

    def legend(self) -> list[dict[str, str]]:
        by_name = {v["name"]: v for v in self.model.acts.values()}
        return [{"name": n, "tag": t, "label": by_name[n]["label"] if n in by_name else n}
                for n, t in ACT_TAGS.items()]

    def claim_for(self, document: Term | None, quote: Term | None) -> Claim | None:
        """The claim a stored query's row stands for (its document id and quote)."""
        doc = self.model.doc_by_id.get(str(document))
        if doc is None:
            return None
        return self.model.by_quote.get((doc.iri, str(quote)))

    def render(self, path: str, template: str, **values: Any) -> None:
        context = self.context(path)
        context.update(values)
        self.files[path] = self.env.get_template(template).render(**context)

    def query(self, name: str, **bindings: Term) -> Results | None:
        stored = self.queries.get(name)
        if stored is None:
            return None
        return run(stored, self.engine, dict(bindings))

    # --- pages ---------------------------------------------------------------------

    def build(self) -> None:
        m = self.model
        for doc in m.documents:
            sections = [(s, spans(doc, s)) for s in doc.sections]
            self.render(page_path(doc.iri) or "", "document.html", doc=doc, sections=sections)
            for claim in doc.claims:
                self.render(page_path(claim.iri) or "", "claim.html", claim=claim, doc=doc)
        for entity in m.entities:
            self.render(page_path(entity) or "", "entity.html", **self.entity(entity))
        self.render("index.html", "overview.html", **self.overview())
        for stored in self.queries.values():
            self.render(f"queries/{stored.name}.html", "query.html", q=stored,
                        results=self.stored_results(stored),
                        yasgui=YASGUI + "#query=" + urlquote(stored.text, safe="")
                        + "&endpoint=" + urlquote(YASGUI + "query", safe=""))
        self.render("queries/index.html", "queries.html",
                    queries=sorted(self.queries.values(), key=lambda q: q.name))
        self.render("shapes.html", "shapes.html", shapes=publish.shapes(self.paths.shapes_file))
        void = publish.describe_dataset(self.engine, __version__)
        void_ttl = void.serialize(format="longturtle")
        self.files["dataset.ttl"] = void_ttl
        self.render("dataset.html", "dataset.html", void=void_ttl,
                    graphs=self.graph_rows(void), triples=void.value(publish.DATASET,
                                                                     publish.VOID.triples))
        self.files["ontology.html"] = publish.ontology_page(self.paths.ontology_file)
        for name in STATIC:
            self.files[f"static/{name}"] = (resources.files("kg.site") / "static" / name
                                            ).read_text(encoding="utf-8")
        for name in DATA_FILES:
            self.files[f"data/{name}"] = (self.paths.build / name).read_text(encoding="utf-8")
        self.files["data/dip.ttl"] = self.paths.ontology_file.read_text(encoding="utf-8")
        self.files["w3id.htaccess"] = (resources.files("kg.site") / "w3id.htaccess"
                                       ).read_text(encoding="utf-8")

    def graph_rows(self, void: Any) -> list[tuple[str, int]]:
        sd_name = URIRef("http://www.w3.org/ns/sparql-service-description#name")
        return sorted((str(void.value(s, sd_name)), int(void.value(s, publish.VOID.triples)))
                      for s in void.objects(publish.DATASET, publish.VOID.subset))

    def stored_results(self, stored: StoredQuery) -> Results | None:
        if any(not p.optional for p in stored.params.values()):
            return None
        return run(stored, self.engine, {})

    def entity(self, entity: URIRef) -> dict[str, Any]:
        m, idx = self.model, self.model.index
        types = sorted(idx.label(t) for t in idx.all(entity, RDF.type)
                       if str(t).startswith(str(DIP)) and t not in m.acts)
        acts: dict[str, list[Claim]] = defaultdict(list)
        for claim in m.claims.values():
            if entity in claim.fields.get("actor", []):
                acts[claim.act].append(claim)
        mentions = []
        for doc in m.documents:
            for start, end, body in doc.mentions:
                if body == entity:
                    mentions.append((doc, start, end, excerpt(doc.text, start, end)))
        decisions = []
        for decision in idx.subjects(DIP.linkSubject, entity):
            status = idx.one(decision, DIP.linkStatus)
            decisions.append({
                "status": LINK_STATUS.get(str(status).rsplit("#", 1)[-1], idx.label(status)),
                "target": idx.one(decision, DIP.linkTarget),
                "reason": idx.text(decision, DIP.decisionReason),
                "evidence": idx.text(decision, DIP.linkEvidence),
                "candidates": [idx.one(c, DIP.candidate) for c in
                               idx.all(decision, DIP.candidate)]})
        values: dict[str, Any] = {"entity": entity, "types": types, "mentions": mentions,
                                  "decisions": decisions,
                                  "acts": {a: sorted(acts[a], key=claim_order)
                                           for a in sorted(acts, key=act_rank)},
                                  "issue": None}
        if idx.is_a(entity, DIP.Issue):
            values["issue"] = self.issue(entity)
        return values

    def issue(self, issue: URIRef) -> dict[str, Any]:
        m, idx = self.model, self.model.index
        positions = self.query("positions-over-time", issue=issue)
        rows = positions.rows if positions else []
        parties = sorted({str(r["party"]) for r in rows if r.get("party") is not None})
        lanes = []
        for row in rows:
            lanes.append({"row": row, "claim": self.claim_for(row.get("document"),
                                                             row.get("quote")),
                          "lane": str(row.get("party"))})
        yalta = self.query("yalta-comparison", issue=issue)
        standings = []
        for standing in idx.subjects(DIP.statusOf, issue):
            standings.append({"negotiation": idx.one(standing, DIP.negotiation),
                              "status": idx.label(idx.one(standing, DIP.issueStatus)),
                              "supported": [c for c in idx.all(standing, DIP.statusSupportedBy)
                                            if c in m.claims]})
        others = []
        for stored in sorted(self.queries.values(), key=lambda q: q.name):
            param = stored.params.get("issue")
            if (stored.name in ISSUE_PAGE_QUERIES or param is None or param.kind != "iri"
                    or any(not p.optional for n, p in stored.params.items() if n != "issue")):
                continue
            found = run(stored, self.engine, {"issue": issue})
            if found.rows:
                others.append((stored, found))
        return {"lanes": lanes, "parties": parties, "yalta": yalta.rows if yalta else [],
                "others": others,
                "standings": sorted(standings, key=lambda s: str(s["negotiation"])),
                "broader": idx.all(issue, URIRef("http://www.w3.org/2004/02/skos/core#broader")),
                "narrower": idx.subjects(URIRef("http://www.w3.org/2004/02/skos/core#broader"),
                                         issue)}

    def overview(self) -> dict[str, Any]:
        m = self.model
        conceded = self.query("who-conceded-what")
        disputed = self.query("open-issues")
        matrix: dict[Term, dict[Term, list[Claim]]] = defaultdict(lambda: defaultdict(list))
        for claim in sorted(m.claims.values(), key=claim_order):
            for issue in claim.fields.get("issue", []):
                for actor in claim.fields.get("actor", []):
                    matrix[issue][actor].append(claim)
        issues = sorted(matrix, key=m.index.label)
        parties = sorted({p for row in matrix.values() for p in row}, key=m.index.label)
        return {"conceded": conceded.rows if conceded else [],
                "disputed": disputed.rows if disputed else [],
                "matrix": matrix, "matrix_issues": issues, "matrix_parties": parties}

    def write(self, folder: Path) -> None:
        """Write every page to a new folder beside ``folder``, then swap it in."""
        folder = folder.resolve()
        folder.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        try:
            for path, content in sorted(self.files.items()):
                target = temp / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(content, encoding="utf-8", newline="\n")
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temp, 0o777 & ~umask)  # mkdtemp makes it private; a site is public
            old = None
            if folder.exists():
                old = folder.with_name(f".{folder.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(folder, old)
            os.replace(temp, folder)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            shutil.rmtree(temp, ignore_errors=True)
            raise InputError(f"cannot write the site to {folder}: {exc}",
                             hint="check that the build folder is writable") from None
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise


def act_rank(act: str) -> tuple[int, str]:
    """Demands, offers, concessions, rejections first: the order of the legend."""
    order = list(ACT_TAGS)
    return (order.index(act) if act in order else len(order), act)


def claim_order(claim: Claim) -> tuple[str, str, int, str]:
    date = claim.fields.get("date", [])
    return (str(date[0]) if date else "", str(claim.doc), claim.start, claim.id)


def excerpt(text: str, start: int, end: int, width: int = 60) -> tuple[str, str, str]:
    left, right = text[max(0, start - width):start], text[end:end + width]
    # runs of white space become one space, and the one next to the mention stays
    before = " ".join(left.split()) + (" " if left[-1:].isspace() else "")
    after = (" " if right[:1].isspace() else "") + " ".join(right.split())
    return ("…" + before if start > width else before, text[start:end],
            after + "…" if end + width < len(text) else after)


def fmt(term: Term | None) -> str:
    """A term as a reader sees it: a literal's text, an IRI's last segment."""
    if term is None:
        return ""
    if isinstance(term, Literal):
        return str(term)
    return str(term).rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def build_site(paths: Paths, engine: Engine, out: Path | None = None) -> SiteResult:
    started = time.perf_counter()
    site = Site(paths, engine)
    site.build()
    folder = out or paths.build / "site"
    site.write(folder)
    from kg.export import write_atomically

    write_atomically({paths.build / "void.ttl": site.files["dataset.ttl"]})
    return SiteResult(sum(1 for p in site.files if p.endswith(".html")),
                      time.perf_counter() - started, folder)


