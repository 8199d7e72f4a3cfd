"""Answers kept beside the working store, keyed by what each query reads.

A query's answer is stored (as SPARQL 1.1 JSON results) under a key of its text, its
parameters and the state of the predicates it reads (:mod:`kg.pipeline.footprint`);
asking it again with those unchanged reads the file instead of the store. Nothing
is ever invalidated by hand: a change to the data gives a new key. Files are written
atomically; at most :data:`KEEP` answers are kept, the oldest removed first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kg.export import write_atomically
from kg.pipeline import workers
from kg.pipeline.footprint import Footprints, StoreState
from kg.sparql import Results, Term, parse_json_results, to_json

ANSWERS_DIR = "answers"
KEEP = 2000


class CachedEngine:
    """An engine whose SELECT answers are cached; everything else goes to ``engine``."""

    def __init__(self, engine: Any, state: StoreState, folder: Path) -> None:
        self.engine = engine
        self.state = state
        self.folder = folder
        self.hits = 0
        self.misses = 0
        self.prefetched = 0  # asked by prefetch(); select() then counts them as hits

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def _path(self, query: str, bindings: Mapping[str, Term] | None) -> Path | None:
        extra = json.dumps(sorted((k, v.n3()) for k, v in (bindings or {}).items()))
        key = self.state.key(query, extra=extra)
        if isinstance(self.state.footprint, Footprints):
            self.state.footprint.save()
        return self.folder / f"{key}.json" if key else None

    def prefetch(self, asks: Iterable[tuple[str, Mapping[str, Term] | None]],
                 threads: int | None = None) -> int:
        """Ask the queries whose answers are not kept yet, ``threads`` at a time; return
        how many were asked.

        Oxigraph evaluates a query without holding Python's lock, so on a machine with
        several cores the answers that an edit invalidated are found side by side.
        Nothing is returned: :meth:`select` then reads them. A query that fails here is
        left for :meth:`select`, which reports the error as it always does.
        """
        if not hasattr(self.engine, "select_json"):
            return 0
        missing: dict[Path, tuple[str, Mapping[str, Term] | None]] = {}
        for query, bindings in asks:
            path = self._path(query, bindings)
            if path is not None and path not in missing and not path.is_file():
                missing[path] = (query, bindings)

        def ask(item: tuple[Path, tuple[str, Mapping[str, Term] | None]]) -> bool:
            path, (query, bindings) = item
            try:
                text = self.engine.select_json(query, bindings)
            except Exception:  # reported by select(), in order, with its message
                return False
            write_atomically({path: text})
            return True

        with ThreadPoolExecutor(threads or workers()) as pool:
            asked = sum(pool.map(ask, missing.items()))
        self.prefetched += asked
        _prune(self.folder)
        return asked

    def select(self, query: str, bindings: Mapping[str, Term] | None = None) -> Results:
        path = self._path(query, bindings)
        if path is not None and path.is_file():
            try:
                cached = parse_json_results(json.loads(path.read_text(encoding="utf-8")))
                self.hits += 1
                return cached
            except (OSError, ValueError, KeyError):
                pass  # an unreadable file is asked again and replaced
        self.misses += 1
        if path is not None and hasattr(self.engine, "select_json"):
            # Oxigraph writes the JSON; it is kept as written and read back once.
            text = self.engine.select_json(query, bindings)
            write_atomically({path: text})
            _prune(self.folder)
            return parse_json_results(json.loads(text))
        results: Results = self.engine.select(query, bindings)
        if path is not None:
            write_atomically({path: to_json(results, compact=True)})
            _prune(self.folder)
        return results


def _prune(folder: Path) -> None:
    files = list(folder.glob("*.json"))
    if len(files) <= KEEP:
        return
    files.sort(key=lambda f: f.stat().st_mtime)
    for old in files[: len(files) - KEEP]:
        old.unlink(missing_ok=True)
