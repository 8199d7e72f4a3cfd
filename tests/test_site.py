"""The static site (`kg site`): pages for every IRI, links that resolve, nothing loaded
from the network, byte-identical output, atomic writes, the VoID/DCAT description and
the contrast of the act-type marks. The browser tests are in test_site_browser.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS

from kg.namespace import BASE
from tests.conftest import ROOT, Project

VOID = "http://rdfs.org/ns/void#"
CABLE = "id/doc/1945-07-11-harriman-soong.html"


@pytest.fixture(scope="session")
def site(built: Project) -> Path:
    assert built.run("site") == 0
    return built.build / "site"


class Page(HTMLParser):
    """What a test needs of a page: its tags, links, resources and headings."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.headings: list[int] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def attr(self, tag: str, name: str) -> list[str]:
        return [a[name] or "" for t, a in self.tags if t == tag and name in a]


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_kg_site_writes_a_page_for_every_iri_under_the_base(built: Project, site: Path) -> None:
    iris = set()
    for line in (built.build / "asserted.nt").read_text(encoding="utf-8").splitlines():
        subject = line.split(" ", 1)[0].strip("<>")
        if re.fullmatch(re.escape(BASE) + r"id/(doc/[^/]+(/claim/[^/]+)?|entity/[^/]+)",
                        subject):
            iris.add(subject)
    # Every curated claim (as the build's manifest counts them per document) has its IRI.
    manifest = json.loads((built.build / "cache" / "manifest.json").read_text(encoding="utf-8"))
    claims = sum(len(c["meta"].get("claim_ids", [])) for c in manifest["chunks"].values())
    assert len([i for i in iris if "/claim/" in i]) == claims > 100
    missing = [i for i in sorted(iris) if not (site / (i[len(BASE):] + ".html")).is_file()]
    assert missing == []


def test_every_internal_link_resolves_and_nothing_is_loaded_from_elsewhere(site: Path) -> None:
    broken, external = [], []
    for path in html_pages(site):
        page = Page(path.read_text(encoding="utf-8"))
        for url in page.attr("a", "href"):
            parts = urlsplit(url)
            if parts.scheme or url.startswith("#") or not parts.path:
                continue
            if not (path.parent / unquote(parts.path)).resolve().is_file():
                broken.append(f"{path.relative_to(site)} -> {url}")
        for tag, name in (("script", "src"), ("link", "href"), ("img", "src"),
                          ("iframe", "src"), ("source", "src")):
            for url in page.attr(tag, name):
                if urlsplit(url).scheme not in ("", "data"):
                    external.append(f"{path.relative_to(site)}: <{tag} {name}={url}>")
    assert broken == []
    assert external == []


def test_pages_have_landmarks_one_h1_and_no_skipped_heading_levels(site: Path) -> None:
    problems = []
    for path in html_pages(site):
        if path.name == "ontology.html":
            continue  # pyLODE's page, checked for its title only
        page = Page(path.read_text(encoding="utf-8"))
        tags = [t for t, _ in page.tags]
        for landmark in ("header", "nav", "main", "footer"):
            if landmark not in tags:
                problems.append(f"{path.relative_to(site)}: no <{landmark}>")
        if page.headings.count(1) != 1 or page.headings[0] != 1:
            problems.append(f"{path.relative_to(site)}: headings {page.headings[:5]}")
        for before, after in zip(page.headings, page.headings[1:], strict=False):
            if after > before + 1:
                problems.append(f"{path.relative_to(site)}: h{before} then h{after}")
                break
        if page.attr("html", "lang") != ["en"]:
            problems.append(f"{path.relative_to(site)}: no lang")
    assert problems == []
    assert "<title>" in (site / "ontology.html").read_text(encoding="utf-8")


def test_the_reading_view_marks_the_glosses_as_the_archives(site: Path) -> None:
    text = (site / CABLE).read_text(encoding="utf-8")
    gloss = re.search(r'<span class="gloss" data-author="([^"]*)"><span class="gloss-text">'
                      r'\[Lüshunkou District, Dalian\]</span><span class="gloss-by">([^<]*)',
                      text)
    assert gloss is not None
    assert gloss.groups() == ("Wilson Center Digital Archive",
                              "gloss by Wilson Center Digital Archive")
    # the claim around it is Harriman's report, and its highlight stops at the gloss
    assert re.search(r'<a class="hl [^"]*" href="#claim-c\d+" data-claim="c\d+">'
                     r'(<span[^>]*>[^<]*</span>)*\[Lüshunkou', text) is None


def test_uncovered_and_no_act_sentences_are_shown(site: Path) -> None:
    yalta = (site / "id/doc/1945-02-11-yalta-agreement-far-east.html").read_text("utf-8")
    assert yalta.count('<span class="badge no-act"') == 4  # as `kg build` reports
    assert "coverage 12/16 transcript sentences (4 more marked as reporting no act)" in yalta
    cable = (site / CABLE).read_text(encoding="utf-8")
    assert '<span class="badge no-act"' not in cable
    assert '<span class="badge uncovered"' not in cable  # 21/21 covered


def test_the_same_graph_gives_byte_identical_pages(built: Project, site: Path,
                                                   tmp_path: Path) -> None:
    """A second build, in another process with another hash seed, writes the same bytes."""
    other = tmp_path / "again"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-m", "kg", *built.args("site", "-o", str(other))],
                   check=True, env=env, capture_output=True, cwd=ROOT)
    first = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    second = {p.relative_to(other): p.read_bytes() for p in other.rglob("*") if p.is_file()}
    assert sorted(first) == sorted(second)
    assert [str(p) for p in sorted(first) if first[p] != second[p]] == []


def test_a_failed_build_leaves_the_previous_site(built: Project, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    assert built.run("site", "-o", str(out)) == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("a template failed")

    monkeypatch.setattr("kg.site.publish.ontology_page", broken)
    with pytest.raises(RuntimeError):
        built.run("site", "-o", str(out))
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no leftovers


def test_void_and_dcat_describe_the_build(built: Project, site: Path) -> None:
    void = Graph().parse(built.build / "void.ttl", format="turtle")
    dataset = URIRef(BASE + "dataset")
    assert (dataset, RDF.type, URIRef(VOID + "Dataset")) in void
    assert (dataset, RDF.type, DCAT.Dataset) in void
    assert void.value(dataset, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/")
    assert void.value(dataset, DCTERMS.creator) == Literal("dipkg project")
    assert str(void.value(dataset, URIRef(str(DCAT) + "version"))) == "0.1.0"
    sources = set(void.objects(dataset, DCTERMS.source))
    assert len(sources) == len(list((ROOT / "data" / "curation").glob("*.yaml")))  # URLs
    # one subset per named graph; their triples add up to the whole
    lines = [line for name in ("asserted.nq", "inferred.nq")
             for line in (built.build / name).read_text(encoding="utf-8").splitlines()
             if line.strip()]
    graphs = {line.rsplit(" ", 2)[-2].strip("<>") for line in lines}
    subsets = list(void.objects(dataset, URIRef(VOID + "subset")))
    assert len(subsets) == len(graphs) + 1  # + the ontology graph
    total = int(void.value(dataset, URIRef(VOID + "triples")))  # type: ignore[arg-type]
    assert total == sum(int(void.value(s, URIRef(VOID + "triples")))  # type: ignore[arg-type]
                        for s in subsets)
    assert total > len(lines)  # the ontology's triples too
    assert int(void.value(dataset, URIRef(VOID + "classes"))) > 20  # type: ignore[arg-type]
    assert (site / "dataset.ttl").read_bytes() == (built.build / "void.ttl").read_bytes()


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48


def test_act_marks_have_enough_contrast_and_differ_by_more_than_colour() -> None:
    css = (ROOT / "kg/site/static/site.css").read_text(encoding="utf-8")
    text = re.search(r"--text: (#[0-9a-f]{6})", css).group(1)  # type: ignore[union-attr]
    acts = re.findall(r"\.act-(\w+)\s*\{ --c: (#[0-9a-f]{6}); --bg: (#[0-9a-f]{6}); "
                      r"--line: (\w+); \}", css)
    assert len(acts) == 11
    for name, colour, background, _ in acts:
        assert contrast(colour, "#ffffff") >= 4.5, f"{name}: white tag text on {colour}"
        assert contrast(text, background) >= 4.5, f"{name}: text on {background}"
        assert contrast(colour, background) >= 3, f"{name}: underline on {background}"
    # tags are unique words, so no act is told by its colour alone
    from kg.site.model import ACT_TAGS

    assert len(set(ACT_TAGS.values())) == len(ACT_TAGS) == len(acts)


def test_an_uncovered_sentence_is_shown_as_such(scratch: Project) -> None:
    """Without its no_claim entry, item 2's number is a sentence no claim covers."""
    curation = scratch.data / "curation/1945-02-11-yalta-agreement-far-east.yaml"
    text = curation.read_text(encoding="utf-8")
    entry = ('  - quote: "2."\n    in: "2. The former rights"\n'
             "    reason: The number of item 2; it states nothing.\n")
    assert entry in text
    curation.write_text(text.replace(entry, ""), encoding="utf-8")
    assert scratch.run("build") == 0
    assert scratch.run("infer") == 0
    assert scratch.run("site") == 0
    page = (scratch.build / "site/id/doc/1945-02-11-yalta-agreement-far-east.html"
            ).read_text(encoding="utf-8")
    assert page.count('<span class="badge uncovered">not covered</span>') == 1
    assert re.search(r'<span class="badge uncovered">not covered</span>'
                     r'<span class="sent-uncovered">2\.</span>', page)
    assert page.count('<span class="badge no-act"') == 3
    overview = (scratch.build / "site/index.html").read_text(encoding="utf-8")
    assert "coverage 12/16 transcript sentences, 3 marked as reporting no act, " \
           "<strong>1 not covered</strong>" in overview


def test_another_stored_question_on_an_issue_gets_a_table_on_its_page(
        built: Project, tmp_path: Path) -> None:
    """So a time-aware question (standing-on) shows on the issue pages once it is stored."""
    import shutil

    from kg.cli import main

    queries = tmp_path / "queries"
    shutil.copytree(ROOT / "queries", queries)
    (queries / "standing-stand-in.rq").write_text(
        "#+ summary: Where does the issue stand, in which negotiation?\n"
        "#+ columns: negotiation, status\n"
        "#+ param: issue iri:Issue optional - only this issue\n"
        "PREFIX dip: <https://w3id.org/dipkg/ontology#>\n"
        "SELECT ?negotiation ?status WHERE {\n"
        "  ?s dip:statusOf ?issue ; dip:negotiation ?negotiation ; dip:issueStatus ?status\n"
        "} ORDER BY ?negotiation ?status\n", encoding="utf-8")
    args = built.args("site", "-o", str(tmp_path / "site"))
    args[args.index("--queries") + 1] = str(queries)
    assert main(args) == 0
    page = (tmp_path / "site/id/entity/ports.html").read_text(encoding="utf-8")
    section = page.split('<h2 id="q-standing-stand-in-h">', 1)[1].split("</section>", 1)[0]
    assert section.startswith("Where does the issue stand, in which negotiation?</h2>")
    assert re.findall(r"<td>(.*?)</td>", section) == [
        '<a href="../../id/entity/sino-soviet-negotiations-1945.html">'
        "Sino-Soviet negotiations of 1945</a>",
        '<span title="https://w3id.org/dipkg/ontology#Disputed">disputed</span>']


def test_every_site_file_is_package_data() -> None:
    """An installed wheel carries the templates, style sheet, script and redirect rules."""
    import tomllib
    from fnmatch import fnmatch

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["kg.site"]
    assert "kg.site" in config["tool"]["setuptools"]["packages"]
    folder = ROOT / "kg/site"
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*")
             if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert len(files) >= 12
    assert [f for f in files if not any(fnmatch(f, pat) for pat in patterns)] == []


def test_the_ontology_page_is_titled_by_the_ontology_alone(site: Path) -> None:
    page = (site / "ontology.html").read_text(encoding="utf-8")
    assert re.findall(r"<h1>(.*?)</h1>", page) == ["Diplomatic negotiation ontology"]
    assert "https://w3id.org/dipkg/ontology/0.1.0" in page  # the version IRI


def test_an_entity_page_lists_its_mentions_in_their_words(site: Path) -> None:
    page = (site / "id/entity/port-arthur.html").read_text(encoding="utf-8")
    mentions = re.findall(r'<li><a href="([^"]*)">([^<]*)</a>: (.*?)</li>', page)
    assert len(mentions) >= 5
    href, name, words = mentions[0]
    assert (href, name) == ("../../id/doc/1945-02-11-yalta-agreement-far-east.html#m-1576-1587",
                            "1945-02-11-yalta-agreement-far-east [1576–1587]")
    assert "the lease of <mark>Port Arthur</mark> as a naval base" in words
    doc = (site / "id/doc/1945-02-11-yalta-agreement-far-east.html").read_text(encoding="utf-8")
    assert '<span id="m-1576-1587"></span>' in doc  # the link's target


def test_a_stored_questions_quotes_link_to_their_words(site: Path) -> None:
    page = (site / "queries/who-conceded-what.html").read_text(encoding="utf-8")
    assert '<td><a href="../id/doc/1945-07-11-harriman-soong.html#claim-c05">Generalissimo ' \
           "Stalin agreed, after long argument, that the guards should be Chinese</a></td>" \
        in page
    assert re.search(r"\b\d+ rows\.", page)


def test_the_w3id_rules_send_an_iri_to_its_page(site: Path) -> None:
    """Apply the HTML rule of w3id.htaccess to document, claim and entity IRIs."""
    rules = (site / "w3id.htaccess").read_text(encoding="utf-8")
    assert rules == (ROOT / "kg/site/w3id.htaccess").read_text(encoding="utf-8")
    pattern, target = re.search(r"^RewriteRule (\^id/\(\.\+\)\$) https://SITE/(\S+) \[R=303,L\]$",
                                rules, re.MULTILINE).groups()  # type: ignore[union-attr]
    for iri in (BASE + "id/doc/1945-07-11-harriman-soong",
                BASE + "id/doc/1945-07-11-harriman-soong/claim/c05",
                BASE + "id/entity/stalin"):
        page = re.sub(pattern, target.replace("$1", r"\1"), iri[len(BASE):])
        assert (site / page).is_file(), page
    for dump in ("asserted.ttl", "asserted.jsonld", "dip.ttl"):  # what RDF clients get
        assert f"https://SITE/data/{dump}" in rules
        assert (site / "data" / dump).is_file()


def test_kg_site_without_a_build_says_what_to_run(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from kg.cli import main

    assert main(["site", "--build-dir", str(tmp_path / "build")]) == 3
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {tmp_path / 'build' / 'store'} does not exist")
    assert "Hint: run `make run`" in err
    assert not (tmp_path / "build" / "site").exists()
