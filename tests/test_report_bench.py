"""The main job's closing report, and the benchmark command."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.bench import Measure, render, replicate
from kg.build import Paths
from kg.cli import main
from tests.conftest import ROOT, Project


def test_report_prints_concessions_and_disputes_with_quotes(
        built: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert built.run("report") == 0
    out = capsys.readouterr().out
    conceded, disputed = out.split("WHAT REMAINS DISPUTED, AND WHERE EACH SIDE STANDS")
    assert conceded.startswith("WHO CONCEDED WHAT TO WHOM")
    assert "Joseph Stalin conceded to T. V. Soong on 1945-07-11, on guards of the railways" in \
        " ".join(conceded.split())
    assert '"Generalissimo Stalin agreed, after long argument, that the guards should be Chinese"' \
        in conceded
    assert "T. V. Soong's account, reported by W. Averell Harriman" in conceded
    flat = " ".join(disputed.split())
    for issue in ("control of the management of the railways", "military zone under Soviet control",
                  "regime of the port of Dairen"):
        assert f"* {issue} (in the Sino-Soviet negotiations of 1945)" in flat
    assert 'Joseph Stalin (demand): a Soviet majority of the directors of the railways ' \
        '"Stalin still insists on a majority of the directors"' in flat
    assert 'T. V. Soong (rejection): Soong resists a Soviet majority of the directors ' \
        '"which Soong has resisted"' in flat


def test_replicate_makes_copies_with_their_own_ids(tmp_path: Path) -> None:
    target = replicate(ROOT / "data", tmp_path / "data", 3)
    names = sorted(p.stem for p in (target / "curation").glob("*.yaml"))
    documents = len(list((ROOT / "data" / "curation").glob("*.yaml")))
    assert documents >= 3 and len(names) == 3 * documents
    for name in names:
        text = (target / "curation" / f"{name}.yaml").read_text(encoding="utf-8")
        assert f"  id: {name}\n" in text


def test_render_gives_ratios_against_the_one_copy_run() -> None:
    rows = [Measure("compile", 1, 1.0, 50.0, 5.0),
            Measure("queries x2: oxigraph", 1, 0.1, 50.0, 0),
            Measure("queries x2: rdflib", 1, 4.0, 51.0, 1.0),
            Measure("compile", 4, 4.4, 60.0, 10.0)]
    text = render(rows)
    assert "40.0x Oxigraph" in text
    assert "4.4x the 1-copy time (1.10 per copy)" in text


def test_bench_command_runs_every_stage(capsys: pytest.CaptureFixture[str]) -> None:
    paths = Paths(data=ROOT / "data", ontology=ROOT / "ontology", queries=ROOT / "queries")
    code = main(["bench", "--copies", "1", "--no-rdflib", "--data", str(paths.data),
                 "--ontology", str(paths.ontology), "--queries", str(paths.queries)])
    out = capsys.readouterr().out
    assert code == 0
    for stage in ("compile", "write 5 formats", "infer: OWL RL (owlrl)", "infer: status rules",
                  "validate (pyshacl)",
                  f"queries x{len(list(paths.queries.glob('*.rq')))}: oxigraph"):
        assert stage in out


def test_bench_docs_measures_cold_warm_and_one_edit(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bench", "--docs", "4", "--data", str(ROOT / "data"), "--ontology",
                 str(ROOT / "ontology"), "--queries", str(ROOT / "queries")])
    out = capsys.readouterr().out
    assert code == 0
    rows = {line.split()[1]: line.split() for line in out.splitlines()[1:]}
    # Chunks rebuilt: every document plus the registry when cold (the benchmark's corpus
    # has no link decisions: kg.bench.replicate copies documents and registry), none when
    # warm, one after the edit.
    assert rows["cold"][5] == "5" and rows["warm"][5] == "0"
    assert "one edit" in out and out.splitlines()[3].split()[6] == "1"


def test_make_corpus_and_edit_one(tmp_path: Path) -> None:
    from kg.bench import edit_one, make_corpus

    data = make_corpus(ROOT / "data", tmp_path / "data", 5)
    assert len(list((data / "curation").glob("*.yaml"))) == 5
    before = {p: p.read_text(encoding="utf-8") for p in (data / "curation").glob("*.yaml")}
    edited = edit_one(data)
    changed = [p for p, text in before.items() if p.read_text(encoding="utf-8") != text]
    assert changed == [edited]
