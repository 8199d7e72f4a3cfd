"""The JSON Schemas of curation files and the registry: one definition, shipped, used.

The schema is checked with the jsonschema library, on the YAML as an editor reads it
(YAML 1.2: a date is a string).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from kg import curation, registry, schema
from kg.cli import main
from kg.project import schema_file
from tests.conftest import ROOT, Project


class _EditorLoader(yaml.SafeLoader):
    """YAML as yaml-language-server reads it: no timestamps (dates stay strings)."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def as_editor_reads(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_EditorLoader)  # noqa: S506


def validator(kind: str) -> jsonschema.Draft202012Validator:
    loaded = json.loads(schema_file(kind).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(loaded)
    return jsonschema.Draft202012Validator(loaded)


@pytest.mark.parametrize("kind", ["curation", "registry", "config"])
def test_the_shipped_schema_is_the_generated_one(kind: str) -> None:
    assert schema_file(kind).read_text(encoding="utf-8") == schema.generate(kind), (
        f"{schema_file(kind)} is out of date: run `kg schema --write` and commit it")


@pytest.mark.parametrize("path", sorted((ROOT / "data" / "curation").glob("*.yaml")),
                         ids=lambda p: p.stem)
def test_the_curation_files_validate(path: Path) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in validator("curation").iter_errors(as_editor_reads(path))]
    assert errors == []


def test_the_registry_validates() -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in validator("registry").iter_errors(
                  as_editor_reads(ROOT / "data" / "entities.yaml"))]
    assert errors == []


def test_an_unknown_field_fails_the_schema_and_the_build(scratch: Project,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    path = scratch.data / "curation" / "1945-07-11-harriman-soong.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    modality: done\n", "    modality: done\n    modalty: x\n",
                                 1), encoding="utf-8")
    errors = list(validator("curation").iter_errors(as_editor_reads(path)))
    assert any("'modalty' was unexpected" in e.message for e in errors)
    assert scratch.run("build") == 3
    err = capsys.readouterr().err
    assert "unknown field 'modalty'" in err and "did you mean modality?" in err


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    modality: done\n", "    modality: 3\n", "3 is not one of"),
    ('    quote: "Stalin still insists on a majority of the directors"\n', "", "'quote'"),
])
def test_a_wrong_type_or_a_missing_quote_fails_the_schema(old: str, new: str, message: str,
                                                          tmp_path: Path) -> None:
    source = (ROOT / "data" / "curation" / "1945-07-11-harriman-soong.yaml").read_text(
        encoding="utf-8")
    assert old in source
    path = tmp_path / "broken.yaml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    assert any(message in e.message for e in validator("curation").iter_errors(
        as_editor_reads(path)))


def test_the_readers_take_their_fields_from_the_schema() -> None:
    assert curation.CLAIM_FIELDS == schema.fields("claim")
    assert curation.MODALITIES == tuple(
        schema.CURATION["$defs"]["claim"]["properties"]["modality"]["enum"])
    assert set(registry.TYPES) == set(schema.ENTITY_TYPES)
    assert set(registry.REFERENCES) | set(registry.TEXT_FIELDS) == set(schema.fields("entity"))


def test_kg_schema_prints_each_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "registry"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "dipkg entity registry"
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "dipkg curation file"
    with pytest.raises(SystemExit) as stopped:
        main(["schema", "shapes"])
    assert stopped.value.code == 2


def test_kg_new_names_the_schema_on_the_first_line(scratch: Project) -> None:
    text = scratch.root / "memo.txt"
    text.write_text("Title: A memo\n---\nSoong refused.\n", encoding="utf-8")
    assert main(["new", str(text), "--data", str(scratch.data)]) == 0
    written = scratch.data / "curation" / "memo.yaml"
    first = written.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = (written.parent / first.split("=", 1)[1]).resolve()
    assert target == schema_file("curation").resolve()


@pytest.mark.parametrize("path", [ROOT / "data" / "entities.yaml",
                                  *sorted((ROOT / "data" / "curation").glob("*.yaml"))],
                         ids=lambda p: p.stem)
def test_the_repository_files_name_their_schema(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    kind = "registry" if path.name == "entities.yaml" else "curation"
    assert first.startswith("# yaml-language-server: $schema=")
    assert (path.parent / first.split("=", 1)[1]).resolve() == schema_file(kind).resolve()
