"""kg validate on the build and on files: exit codes and messages a person can act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.cli import main
from tests.conftest import ROOT, Project


def test_the_cable_conforms(built: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert built.run("validate") == 0
    out = capsys.readouterr().out
    assert "The graph conforms (SHACL: no findings)" in out
    assert (built.build / "validation.ttl").exists()


def test_a_changed_quote_in_the_build_is_caught(built: Project, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    source = (built.build / "asserted.nq").read_text(encoding="utf-8")
    exact = '"Stalin still insists on a majority of the directors"'
    assert exact in source
    tampered = tmp_path / "tampered.nq"
    tampered.write_text(source.replace(exact, '"Stalin still insists on a majority of directors"'),
                        encoding="utf-8")
    code = main(["validate", str(tampered), str(built.build / "inferred.nq"),
                 "--ontology", str(ROOT / "ontology")])
    out = capsys.readouterr().out
    assert code == 1
    assert 'quotes "Stalin still insists on a majority of directors" but the text at offsets' in out
    assert "The graph does NOT conform (SHACL: 1 violation)" in out
    assert "By document: 1945-07-11-harriman-soong: 1 violation" in out


def test_missing_and_malformed_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["validate", "--ontology", str(ROOT / "ontology")]
    assert main([*args, str(tmp_path / "nope.ttl")]) == 3
    err = capsys.readouterr().err
    assert "nope.ttl does not exist" in err and "check the file name" in err
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b <<\n", encoding="utf-8")
    assert main([*args, str(bad)]) == 3
    err = capsys.readouterr().err
    assert f"cannot parse {bad}:2:" in err
    assert "b'" not in err


def test_violation_queries_make_validate_fail(built: Project, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "always-violation.rq").write_text(
        "#+ summary: a check that always finds something\n#+ columns: s\n"
        "SELECT ?s WHERE { ?s a <https://w3id.org/dipkg/ontology#Demand> } ORDER BY ?s\n",
        encoding="utf-8")
    code = main(["validate", "--ontology", str(ROOT / "ontology"), "--queries", str(queries),
                 "--build-dir", str(built.build)])
    out = capsys.readouterr().out
    assert code == 1
    demands = sum(1 for path in (ROOT / "data" / "curation").glob("*.yaml")
                  for line in path.read_text(encoding="utf-8").splitlines()
                  if line.strip() == "act: Demand")
    assert f"check always-violation returned {demands} row(s)" in out
    assert "(SHACL: no findings; 1 violation check returned rows)" in out


def test_a_response_dated_before_what_it_answers_is_reported(
        scratch: Project, capsys: pytest.CaptureFixture[str]) -> None:
    """Across documents: a concession cannot answer a demand made after it."""
    telegram = scratch.data / "curation" / "1945-07-07-harriman-telegram-071545.yaml"
    text = telegram.read_text(encoding="utf-8")
    old = ("    quote: \"Stalin’s demand for formal recognition of the independence of Outer "
           "Mongolia\"\n    modality: done\n")
    assert old in text
    telegram.write_text(text.replace(old, old + "    date: 1945-07-20\n", 1), encoding="utf-8")
    assert scratch.run("build") == 0
    assert scratch.run("infer") == 0
    capsys.readouterr()
    assert main(["validate", "--ontology", str(ROOT / "ontology"),
                 "--queries", str(ROOT / "queries"), "--build-dir", str(scratch.build)]) == 1
    out = capsys.readouterr().out
    # Soong's July 11 concession (c26), his July 7 search for a formula (t15) and
    # Chiang's concession of July 9 (x05) all answer the demand, now dated after them.
    assert "check response-order-violation returned 3 row(s)" in out
    rows = scratch.root / "rows.csv"
    assert main(["query", str(ROOT / "queries" / "response-order-violation.rq"), "--format",
                 "csv", "-o", str(rows), "--ontology", str(ROOT / "ontology"),
                 "--build-dir", str(scratch.build)]) == 0
    found = rows.read_text(encoding="utf-8")
    assert "claim/c26,1945-07-11," in found and "claim/t15,1945-07-07," in found
    assert "claim/x05,1945-07-09," in found
