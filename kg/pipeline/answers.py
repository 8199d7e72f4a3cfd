"""Answers kept beside the working store, keyed by what each query reads.

A query's answer is stored (as SPARQL 1.1 JSON results) under a key of its text, its
parameters and the state of the predicates it reads (:mod:`kg.pipeline.footprint`);
asking it again with those unchanged reads the file instead of the store. Nothing
is ever invalidated by hand: a change to the data gives a new key. Files are written
atomically; at most :data:`KEEP` answers are kept, the oldest removed first.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kg.export import write_atomically
from kg.pipeline import workers
from kg.pipeline.footprint import Footprints, StoreState
from kg.sparql import Results, Term, parse_json_results, to_json

ANSWERS_DIR = "answers"
DURATIONS = "answer-seconds.json"  # beside the answers: how long each query took last
KEEP = 2000


def _text_key(query: str) -> str:
    return hashlib.sha256(query.encode("utf-8")).hexdigest()


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
        # The longest first (as long as they took last time; a new one first of all),
        # so that no thread is left with a long query at the end.
        durations = self._durations()
        order = sorted(missing.items(), key=lambda item: -durations.get(
            _text_key(item[1][0]), float("inf")))

        def ask(item: tuple[Path, tuple[str, Mapping[str, Term] | None]]) -> float | None:
            path, (query, bindings) = item
            start = time.perf_counter()
            try:
                text = self.engine.select_json(query, bindings)
            except Exception:  # reported by select(), in order, with its message
                return None
            write_atomically({path: text})
            return time.perf_counter() - start

        with ThreadPoolExecutor(threads or workers()) as pool:
            took = list(pool.map(ask, order))
        for (_, (query, _)), seconds in zip(order, took, strict=True):
            if seconds is not None:
                durations[_text_key(query)] = round(seconds, 3)
        if order:
            record = json.dumps(durations, sort_keys=True)
            write_atomically({self.folder.parent / DURATIONS: record})
        asked = sum(1 for seconds in took if seconds is not None)
        self.prefetched += asked
        _prune(self.folder)
        return asked

    def _durations(self) -> dict[str, float]:
        try:
            loaded = json.loads((self.folder.parent / DURATIONS).read_text(encoding="utf-8"))
            return {str(k): float(v) for k, v in loaded.items()}
        except (OSError, ValueError, AttributeError):
            return {}

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
