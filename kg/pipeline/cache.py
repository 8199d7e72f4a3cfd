"""What each chunk's work depends on, and where its results are kept.

A *chunk* is one unit of cached work: one document (``doc/<id>``), the registry
(``entities``) or the link decisions with the Wikidata facts (``links``). Its *key* is
the SHA-256 of everything its results depend on:

- the code and vocabulary (:func:`environment_key`): the source of the ``kg``
  package, the ontology and the shapes;
- its own input files (curation file and text, or the registry, or ``links.yaml``
  and the snapshot);
- for a document, the registry entries it uses (their canonical data, not their line
  numbers), so editing one entity redoes the documents that name it and no other.

The manifest (``build/cache/manifest.json``) records, per chunk, its key, the inputs
it was computed from and the facts later stages need without reading the chunk again
(claim ids, references to other documents, coverage, counts). It is replaced
atomically after every run; a chunk's files live in ``build/cache/chunks/<key>/`` and
are written to a temporary folder first, so an interrupted run never leaves a chunk
half written under its key.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kg
from kg.export import write_atomically

CACHE_DIR = "cache"
MANIFEST = "manifest.json"
# Bump when the layout of the cache changes; old caches are then ignored.
CACHE_FORMAT = 1


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# The modules whose code decides what a chunk holds (its graph, entailments, fragments
# and findings); code_key() adds every kg module they import, found by reading them.
PIPELINE_MODULES = ("kg.pipeline.chunks", "kg.pipeline.closure", "kg.pipeline.shacl",
                    "kg.pipeline.footprint",
                    "kg.pipeline.outputs", "kg.pipeline.cache", "kg.pipeline.run")


def _module_file(root: Path, name: str) -> Path | None:
    parts = name.split(".")[1:]
    for candidate in (root.joinpath(*parts).with_suffix(".py"),
                      root.joinpath(*parts, "__init__.py")):
        if candidate.is_file():
            return candidate
    return None


def pipeline_sources() -> list[Path]:
    """The source files of :data:`PIPELINE_MODULES` and of the ``kg`` modules they import.

    >>> names = {p.name for p in pipeline_sources()}
    >>> {"chunks.py", "compile.py", "curation.py"} <= names, "cli.py" in names
    (True, False)
    """
    root = Path(kg.__file__).parent
    todo, seen = list(PIPELINE_MODULES), set()
    files: set[Path] = {root / "__init__.py"}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(root, name)
        if path is None:
            continue
        files.add(path)
        for base, names, plain in _IMPORT.findall(path.read_text(encoding="utf-8")):
            if base:
                todo.append(base)
                todo.extend(f"{base}.{name}" for name in re.findall(r"\w+", names))
            else:
                todo.extend(n.strip() for n in plain.split(","))
        todo = [t for t in todo if t == "kg" or t.startswith("kg.")]
    return sorted(files)


# `from kg.x import a, b` (also in parentheses over several lines) and `import kg.x`,
# at any indentation. A match in a docstring only adds a file to the key, which is safe.
_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+(kg(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)"
                     r"|import[ \t]+(kg(?:\.\w+)*(?:[ \t]*,[ \t]*[\w.]+)*))", re.MULTILINE)


@functools.cache
def code_key() -> str:
    """The SHA-256 of the code a chunk's results depend on (see :func:`pipeline_sources`).

    Editing the command line, the site or the benchmark does not invalidate the cache.
    """
    root = Path(kg.__file__).parent
    digest = hashlib.sha256()
    for path in pipeline_sources():
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def environment_key(ontology_file: Path, shapes_file: Path) -> str:
    """What every chunk depends on: the code, the ontology and the shapes."""
    parts = [f"format {CACHE_FORMAT}", code_key(), sha256_file(ontology_file),
             sha256_file(shapes_file)]
    return sha256_bytes("\n".join(parts).encode())


def combine(*parts: str) -> str:
    return sha256_bytes("\n".join(parts).encode())


@dataclass
class Entry:
    """One chunk as the manifest records it."""

    key: str
    inputs: dict[str, str] = field(default_factory=dict)   # path -> sha256
    entities: dict[str, str] = field(default_factory=dict)  # registry key -> entry hash
    meta: dict[str, Any] = field(default_factory=dict)
    validation_key: str = ""
    findings: list[dict[str, str]] = field(default_factory=list)


class Cache:
    """The chunk folders and the manifest under ``build/cache``."""

    def __init__(self, build_dir: Path) -> None:
        self.root = build_dir / CACHE_DIR
        self.chunks_dir = self.root / "chunks"
        self.manifest_file = self.root / MANIFEST
        self.entries: dict[str, Entry] = {}
        self.state: dict[str, Any] = {}
        self._saved = ""
        if self.manifest_file.exists():
            try:
                self._saved = self.manifest_file.read_text(encoding="utf-8")
                raw = json.loads(self._saved)
            except (OSError, ValueError):
                raw = {}
            if raw.get("format") == CACHE_FORMAT:
                self.entries = {name: Entry(**value) for name, value in raw["chunks"].items()}
                self.state = raw.get("state", {})

    def folder(self, key: str) -> Path:
        return self.chunks_dir / key

    def has(self, name: str, key: str) -> bool:
        entry = self.entries.get(name)
        return entry is not None and entry.key == key and self.folder(key).is_dir()

    def save(self) -> None:
        """Write the manifest atomically and remove chunk folders no entry names."""
        data = {"format": CACHE_FORMAT, "state": self.state,
                "chunks": {name: vars(entry) for name, entry in sorted(self.entries.items())}}
        # One line, by the json module's C encoder: an indented manifest of 900 documents
        # took half a second to write (`python -m json.tool` shows it indented).
        text = json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n"
        if text == self._saved:
            return
        write_atomically({self.manifest_file: text})
        self._saved = text
        live = {entry.key for entry in self.entries.values()}
        if self.chunks_dir.is_dir():
            for folder in self.chunks_dir.iterdir():
                if folder.name not in live:
                    shutil.rmtree(folder, ignore_errors=True)
