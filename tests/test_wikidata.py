"""The Wikidata client against a stand-in server on 127.0.0.1 (pytest-httpserver).

Every failure Wikidata can hand a client is staged for real over HTTP: 429 and 503
with Retry-After, maxlag errors, other 5xx, timeouts, malformed JSON, redirected and
missing items. No test reaches the internet.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from kg import __version__
from kg.errors import EXIT_INPUT, EXIT_REMOTE, EXIT_USAGE, RemoteError, UsageError
from kg.wikidata import CacheMiss, Item, Missing, Redirected, WikidataClient, WikiTime
from tests.wikidata_fake import (
    HUMAN,
    FakeWikidata,
    entity,
    loopback_server,
    malformed,
    maxlag_error,
    slow,
    status,
)

CONTACT = "mailto:curator@example.org"


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with loopback_server() as httpserver:
        yield httpserver


@pytest.fixture
def fake(server: HTTPServer) -> FakeWikidata:
    wd = FakeWikidata(server).install()
    wd.add(entity("Q900001", "Ivan Testovich", "fictional negotiator", ["Testovich"],
                  types=[HUMAN], born="1879-12-18", died="1953-03-05", lastrevid=2001))
    wd.add(entity("Q900002", "Ivan Testov", "fictional painter", types=[HUMAN],
                  born="1950-01-01"))
    return wd


def client(fake: FakeWikidata, tmp_path: Path, **kwargs: object) -> WikidataClient:
    options: dict[str, object] = {"cache_dir": tmp_path / "cache", "api_url": fake.api_url,
                                  "sparql_url": fake.sparql_url, "contact": CONTACT,
                                  "min_interval": 0.0, "backoff": 0.01, "timeout": (2.0, 5.0)}
    options.update(kwargs)
    return WikidataClient(**options)  # type: ignore[arg-type]


# --- etiquette ---------------------------------------------------------------------------

def test_user_agent_names_tool_and_contact_and_maxlag_is_sent(fake: FakeWikidata,
                                                              tmp_path: Path) -> None:
    hits = client(fake, tmp_path, maxlag=5).search("Testovich")
    assert [h.id for h in hits] == ["Q900001"]
    assert hits[0].match_type == "alias" and hits[0].label == "Ivan Testovich"
    agent = fake.user_agents[0]
    assert agent.startswith(f"dipkg/{__version__} ({CONTACT}) python-requests/")
    assert fake.log[0]["maxlag"] == "5" and fake.log[0]["action"] == "wbsearchentities"


def test_online_client_needs_a_contact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KG_CONTACT", raising=False)
    with pytest.raises(UsageError) as caught:
        WikidataClient(cache_dir=tmp_path)
    assert caught.value.exit_code == EXIT_USAGE
    assert "--contact" in (caught.value.hint or "")
    monkeypatch.setenv("KG_CONTACT", "https://example.org/me")
    assert WikidataClient(cache_dir=tmp_path).contact == "https://example.org/me"
    WikidataClient(cache_dir=tmp_path, offline=True, contact=None)  # offline needs none


def test_one_request_at_a_time(server: HTTPServer, tmp_path: Path) -> None:
    inflight = [0]
    peak = [0]
    guard = threading.Lock()

    def handler(request: Request) -> Response:
        with guard:
            inflight[0] += 1
            peak[0] = max(peak[0], inflight[0])
        time.sleep(0.1)
        with guard:
            inflight[0] -= 1
        term = request.args["search"]
        return Response(json.dumps({"searchinfo": {"search": term}, "search": [],
                                    "success": 1}), content_type="application/json")

    server.expect_request("/w/api.php").respond_with_handler(handler)
    wd = WikidataClient(cache_dir=tmp_path, api_url=server.url_for("/w/api.php"),
                        contact=CONTACT, min_interval=0.0)
    threads = [threading.Thread(target=wd.search, args=(f"term {i}",)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert wd.requests_made == 5
    assert peak[0] == 1


def test_min_interval_spaces_requests(fake: FakeWikidata, tmp_path: Path) -> None:
    wd = client(fake, tmp_path, min_interval=0.3)
    started = time.monotonic()
    wd.search("Ivan")
    wd.search("Testov")
    assert time.monotonic() - started >= 0.3


# --- failures and retries -------------------------------------------------------------------

def test_429_retry_after_is_honoured(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [status(429, retry_after="1")]
    started = time.monotonic()
    hits = client(fake, tmp_path).search("Ivan")
    waited = time.monotonic() - started
    assert waited >= 1.0, "the client did not wait the Retry-After the server gave"
    assert len(fake.log) == 2 and len(hits) == 2


def test_retry_after_is_capped(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [status(429, retry_after="3600")]
    started = time.monotonic()
    client(fake, tmp_path, max_wait=0.2).search("Ivan")
    assert time.monotonic() - started < 5


def test_maxlag_error_is_retried_after_retry_after(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [maxlag_error("1")]
    started = time.monotonic()
    got = client(fake, tmp_path).get_entities(["Q900001"])
    assert time.monotonic() - started >= 1.0
    assert isinstance(got["Q900001"], Item) and len(fake.log) == 2


def test_503_then_success(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [status(503, retry_after="0")]
    assert len(client(fake, tmp_path).search("Ivan")) == 2
    assert len(fake.log) == 2


def test_500_then_success_with_backoff(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [status(500), status(502)]
    assert len(client(fake, tmp_path).search("Ivan")) == 2
    assert len(fake.log) == 3


def test_retries_are_bounded(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [status(503, retry_after="0")] * 10
    with pytest.raises(RemoteError) as caught:
        client(fake, tmp_path, max_retries=2).search("Ivan")
    assert len(fake.log) == 3
    error = caught.value
    assert error.exit_code == EXIT_REMOTE
    assert "after 3 attempts: HTTP 503" in error.message and fake.api_url in error.message
    assert error.hint and "--offline" in error.hint
    assert not list((tmp_path / "cache").glob("*.json")), "a failure must not be cached"


def test_maxlag_forever_is_bounded(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [maxlag_error("0")] * 10
    with pytest.raises(RemoteError, match="maxlag"):
        client(fake, tmp_path, max_retries=1).get_entities(["Q900001"])
    assert len(fake.log) == 2


def test_timeout(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [slow(1.5)] * 3
    started = time.monotonic()
    with pytest.raises(RemoteError, match=r"no answer within 0.3 s"):
        client(fake, tmp_path, timeout=(1.0, 0.3), max_retries=1).get_entities(["Q900001"])
    assert time.monotonic() - started < 4


def test_timeout_then_success(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [slow(1.0)]
    got = client(fake, tmp_path, timeout=(1.0, 0.3)).get_entities(["Q900001"])
    assert isinstance(got["Q900001"], Item)


def test_connection_refused(tmp_path: Path) -> None:
    from tests.servers import free_port
    wd = WikidataClient(cache_dir=tmp_path, api_url=f"http://127.0.0.1:{free_port()}/w/api.php",
                        contact=CONTACT, backoff=0.01, max_retries=1)
    with pytest.raises(RemoteError, match="cannot connect"):
        wd.search("anything")


def test_malformed_json_is_an_error_and_not_cached(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [malformed()]
    wd = client(fake, tmp_path)
    with pytest.raises(RemoteError, match="malformed JSON") as caught:
        wd.get_entities(["Q900001"])
    assert caught.value.exit_code == EXIT_REMOTE
    assert not list((tmp_path / "cache").glob("*.json"))
    assert isinstance(wd.get_entities(["Q900001"])["Q900001"], Item)  # next time it works


def test_other_http_errors_fail_at_once(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.script = [status(403, body="Please set a user-agent")]
    with pytest.raises(RemoteError, match="HTTP 403") as caught:
        client(fake, tmp_path).search("Ivan")
    assert "User-Agent" in (caught.value.hint or "")
    assert len(fake.log) == 1


def test_api_error_is_reported(fake: FakeWikidata, tmp_path: Path) -> None:
    wd = client(fake, tmp_path)
    with pytest.raises(RemoteError, match="badvalue"):
        wd._fetch(wd.api_url, {"action": "nonsense", "format": "json"}, "a bad request")


# --- entities ---------------------------------------------------------------------------------

def test_item_facts(fake: FakeWikidata, tmp_path: Path) -> None:
    item = client(fake, tmp_path).get_entities(["Q900001"])["Q900001"]
    assert isinstance(item, Item)
    assert item.label() == "Ivan Testovich" and item.aliases() == ["Testovich"]
    assert item.item_values("P31") == [HUMAN]
    assert [t.time for t in item.times("P569")] == ["+1879-12-18T00:00:00Z"]
    assert item.lastrevid == 2001 and item.retrieved.endswith("Z")


def test_redirected_item(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.redirects["Q900009"] = "Q900001"
    got = client(fake, tmp_path).get_entities(["Q900009", "Q900002"])
    redirect = got["Q900009"]
    assert isinstance(redirect, Redirected)
    assert (redirect.id, redirect.target, redirect.item.label()) == (
        "Q900009", "Q900001", "Ivan Testovich")
    assert isinstance(got["Q900002"], Item)


def test_missing_item(fake: FakeWikidata, tmp_path: Path) -> None:
    got = client(fake, tmp_path).get_entities(["Q900404"])
    assert got == {"Q900404": Missing("Q900404")}


def test_bad_id_is_refused_before_any_request(fake: FakeWikidata, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        client(fake, tmp_path).get_entities(["P31"])
    assert not fake.log


def test_wikitime_bounds() -> None:
    year = WikiTime("+1945-00-00T00:00:00Z", 9)
    assert (str(year.earliest()), str(year.latest())) == ("1945-01-01", "1945-12-31")
    month = WikiTime("+1945-02-00T00:00:00Z", 10)
    assert str(month.latest()) == "1945-02-28"
    assert WikiTime("-0500-00-00T00:00:00Z", 9).earliest() is None


# --- the cache ------------------------------------------------------------------------------

def test_cache_hit_avoids_a_second_request(fake: FakeWikidata, tmp_path: Path) -> None:
    wd = client(fake, tmp_path, maxlag=5)
    first = wd.get_entities(["Q900001"])
    assert len(fake.log) == 1
    again = client(fake, tmp_path, maxlag=9).get_entities(["Q900001"])  # maxlag not in the key
    assert len(fake.log) == 1 and first == again
    files = list((tmp_path / "cache").glob("*.json"))
    assert len(files) == 1
    record = json.loads(files[0].read_text(encoding="utf-8"))
    assert "maxlag" not in record["request"]["params"]
    assert record["body"]["entities"]["Q900001"]["id"] == "Q900001"


def test_batch_is_cached_per_item(fake: FakeWikidata, tmp_path: Path) -> None:
    client(fake, tmp_path).get_entities(["Q900001", "Q900002"])
    assert len(fake.log) == 1 and fake.log[0]["ids"] == "Q900001|Q900002"
    offline = WikidataClient(cache_dir=tmp_path / "cache", api_url=fake.api_url, offline=True)
    assert isinstance(offline.get_entities(["Q900002"])["Q900002"], Item)
    assert len(fake.log) == 1


def test_offline_hit_and_miss(fake: FakeWikidata, tmp_path: Path) -> None:
    client(fake, tmp_path).search("Ivan")
    offline = WikidataClient(cache_dir=tmp_path / "cache", api_url=fake.api_url, offline=True)
    assert len(offline.search("Ivan")) == 2
    with pytest.raises(CacheMiss) as caught:
        offline.get_entities(["Q900002"])
    error = caught.value
    assert error.exit_code == EXIT_INPUT
    assert "Q900002" in error.message and "--offline" in error.message
    assert "without --offline" in (error.hint or "")
    assert len(fake.log) == 1


def test_sparql(fake: FakeWikidata, tmp_path: Path) -> None:
    fake.sparql_bindings = [{"item": {"type": "uri",
                                      "value": "http://www.wikidata.org/entity/Q900001"}}]
    rows = client(fake, tmp_path).sparql("SELECT ?item WHERE { ?item ?p ?o } LIMIT 1")
    assert rows[0]["item"]["value"].endswith("Q900001")
    assert "maxlag" not in fake.log[0] and fake.log[0]["format"] == "json"
