"""The site in a real browser: Debian's headless Chromium driven by Playwright.

The pages are served from a loopback HTTP server, so "nothing leaves the page's
origin" can be checked on every request the browser makes. Screenshots of each page
type are written to a temporary folder (its path is printed; `pytest -s` shows it).

Without /usr/bin/chromium these tests fail in CI (CI is set by .ci/run) and are
skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Project

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
CABLE = "id/doc/1945-07-11-harriman-soong.html"
GUARDS = "the guards should be Chinese"


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI fails without it")


@pytest.fixture(scope="module")
def served(built: Project) -> Iterator[str]:
    """The site on http://127.0.0.1:PORT/, stopped after the module."""
    assert built.run("site") == 0
    handler = functools.partial(_QuietHandler, directory=str(built.build / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Watch:
    """Requests and console messages of one page."""

    origin: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    also: list[str] = field(default_factory=list)  # origins a test opens on purpose

    def elsewhere(self) -> list[str]:
        return [u for u in self.requests
                if not any(u.startswith(o) for o in (self.origin, *self.also))]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: a temporary folder, or KG_SITE_SCREENSHOTS if set (the
    README's docs/img/reading-view.png and issue-timeline.png come from such a run)."""
    chosen = os.environ.get("KG_SITE_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder}")
    return folder


@pytest.fixture
def page(browser: Any, served: str) -> Iterator[tuple[Any, Watch]]:
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    tab = context.new_page()
    watch = Watch(served)
    tab.on("request", lambda r: watch.requests.append(r.url))
    tab.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: watch.errors.append(str(e)))
    yield tab, watch
    context.close()
    assert watch.elsewhere() == []
    assert watch.errors == []


def test_selecting_a_highlight_opens_its_claim(page: tuple[Any, Watch], served: str,
                                               shots: Path) -> None:
    tab, _ = page
    tab.goto(served + CABLE)
    card = tab.locator(".cards .card:visible")
    assert card.count() == 0  # nothing selected yet
    tab.locator("a.hl", has_text=GUARDS).click()
    assert card.count() == 1
    text = card.inner_text()
    assert "Concession" in text
    assert re.search(r"Actor\s+Joseph Stalin", text)
    assert "said by T. V. Soong to W. Averell Harriman (T. V. Soong’s account)" in text
    assert re.search(r"reported by W. Averell Harriman to James F. Byrnes, Harry S. Truman "
                     r"\(W. Averell Harriman’s report\)", text)
    assert GUARDS in card.locator("blockquote").inner_text()
    assert tab.evaluate("document.activeElement.classList.contains('card')")
    tab.screenshot(path=str(shots / "reading-view.png"))


def test_a_highlight_opens_from_the_keyboard(page: tuple[Any, Watch], served: str) -> None:
    tab, _ = page
    tab.goto(served + CABLE)
    tab.keyboard.press("Tab")
    assert tab.evaluate("document.activeElement.textContent") == "Skip to content"
    tab.keyboard.press("Enter")
    for _ in range(200):  # Tab through the page to the highlight
        tab.keyboard.press("Tab")
        if GUARDS in (tab.evaluate("document.activeElement.textContent") or ""):
            break
    else:
        pytest.fail("the highlight cannot be reached with Tab")
    outline = tab.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    tab.keyboard.press("Enter")
    assert "Joseph Stalin" in tab.locator(".cards .card:visible").inner_text()
    card_id = tab.evaluate("document.activeElement.id")
    assert re.fullmatch(r"claim-c\d+", card_id)
    tab.keyboard.press("Escape")  # back to the words
    assert GUARDS in tab.evaluate("document.activeElement.textContent")


def test_the_gloss_is_the_archives_not_harrimans(page: tuple[Any, Watch], served: str) -> None:
    tab, _ = page
    tab.goto(served + CABLE)
    gloss = tab.locator(".gloss", has_text="[Lüshunkou District, Dalian]")
    assert gloss.count() == 1
    assert gloss.locator(".gloss-by").inner_text() == "gloss by Wilson Center Digital Archive"
    assert "Harriman" not in gloss.inner_text()
    # it stands in the transcript Harriman wrote, yet is not part of any claim he reports
    section = tab.locator("section.layer", has=gloss)
    assert "by W. Averell Harriman" in section.locator("h2").inner_text()
    assert tab.locator("a.hl .gloss").count() == 0


def test_from_a_claim_to_its_issue_and_back(page: tuple[Any, Watch], served: str,
                                            shots: Path) -> None:
    tab, _ = page
    tab.goto(served + CABLE)
    tab.locator("a.hl", has_text=GUARDS).click()
    tab.locator(".cards .card:visible dd.issue a").click()
    tab.wait_for_url("**/id/entity/railway-guards.html")
    assert tab.locator("h1").inner_text() == "guards of the railways"
    assert tab.locator("table.timeline").count() == 1
    tab.screenshot(path=str(shots / "issue-from-claim.png"), full_page=True)
    tab.locator("table.timeline a.quote", has_text=GUARDS).click()
    tab.wait_for_url(lambda url: url.endswith(CABLE + "#claim-c05"))
    card = tab.locator(".cards .card:visible")
    assert card.count() == 1 and "guards of the railways" in card.inner_text()
    assert tab.locator('a.hl[aria-current="true"]', has_text=GUARDS).count() == 1


def test_from_who_conceded_what_to_the_words(page: tuple[Any, Watch], served: str,
                                             shots: Path) -> None:
    tab, _ = page
    tab.goto(served + "index.html")
    tab.screenshot(path=str(shots / "overview.png"))
    tab.locator("ul.conceded a.quote", has_text=GUARDS).click()
    tab.wait_for_url(lambda url: url.endswith(CABLE + "#claim-c05"))
    assert "Joseph Stalin" in tab.locator(".cards .card:visible").inner_text()
    tab.go_back()
    tab.wait_for_url("**/index.html")
    assert tab.locator("h1").inner_text() == "The negotiation at a glance"


PAGE_TYPES = {
    "issue-timeline": "id/entity/outer-mongolia-status.html",
    "claim": "id/doc/1945-07-11-harriman-soong/claim/c05.html",
    "party": "id/entity/stalin.html",
    "entity": "id/entity/port-arthur.html",
    "query": "queries/who-conceded-what.html",
    "ontology": "ontology.html",
    "shapes": "shapes.html",
    "dataset": "dataset.html",
}


@pytest.mark.parametrize("kind", sorted(PAGE_TYPES))
def test_each_page_type_loads_cleanly(page: tuple[Any, Watch], served: str, shots: Path,
                                      kind: str) -> None:
    tab, watch = page
    tab.goto(served + PAGE_TYPES[kind])
    tab.wait_for_load_state("load")
    tab.screenshot(path=str(shots / f"{kind}.png"), full_page=kind == "issue-timeline")
    assert tab.locator("h1").count() >= 1
    assert len(watch.requests) >= 1
    if kind != "ontology":  # pyLODE's page has its own layout
        for role in ("banner", "navigation", "main", "contentinfo"):
            assert tab.get_by_role(role).count() >= 1, role
        nameless = tab.evaluate("""[...document.querySelectorAll('a, button')].filter(
            e => !e.textContent.trim() && !e.getAttribute('aria-label')).length""")
        assert nameless == 0  # every link says where it goes
        unlabelled = tab.evaluate("""[...document.querySelectorAll('section, aside')].filter(
            e => !e.getAttribute('aria-labelledby') && !e.getAttribute('aria-label')).length""")
        assert unlabelled == 0


def test_entity_page_shows_its_link_decision(page: tuple[Any, Watch], served: str) -> None:
    tab, _ = page
    tab.goto(served + "id/entity/stalin.html")
    decision = tab.locator(".decision")
    assert decision.inner_text().startswith("verified: Q855")
    assert decision.locator("a").get_attribute("href") == "http://www.wikidata.org/entity/Q855"
    assert tab.locator("h3", has_text="Concession").count() == 1
    tab.goto(served + "id/entity/soong.html")
    assert tab.locator(".decision").inner_text().startswith("candidate")


def test_act_tags_have_enough_contrast_as_rendered(page: tuple[Any, Watch], served: str) -> None:
    """The legend's tags, with the colours the browser computed from the style sheet."""
    from tests.test_site import contrast

    tab, _ = page
    tab.goto(served + CABLE)
    colours = tab.evaluate("""() => [...document.querySelectorAll('.legend .act-tag')].map(e => {
        const s = getComputedStyle(e); return [e.textContent, s.color, s.backgroundColor]; })""")
    assert len(colours) == 11

    def hex_of(rgb: str) -> str:
        r, g, b = (int(x) for x in re.findall(r"\d+", rgb)[:3])
        return f"#{r:02x}{g:02x}{b:02x}"

    for tag, fg, bg in colours:
        assert contrast(hex_of(fg), hex_of(bg)) >= 4.5, tag


@pytest.mark.server
def test_a_stored_question_opens_in_the_yasgui_page_of_kg_serve(
        page: tuple[Any, Watch], served: str, tmp_path: Path) -> None:
    """The query page's link, pointed at a real Oxigraph server on a free port."""
    from tests.servers import Oxigraph

    tab, watch = page
    tab.goto(served + "queries/who-conceded-what.html")
    link = tab.locator("a.yasgui").get_attribute("href")
    assert link is not None and link.startswith("http://127.0.0.1:7878/#query=")
    server = Oxigraph(tmp_path / "store").start()
    try:
        # Past this point the page is Oxigraph's, not the site's: it asks its own server,
        # and its YASGUI fetches prefixes from prefix.cc (refused on a closed network).
        watch.also += [server.url + "/", "http://prefix.cc/"]
        ours = len(watch.errors)
        tab.goto(link.replace("127.0.0.1:7878", f"127.0.0.1:{server.port}")
                 .replace("127.0.0.1%3A7878", f"127.0.0.1%3A{server.port}"))
        tab.wait_for_function("document.querySelector('.CodeMirror') !== null")
        editor = tab.evaluate("document.querySelector('.CodeMirror').CodeMirror.getValue()")
        stored = (Path(__file__).resolve().parents[1] / "queries/who-conceded-what.rq")
        assert editor == stored.read_text(encoding="utf-8")
        del watch.errors[ours:]  # whatever YASGUI logs offline is not the site's
    finally:
        server.stop()
