"""Adding a document is adding data: `kg new`, a curation, `kg build` — no code.

The corpus is copied to a temporary folder, a fourth document is scaffolded
there with `kg new`, curated by filling in the skeleton as the curation guide
says, and the whole pipeline (build, infer, validate, queries) runs on it with the
project's code, ontology and queries as they are; the repository's data/ is
checked to be untouched. The text is a short test memorandum written for this
test (it is not a historical document, and its claims are only used here).
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

import pytest

from kg.cli import main
from tests.conftest import ROOT, Project

MEMO = (
    "Title: Test memorandum\n"
    "Date: July 12, 1945\n"
    "URL: https://example.org/test-memorandum\n"
    "---\n"
    "MEMORANDUM FOR THE PRESIDENT\n"
    "FROM HARRIMAN\n"
    "\n"
    "Soong told me that Stalin again demanded a naval base within Dairen. "
    "Soong refused.\n"
)

CURATION_FILL = {
    # skeleton line -> what a curator writes instead (docs/curation-guide.md)
    "  sender:\n    value: TODO\n    quote: TODO\n":
        '  sender:\n    value: harriman\n    quote: "FROM HARRIMAN"\n',
    "  recipients:\n    value: [TODO]\n    quote: TODO\n":
        '  recipients:\n    value: [truman]\n    quote: "FOR THE PRESIDENT"\n',
    "  # negotiation: sino-soviet-negotiations-1945":
        "  negotiation: sino-soviet-negotiations-1945\n  #",
    "    author: TODO  # the archive or edition whose page was captured\n":
        "    author: office-of-the-historian\n",
    "    label: TODO what the transcript is\n    author: TODO\n":
        "    label: text of the memorandum\n    author: harriman\n",
    "  speaker: TODO  # who asserts the claims unless a claim says otherwise\n":
        "  speaker: soong\n  inferred:\n    speaker: Harriman reports what Soong told him.\n",
    "  heard_by: null\n": "  heard_by: harriman\n",
    "mentions: []\n":
        'mentions:\n  - {quote: "Stalin", entity: stalin}\n'
        '  - {quote: "Soong", entity: soong, all: true}\n',
    "claims: []\n": """claims:
  - id: m01
    act: Demand
    actor: stalin
    counterparty: soong
    issue: dairen-port-regime
    content: {label: a naval base within Dairen}
    quote: "Stalin again demanded a naval base within Dairen"
    date: 1945-07-12
    modality: done
    inferred:
      counterparty: Soong reports the demand as made to him.
      date: The memorandum's date; it gives no other.
  - id: m02
    act: Rejection
    actor: soong
    counterparty: stalin
    issue: dairen-port-regime
    content: {label: Soong refuses a naval base within Dairen}
    responds_to: m01
    quote: "Soong refused."
    date: 1945-07-12
    modality: done
    speaker: harriman
    heard_by: null
    inferred:
      date: The memorandum's date; it gives no other.
""",
}


def _digest(folder: Path) -> str:
    hasher = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            hasher.update(str(path.relative_to(folder)).encode())
            hasher.update(path.read_bytes())
    return hasher.hexdigest()


@pytest.fixture
def corpus(tmp_path: Path) -> Project:
    """A copy of the corpus in a temporary folder, with the memo text beside it."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    (tmp_path / "memo.txt").write_text(MEMO, encoding="utf-8")
    return Project(tmp_path)


def _query(project: Project, name: str, *params: str) -> list[dict[str, str]]:
    out = project.root / f"{name}.csv"
    args = [f"--param={p}" for p in params]
    assert project.run("query", name, "--format", "csv", "-o", str(out), *args) == 0
    return list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))


def test_a_fourth_document_is_data_only(corpus: Project,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    data_before = _digest(ROOT / "data")

    assert main(["new", str(corpus.root / "memo.txt"), "--id", "1945-07-12-test-memo",
                 "--data", str(corpus.data)]) == 0
    text = corpus.data / "text" / "1945-07-12-test-memo.txt"
    skeleton = corpus.data / "curation" / "1945-07-12-test-memo.yaml"
    assert text.read_bytes() == MEMO.encode("utf-8")
    written = skeleton.read_text(encoding="utf-8")
    assert "sha256: " + hashlib.sha256(MEMO.encode()).hexdigest() in written
    assert 'value: "Test memorandum"' in written and "value: 1945-07-12" in written
    assert "Stalin again demanded a naval base within Dairen." in written  # to-do list

    # The skeleton does not build until its TODOs are filled; the error names them.
    capsys.readouterr()
    assert corpus.run("build") == 3
    err = capsys.readouterr().err
    assert "1945-07-12-test-memo.yaml:" in err and "sender: value is still TODO" in err

    filled = written
    for old, new in CURATION_FILL.items():
        assert old in filled, f"skeleton lacks {old!r}"
        filled = filled.replace(old, new)
    skeleton.write_text(filled, encoding="utf-8")

    assert corpus.run("build") == 0
    out = capsys.readouterr().out
    assert "1945-07-12-test-memo: 2 claims" in out
    assert "coverage 3/3 transcript sentences" in out
    assert corpus.run("infer") == 0
    assert corpus.run("validate", "--quiet") == 0

    rows = _query(corpus, "positions-over-time", "issue=dairen-port-regime")
    memo_rows = [r for r in rows if r["document"] == "1945-07-12-test-memo"]
    assert [(r["party"], r["act"], r["date"]) for r in memo_rows] == [
        ("Joseph Stalin", "demand", "1945-07-12"), ("T. V. Soong", "rejection", "1945-07-12")]
    dates = [r["date"] or r["documentDate"] for r in rows]
    assert dates == sorted(dates) and dates[0] == "1945-02-11"  # Yalta first

    # On July 12 the new demand stands and is resisted: the issue is disputed, the memo's
    # demand is Stalin's latest position; the memo's positions appear beside the Yalta
    # term they are measured against.
    standing = [r for r in _query(corpus, "standing-on", "date=1945-07-12")
                if r["issue"] == "regime of the port of Dairen"
                and r["negotiation"] == "Sino-Soviet negotiations of 1945"]
    assert {r["status"] for r in standing} == {"disputed"}
    assert any(r["document"] == "1945-07-12-test-memo" and r["act"] == "demand"
               and r["party"] == "Joseph Stalin" for r in standing)
    compared = _query(corpus, "yalta-comparison", "issue=dairen-port-regime")
    assert {"1945-07-11-harriman-soong", "1945-07-12-test-memo"} <= {
        r["document"] for r in compared}

    # Everything happened in the temporary corpus: the repository's data is untouched.
    assert _digest(ROOT / "data") == data_before


def test_new_never_overwrites(corpus: Project, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["new", str(corpus.root / "memo.txt"), "--id", "memo", "--data", str(corpus.data)]
    assert main(args) == 0
    curation = corpus.data / "curation" / "memo.yaml"
    curation.write_text(curation.read_text(encoding="utf-8") + "# my work\n", encoding="utf-8")
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert curation.read_text(encoding="utf-8").endswith("# my work\n")


def test_new_rejects_a_text_that_is_not_utf8(corpus: Project,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    bad = corpus.root / "latin1.txt"
    bad.write_bytes("Soong r\xe9pondit.".encode("latin-1"))
    assert main(["new", str(bad), "--data", str(corpus.data)]) == 3
    err = capsys.readouterr().err
    assert "latin1.txt is not UTF-8" in err and "iconv" in err
    assert not (corpus.data / "text" / "latin1.txt").exists()


def test_new_rejects_a_bad_id(corpus: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", str(corpus.root / "memo.txt"), "--id", "Memo 1",
                 "--data", str(corpus.data)]) == 2
    assert "lower case letters, digits and hyphens" in capsys.readouterr().err


def test_positions_over_time_follow_outer_mongolia_across_three_documents(
        built: Project) -> None:
    # Rows of these three documents, in this order (a document added later may add rows).
    known = {"1945-02-11-yalta-agreement-far-east", "1945-07-07-harriman-telegram-071545",
             "1945-07-11-harriman-soong"}
    rows = [r for r in _query(built, "positions-over-time", "issue=outer-mongolia-status")
            if r["document"] in known]
    assert [(r["documentDate"], r["party"], r["act"], r["modality"]) for r in rows] == [
        ("1945-02-11", "Franklin D. Roosevelt and Joseph Stalin and Winston S. Churchill",
         "agreement", "done"),
        ("1945-07-07", "Joseph Stalin", "demand", "done"),
        ("1945-07-07", "T. V. Soong", "plan or intention", "planned"),
        ("1945-07-11", "Joseph Stalin", "demand", "done"),
        ("1945-07-11", "T. V. Soong", "concession", "done"),
    ]
    assert rows[0]["quote"] == ("The status quo in Outer-Mongolia (The Mongolian People's "
                                "Republic) shall be preserved")
    assert rows[0]["negotiation"] == "three-power negotiation on the Far East at Yalta"
    assert {r["negotiation"] for r in rows[1:]} == {"Sino-Soviet negotiations of 1945"}


def test_a_yalta_accord_does_not_settle_a_sino_soviet_issue(built: Project) -> None:
    """The same issue stands differently in the two negotiations on the same day."""
    rows = _query(built, "standing-on", "date=1945-07-11")
    railroads = {(r["negotiation"], r["status"]) for r in rows if r["issue"] == "the railroads"}
    assert railroads == {("Sino-Soviet negotiations of 1945", "disputed"),
                         ("three-power negotiation on the Far East at Yalta", "agreed")}


def test_link_keys_may_follow_options(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    """`kg link check --offline stalin truman` reads both as keys, not unknown arguments."""
    assert main(["link", "check", "--offline", "--cache", str(tmp_path), "--data",
                 str(ROOT / "data"), "stalin", "truman"]) == 3
    err = capsys.readouterr().err
    assert "the items Q855, Q11613 are not in the Wikidata cache" in err
    assert main(["report", "stray"]) == 2
    err = capsys.readouterr().err
    assert "unrecognized arguments: stray" in err and "kg report --help" in err


def test_query_output_format_follows_the_file_suffix(built: Project) -> None:
    out = built.root / "offers.csv"
    assert built.run("query", "offers", "-o", str(out)) == 0
    assert out.read_text(encoding="utf-8").startswith("party,offer,issue,")


def test_bench_refuses_zero_copies(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["bench", "--copies", "0"])
    assert stopped.value.code == 2
    assert "0 is not at least 1" in capsys.readouterr().err
