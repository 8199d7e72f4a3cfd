"""The built wheel, installed in a new virtual environment outside the repository, works.

As a new user would: build the wheel (from a copy of the package's sources, so the
repository's own folders are not at hand), install it with pip in a fresh venv
(dependencies from PyPI), then in a folder of its own `kg init`, fill in the registry,
`kg new` a text, curate it, and `kg build`, `kg infer`, `kg validate`, `kg query`, and
the same from Python. Marked slow; it runs in `make test`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.project import vocab_dir
from tests.conftest import ROOT
from tests.test_corpus import CURATION_FILL, MEMO


def _run(*args: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_the_wheel_builds_a_corpus_of_its_own(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    shutil.copytree(ROOT / "kg", source / "kg", symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "-w", wheels, source, cwd=tmp_path)
    (wheel,) = wheels.glob("dipkg-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    _run(venv / "bin" / "pip", "install", "--quiet", wheel, cwd=tmp_path)
    kg = venv / "bin" / "kg"
    python = venv / "bin" / "python"
    installed = _run(python, "-c", "import kg.project as p; print(p.vocab_dir())", cwd=tmp_path)
    assert str(venv) in installed  # the package's own data, not the repository's

    work = tmp_path / "home"
    work.mkdir()
    _run(kg, "init", "mycorpus", "--negotiation", "sino-soviet-negotiations-1945", cwd=work)
    corpus = work / "mycorpus"
    # The curator fills in the registry (here: the example's entries).
    registry = corpus / "data" / "entities.yaml"
    header = registry.read_text(encoding="utf-8").splitlines()[0]
    registry.write_text(header + "\n" + (vocab_dir() / "example" / "entities.yaml").read_text(
        encoding="utf-8"), encoding="utf-8")
    (work / "memo.txt").write_text(MEMO, encoding="utf-8")
    _run(kg, "new", work / "memo.txt", "--id", "memo", cwd=corpus / "data")
    curation = corpus / "data" / "curation" / "memo.yaml"
    text = curation.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    assert (curation.parent / text.splitlines()[0].split("=", 1)[1]).resolve().is_file()
    for old, new in CURATION_FILL.items():
        text = text.replace(old, new.replace("office-of-the-historian", "example-editor"))
    curation.write_text(text, encoding="utf-8")

    assert "memo: 2 claims" in _run(kg, "build", cwd=corpus / "data" / "curation")
    _run(kg, "infer", cwd=corpus)
    assert "The graph conforms" in _run(kg, "validate", cwd=corpus)
    answer = _run(kg, "query", "positions-over-time", "--param", "issue=dairen-port-regime",
                  "--format", "csv", cwd=corpus)
    assert "Joseph Stalin" in answer and "memo" in answer
    assert "WHO CONCEDED WHAT TO WHOM" in _run(kg, "report", cwd=corpus)
    rows = _run(python, "-c", "from kg.api import Project; p = Project.open('mycorpus'); "
                "print(len(p.query('positions-over-time', issue='dairen-port-regime')))",
                cwd=work)
    assert rows.strip() == "2"
