"""Shared fixtures: the project's folders, and the graph built once per session."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.cli import main

ROOT = Path(__file__).resolve().parents[1]
# Stored queries answered from Wikidata facts: the snapshot (kg link snapshot) or the
# facts copied from stored copies (facts: in data/links.yaml). negotiator-ages has rows
# from the stored copies; no stored copy gives a registry place's coordinates, so
# places-with-coordinates has none until a snapshot is made (tests/test_linking.py
# checks it on a corpus with one).
SNAPSHOT_QUERIES = frozenset({"places-with-coordinates"})


def may_be_empty(query_name: str) -> bool:
    """True for a competency question that has no answer on this corpus yet."""
    return (query_name in SNAPSHOT_QUERIES
            and not (ROOT / "data" / "wikidata" / "snapshot.ttl").exists())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/* from the current code (review the diff!)")


@dataclass
class Project:
    """Folders of a project checkout (the real one, or a scratch copy)."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def build(self) -> Path:
        return self.root / "build"

    def args(self, command: str, *rest: str) -> list[str]:
        return [command, "--data", str(self.data), "--ontology", str(ROOT / "ontology"),
                "--queries", str(ROOT / "queries"), "--build-dir", str(self.build), *rest]

    def run(self, command: str, *rest: str) -> int:
        return main(self.args(command, *rest))


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """The repository's corpus built and inferred into a scratch build folder."""
    root = tmp_path_factory.mktemp("built")
    (root / "data").symlink_to(ROOT / "data")
    project = Project(root)
    assert project.run("build") == 0
    assert project.run("infer") == 0
    return project


@pytest.fixture
def scratch(tmp_path: Path) -> Project:
    """A writable copy of data/ to break on purpose."""
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return Project(tmp_path)
