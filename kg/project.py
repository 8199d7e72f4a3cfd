"""Project folders: the packaged vocabulary, ``kg.toml``, finding a project, ``kg init``.

A *project* is a folder with a ``kg.toml`` (title, base IRI, licence, negotiations,
where its data and build live, and any vocabulary of its own). ``kg`` finds it from
any sub-folder, as git finds its repository: :func:`find_config` walks up from the
current folder to the first ``kg.toml``.

The vocabulary (ontology, shapes, status rules, stored queries) and the JSON Schemas
of curation files and registry are package data under ``kg/vocab/``, found with
:mod:`importlib.resources` wherever the package is installed; the repository's
top-level ``ontology/`` and ``queries/`` are symbolic links to them.

>>> (packaged_ontology() / "dip.ttl").is_file(), (packaged_queries() / "offers.rq").is_file()
(True, True)

A project may add Turtle files of its own terms and shapes (``[vocabulary]`` in
``kg.toml``); they are merged with the packaged files into ``BUILD/vocab/`` and that
folder is then the ontology folder every stage reads, so the pipeline's cache key
(:func:`kg.pipeline.cache.environment_key`, a hash of the ontology and shapes files)
covers every file merged in. Its own stored queries (``queries = "queries"``) are
searched before the packaged ones: a query of the same name wins.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from kg.errors import InputError, Problem, UsageError
from kg.namespace import BASE

CONFIG_FILE = "kg.toml"


def vocab_dir() -> Path:
    """The packaged vocabulary folder (``kg/vocab``) as a path on disk."""
    folder = Path(str(files("kg").joinpath("vocab")))
    if not folder.is_dir():  # pragma: no cover - only if the package data were left out
        raise InputError(f"the packaged vocabulary {folder} is missing",
                         hint="reinstall dipkg (pip install --force-reinstall dipkg)")
    return folder


def packaged_ontology() -> Path:
    """The packaged ontology folder: ``dip.ttl``, ``shapes.ttl``, ``rules/*.rq``."""
    return vocab_dir() / "ontology"


def packaged_queries() -> Path:
    """The packaged stored queries (``*.rq``)."""
    return vocab_dir() / "queries"


def schema_file(kind: str) -> Path:
    """The packaged JSON Schema of ``curation`` files, the ``registry`` or ``config``."""
    return vocab_dir() / "schema" / f"{kind}.schema.json"


# --- kg.toml ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Config:
    """A project's ``kg.toml``, with its folders resolved against the project root."""

    root: Path
    title: str = ""
    base: str = BASE
    licence: str = ""
    negotiations: tuple[str, ...] = ()
    data: Path = Path("data")
    build: Path = Path("build")
    queries: Path | None = None
    ontology: tuple[Path, ...] = field(default_factory=tuple)
    shapes: tuple[Path, ...] = field(default_factory=tuple)


def find_config(start: Path | None = None) -> Path | None:
    """The first ``kg.toml`` in ``start`` (default: the current folder) or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


def _shown(path: Path) -> Path:
    """``path`` relative to the current folder when that is shorter (as git shows paths)."""
    try:
        relative = Path(os.path.relpath(path))
    except ValueError:  # another drive
        return path
    return relative if len(str(relative)) <= len(str(path)) else path


def load_config(path: Path) -> Config:
    """Read and check a ``kg.toml`` (raises :class:`InputError` naming the file and line)."""
    shown = str(_shown(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {shown}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise InputError(f"{shown} is not UTF-8 text", hint="save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{shown} is not valid TOML: {exc}",
                         hint="check quotes and brackets on that line") from None
    from kg.schema import problems

    found = [Problem(message, shown, None, None, hint) for message, hint
             in problems("config", raw)]
    if found:
        raise InputError(f"invalid project file {shown}", problems=found,
                         hint=f"`kg schema config` prints what {CONFIG_FILE} may hold")
    project: dict[str, Any] = raw.get("project", {})
    paths: dict[str, Any] = raw.get("paths", {})
    vocabulary: dict[str, Any] = raw.get("vocabulary", {})
    base = project.get("base", BASE)
    if base != BASE:
        raise InputError(f"{shown}: base {base!r} differs from the packaged base IRI {BASE}",
                         hint="this version of dipkg builds every corpus under "
                              f"{BASE}; set base = \"{BASE}\" (README: Your own corpus)")
    root = path.parent

    def resolved(value: str) -> Path:
        return _shown(root / value)

    queries = paths.get("queries", "queries")
    return Config(
        root=_shown(root), title=project.get("title", ""), base=base,
        licence=project.get("licence", ""),
        negotiations=tuple(project.get("negotiations", [])),
        data=resolved(paths.get("data", "data")), build=resolved(paths.get("build", "build")),
        queries=resolved(queries),
        ontology=tuple(resolved(p) for p in vocabulary.get("ontology", [])),
        shapes=tuple(resolved(p) for p in vocabulary.get("shapes", [])))


# --- the vocabulary a project uses -------------------------------------------------------

def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def merged_ontology(base: Path, terms: tuple[Path, ...], shapes: tuple[Path, ...],
                    out: Path) -> Path:
    """An ontology folder with ``base``'s files plus a project's own terms and shapes.

    Each added file is parsed first, so a Turtle error names the project's file, not
    the merged copy. Turtle allows ``@prefix`` anywhere, so the files are concatenated.
    The folder is rewritten only when its content changes.
    """
    from kg.build import load_ontology

    for path in (*terms, *shapes):
        load_ontology(path)
    wanted: dict[Path, bytes] = {}
    for name, extra in (("dip.ttl", terms), ("shapes.ttl", shapes)):
        parts = [(base / name).read_bytes()]
        for path in extra:
            parts.append(f"\n# --- added by the project: {path.name} ---\n".encode())
            parts.append(path.read_bytes())
        wanted[out / name] = b"".join(parts)
    for rule in sorted((base / "rules").glob("*.rq")):
        wanted[out / "rules" / rule.name] = rule.read_bytes()
    current = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} if out.is_dir() else {}
    if current != wanted:
        shutil.rmtree(out, ignore_errors=True)
        for path, data in wanted.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return out


def resolve_paths(data: Path | None = None, ontology: Path | None = None,
                  queries: Path | None = None, build: Path | None = None,
                  start: Path | None = None) -> tuple[Any, Config | None]:
    """The folders a command works on: options given win, then ``kg.toml``, then defaults.

    Returns the :class:`kg.build.Paths` and the project's :class:`Config` (``None`` when
    no ``kg.toml`` is found; the folders then default to ``data`` and ``build`` in the
    current folder).
    """
    from kg.build import Paths

    found = find_config(start)
    config = load_config(found) if found else None
    paths = Paths(data=data or (config.data if config else Path("data")),
                  ontology=ontology or packaged_ontology(),
                  queries=queries or packaged_queries(),
                  build=build or (config.build if config else Path("build")))
    if config is not None:
        own = config.queries
        # The repository's queries/ is the packaged folder itself: not a project's own.
        if (own is not None and own.is_dir() and not _same(own, paths.queries)
                and not _same(own, packaged_queries())):
            paths.project_queries = own
        if config.ontology or config.shapes:
            paths.ontology = merged_ontology(paths.ontology, config.ontology, config.shapes,
                                             paths.build / "vocab")
    return paths, config


# --- kg init ---------------------------------------------------------------------------

def _toml_string(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def config_text(title: str, licence: str, negotiations: list[str], path: Path) -> str:
    """The ``kg.toml`` that ``kg init`` writes (its first line names the schema for editors
    that read TOML with Taplo)."""
    names = ", ".join(_toml_string(n) for n in negotiations)
    schema = schema_comment("config", path).split("=", 1)[1]
    return f"""#:schema {schema}
# A dipkg corpus. `kg` finds this file from any sub-folder of the project.

[project]
title = {_toml_string(title)}
# The base IRI of every resource. This version builds every corpus under the packaged
# base; another value is refused (README: Your own corpus).
base = {_toml_string(BASE)}
licence = {_toml_string(licence)}
# The negotiation(s) this corpus is about: keys of data/entities.yaml.
negotiations = [{names}]

[paths]
data = "data"         # texts (data/text), curation files (data/curation), entities.yaml
build = "build"       # what kg build, infer and validate write
queries = "queries"   # this corpus's own stored queries; one named like a packaged query wins

[vocabulary]
# Turtle files of this corpus's own ontology terms and SHACL shapes, used together with
# the packaged ontology and shapes, e.g. ontology = ["ontology/terms.ttl"].
ontology = []
shapes = []
"""


def schema_comment(kind: str, for_file: Path) -> str:
    """The editor's schema line for a file (a path relative to it, as yaml-language-server
    reads it), pointing at the packaged JSON Schema of ``curation`` files or the ``registry``.
    """
    target = schema_file(kind).resolve()
    try:
        where = os.path.relpath(target, for_file.resolve().parent)
    except ValueError:  # another drive
        where = str(target)
    return f"# yaml-language-server: $schema={Path(where).as_posix()}"


def registry_text(negotiations: list[str], path: Path) -> str:
    """The ``entities.yaml`` that ``kg init`` writes: the negotiations, parties left to fill."""
    lines = [
        schema_comment("registry", path),
        "# The entity registry: every person, state, government, organisation, office,",
        "# place, meeting, negotiation and issue the documents name, by key. The curation",
        "# files name entities only by these keys (docs: the curation guide, Registry).",
        "#",
        "# Add the parties, then list them under each negotiation's `parties:`, e.g.",
        "#",
        "# stalin:",
        "#   type: Person",
        "#   label: Joseph Stalin",
        "#   alt: [Stalin, Generalissimo Stalin]",
        "",
    ]
    if not negotiations:
        lines.append("{}")
    for key in negotiations:
        lines += [f"{key}:", "  type: Negotiation",
                  f"  label: {_toml_string(key.replace('-', ' '))}",
                  "  parties: []   # the parties' keys, once added above", ""]
    return "\n".join(lines).rstrip() + "\n"


def readme_text(title: str) -> str:
    return f"""# {title}

A corpus of diplomatic documents built with dipkg (`kg`).

```sh
kg new ~/captures/some-document.txt   # copy a text in and start its curation file
kg build && kg infer && kg validate   # compile, derive, check
kg query --list                       # the stored questions (packaged and this corpus's own)
kg report                             # who conceded what, what remains disputed
```

- `kg.toml`: title, base IRI, licence, negotiations, folders, added vocabulary.
- `data/text/`: the texts, byte for byte as captured; record each one's source in
  `data/README.md`.
- `data/curation/`: one curation file per document (`kg schema curation` prints the JSON
  Schema your editor uses to check them as you type).
- `data/entities.yaml`: the entity registry shared by all documents.
- `queries/`: stored SPARQL queries of this corpus (`#+ summary:`, `#+ columns:` header).
"""


def init_project(folder: Path, title: str | None = None, licence: str = "CC-BY-4.0",
                 negotiations: list[str] | None = None) -> list[Path]:
    """Create a new project in ``folder`` (which must not hold a ``kg.toml``)."""
    from kg.registry import KEY

    negotiations = list(negotiations or [])
    for key in negotiations:
        if not KEY.match(key):
            raise UsageError(f"negotiation key {key!r} is not lower case letters, digits and "
                             "hyphens", hint="e.g. --negotiation potsdam-conference-1945")
    if (folder / CONFIG_FILE).exists():
        raise UsageError(f"{folder / CONFIG_FILE} already exists",
                         hint="that folder is a project already; choose another folder")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    title = title or folder.resolve().name
    written = {
        folder / CONFIG_FILE: "",
        folder / "README.md": readme_text(title),
        folder / "data" / "entities.yaml": "",
        folder / "data" / "README.md": "# Sources\n\nFor each text in `text/`: where it "
                                       "came from, citation, checksum, licence, and any "
                                       "hand correction and why.\n",
        folder / ".gitignore": "/build/\n",
    }
    for path in written:
        if path.exists():
            raise UsageError(f"{path} already exists",
                             hint="start the project in an empty folder")
    for sub in ("data/text", "data/curation", "queries"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    written[folder / CONFIG_FILE] = config_text(title, licence, negotiations,
                                                folder / CONFIG_FILE)
    written[folder / "data" / "entities.yaml"] = registry_text(
        negotiations, folder / "data" / "entities.yaml")
    for path, text in written.items():
        path.write_text(text, encoding="utf-8")
    return sorted(written)
