"""``kg load --profile virtuoso`` and RemoteEngine against a real Virtuoso on 127.0.0.1.

Skipped only when ``virtuoso-t`` is not installed (Debian/Ubuntu:
``apt-get install virtuoso-opensource``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kg.errors import EXIT_OK, EXIT_REMOTE
from kg.queries import parse_query_file, run
from kg.store import PROFILES, RemoteEngine, StoreClient, Timeouts, connect
from tests.conftest import may_be_empty
from tests.servers import Virtuoso, kg_main
from tests.test_store import QUERIES, Build, comparable, expected_counts, sample_bindings

# The session build fixture, re-exported so pytest finds it in this module.
from tests.test_store import build as build

pytestmark = [
    pytest.mark.virtuoso,
    pytest.mark.skipif(not Virtuoso.installed(),
                       reason="virtuoso-t is not installed (apt-get install virtuoso-opensource)"),
]


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    server = Virtuoso(tmp_path_factory.mktemp("virtuoso")).start()
    yield server
    server.stop()


@pytest.fixture
def dba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_STORE_USER", Virtuoso.USER)
    monkeypatch.setenv("KG_STORE_PASSWORD", Virtuoso.PASSWORD)


def client(server: Virtuoso) -> StoreClient:
    return connect(server.url, "virtuoso",
                   environ={"KG_STORE_USER": Virtuoso.USER,
                            "KG_STORE_PASSWORD": Virtuoso.PASSWORD})


@pytest.fixture(scope="module")
def loaded(virtuoso: Virtuoso, build: Build) -> Virtuoso:
    env = {"KG_STORE_USER": Virtuoso.USER, "KG_STORE_PASSWORD": Virtuoso.PASSWORD}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        assert kg_main(["load", "--profile", "virtuoso", "--endpoint", virtuoso.url,
                        *build.args()]) == EXIT_OK
    return virtuoso


def test_load_and_reload_verify_counts(loaded: Virtuoso, build: Build, dba: None,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    expected = expected_counts(build.parts())
    assert client(loaded).count(list(expected)) == expected
    assert kg_main(["load", "--profile", "virtuoso", "--endpoint", loaded.url,
                    *build.args()]) == EXIT_OK
    assert "verified: " in capsys.readouterr().out
    assert client(loaded).count(list(expected)) == expected  # PUT replaced, no duplicates
    leftovers = client(loaded).select(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        "FILTER STRSTARTS(STR(?g), 'https://w3id.org/dipkg/graph/staging/') }")
    assert leftovers.rows == []


# Known difference, open: on Virtuoso 7 `changes` returns 31 rows where Oxigraph (embedded
# and remote) and rdflib return 35, and gives "agreed" as the later status of issues the
# final agreement settled, although the standings loaded there are the same (checked:
# the dated standings of Port Arthur read back identically, and standing-on agrees on
# 1945-08-14). Neither renaming the date variables nor replacing its OPTIONAL blocks by
# FILTER NOT EXISTS changed Virtuoso's answer.
VIRTUOSO_KNOWN = {"changes": "Virtuoso answers changes.rq differently from Oxigraph and "
                  "rdflib (31 rows instead of 35; settled read as agreed); not yet explained"}


@pytest.mark.parametrize("query_file", [
    pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=VIRTUOSO_KNOWN[p.stem]))
    if p.stem in VIRTUOSO_KNOWN else p
    for p in sorted(QUERIES.glob("*.rq"))], ids=lambda p: p.stem)
def test_stored_query_same_answer_on_virtuoso(query_file: Path, loaded: Virtuoso,
                                              build: Build) -> None:
    from kg.cli_store import default_graphs

    query = parse_query_file(query_file)
    bindings = sample_bindings(query_file)
    engine = RemoteEngine(loaded.url, "virtuoso", default_graphs(build.build_dir),
                          timeout=Timeouts(5, 60))
    embedded = run(query, build.embedded(), bindings)
    remote = run(query, engine, bindings)
    if not query.is_violation_check and not may_be_empty(query.name):
        assert embedded.rows
    assert comparable(remote) == comparable(embedded)


def test_wrong_password_is_a_remote_error(virtuoso: Virtuoso, build: Build,
                                          monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KG_STORE_USER", "dba")
    monkeypatch.setenv("KG_STORE_PASSWORD", "not-the-password")
    code = kg_main(["load", "--profile", "virtuoso", "--endpoint", virtuoso.url,
                    *build.args()])
    err = capsys.readouterr().err
    assert code == EXIT_REMOTE
    assert f"{virtuoso.url}/{PROFILES['virtuoso'].gsp_path} rejected the credentials" in err
    assert "not-the-password" not in err


def test_virtuoso_update_request_is_not_all_or_nothing(virtuoso: Virtuoso) -> None:
    """What kg.store's docstring says of Virtuoso: earlier operations stay applied."""
    store = client(virtuoso)
    store.put_graph("http://t/final", b'<http://t/s> <http://t/p> "old" .\n')
    store.put_graph("http://t/staging", b'<http://t/s> <http://t/p> "new" .\n')
    dead = "http://127.0.0.1:9/nothing.ttl"  # discard port: nothing listens
    with pytest.raises(Exception, match="500"):
        store.update(f"MOVE <http://t/staging> TO <http://t/final> ; "
                     f"LOAD <{dead}> INTO GRAPH <http://t/other>", what="probing", retry=False)
    rows = store.select("SELECT ?o WHERE { GRAPH <http://t/final> { ?s ?p ?o } }").rows
    assert [str(r["o"]) for r in rows] == ["new"]
