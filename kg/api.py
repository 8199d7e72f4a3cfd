"""The Python API: a corpus folder and what can be done with it, for notebooks and scripts.

The ``kg`` command is a thin layer over this module. A notebook session, on a new
corpus made by ``kg init --example`` (a tiny invented memorandum, curated):

>>> import tempfile
>>> from pathlib import Path
>>> from kg.api import Project
>>> project = Project.init(Path(tempfile.mkdtemp()) / "mycorpus", example=True)
>>> [d.doc_id for d in project.build().documents]
['example-memo']
>>> project.infer().triples > 0
True
>>> project.validate().conforms
True
>>> rows = project.query("positions-over-time", issue="dairen-port-regime")
>>> [(r["party"], r["act"]) for r in rows]
[('Joseph Stalin', 'demand'), ('T. V. Soong', 'rejection')]
>>> print(project.report().splitlines()[0])
WHO CONCEDED WHAT TO WHOM, UP TO 1945-07-12

With pandas installed, ``project.query(name, as_frame=True)`` gives a DataFrame.
Errors a user can cause raise :class:`kg.errors.KgError` subclasses with the same
message, location and hint the command line prints:

>>> project.query("who-concede-what")
Traceback (most recent call last):
...
kg.errors.UsageError: unknown query 'who-concede-what'
"""

from __future__ import annotations

import datetime
import importlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.build import Paths
from kg.errors import InputError
from kg.project import (
    Config,
    find_config,
    init_project,
    packaged_queries,
    resolve_paths,
    vocab_dir,
)

if TYPE_CHECKING:
    from rdflib import Graph

    from kg.pipeline.run import BuildResult, InferResult
    from kg.queries import StoredQuery
    from kg.sparql import Engine, Results
    from kg.store import LoadReport
    from kg.validate import Finding

__all__ = ["CheckResult", "Project", "Validation"]


@dataclass
class CheckResult:
    """A ``*-violation.rq`` check that returned rows (it must return none)."""

    query: StoredQuery
    results: Results


@dataclass
class Validation:
    """What :meth:`Project.validate` found: SHACL findings and failed violation checks."""

    conforms: bool
    findings: list[Finding]
    failed_checks: list[CheckResult] = field(default_factory=list)
    report: Graph | None = None
    report_file: Path | None = None

    @property
    def violations(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "Violation"]


class Project:
    """A corpus: its ``kg.toml``, its folders and the pipeline over them.

    Open a project folder (or any folder inside one) with :meth:`open`, start one
    with :meth:`init`. Every method raises :class:`kg.errors.KgError` on a user error.
    """

    def __init__(self, paths: Paths, config: Config | None = None, quiet: bool = True) -> None:
        self.paths = paths
        self.config = config
        self.quiet = quiet

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path = ".", *, data: Path | None = None,
             ontology: Path | None = None, queries: Path | None = None,
             build: Path | None = None, quiet: bool = True) -> Project:
        """The project whose ``kg.toml`` is in ``path`` or a parent folder.

        The keyword arguments override the folders ``kg.toml`` names (as the command
        line's ``--data``, ``--ontology``, ``--queries`` and ``--build-dir`` do).
        """
        start = Path(path)
        if find_config(start) is None and data is None:
            raise InputError(f"no kg.toml in {start} or any folder above it",
                             hint="start a corpus with `kg init DIR` (or Project.init)")
        paths, config = resolve_paths(data, ontology, queries, build, start=start)
        return cls(paths, config, quiet)

    @classmethod
    def init(cls, path: str | Path, *, title: str | None = None, licence: str = "CC-BY-4.0",
             negotiations: list[str] | None = None, example: bool = False) -> Project:
        """Create a new corpus folder (see ``kg init``) and open it.

        With ``example=True`` the corpus gets a tiny curated example document (an
        invented memorandum, not a historical one) and the registry entries it names.
        """
        folder = Path(path)
        init_project(folder, title, licence,
                     negotiations or (["sino-soviet-negotiations-1945"] if example else None))
        if example:
            add_example(folder / "data")
        return cls.open(folder)

    # --- documents ---------------------------------------------------------------------------

    def new_document(self, text: str | Path, doc_id: str | None = None) -> tuple[Path, Path]:
        """Copy a text into ``data/text/`` and write its curation skeleton (``kg new``)."""
        from kg.scaffold import new_document

        return new_document(Path(text), self.paths.data, doc_id)

    # --- the pipeline --------------------------------------------------------------------------

    def _pipeline(self) -> Any:
        from kg.pipeline.run import Pipeline

        return Pipeline(self.paths, quiet=self.quiet)

    def build(self) -> BuildResult:
        """Compile texts, curation and registry into ``build/asserted.*`` (``kg build``)."""
        result: BuildResult = self._pipeline().build()
        return result

    def infer(self, reasoner: str = "fast") -> InferResult:
        """Derive ``build/inferred.*`` (``kg infer``); ``reasoner="owlrl"`` for the reference."""
        result: InferResult = self._pipeline().infer(reasoner=reasoner)
        return result

    def validate(self, report_file: Path | None = None) -> Validation:
        """SHACL-validate the build and run the ``*-violation.rq`` checks (``kg validate``).

        The SHACL report is written to ``report_file`` (default ``build/validation.ttl``).
        """
        from kg.export import turtle, write_atomically
        from kg.queries import run
        from kg.validate import Finding

        checked = self._pipeline().validate()
        findings = [Finding(f["severity"], f["focus"], f["path"], f["message"], f["value"],
                            f["quote"], f["shape"]) for f in checked.findings]
        report_file = report_file or self.paths.build / "validation.ttl"
        write_atomically({report_file: turtle(checked.report)})
        engine = self.engine()
        failed = []
        for stored in self.stored_queries():
            if stored.is_violation_check:
                results = run(stored, engine)
                if results.rows:
                    failed.append(CheckResult(stored, results))
        return Validation(checked.conforms and not failed, findings, failed, checked.report,
                          report_file)

    # --- questions -------------------------------------------------------------------------------

    def stored_queries(self) -> list[StoredQuery]:
        """Every stored query: the project's own and the packaged ones (the project's win)."""
        from kg.queries import list_queries

        return list_queries(self.paths.query_dirs)

    def origin(self, stored: StoredQuery) -> str:
        """Where a stored query comes from: ``project``, ``packaged`` or its folder."""
        folder = stored.path.parent.resolve()
        if self.paths.project_queries and folder == self.paths.project_queries.resolve():
            return "project"
        if folder == packaged_queries().resolve():
            return "packaged"
        return str(stored.path.parent)

    def engine(self, engine: str = "oxigraph") -> Engine:
        """The built graph in an embedded engine (the working store, read-only)."""
        from kg.cli import embedded_engine

        return embedded_engine(self.paths, engine)

    def results(self, name: str, params: dict[str, Any] | None = None,
                engine: Engine | None = None) -> Results:
        """A stored query's (or a ``.rq`` file's) answer as :class:`kg.sparql.Results`.

        Parameters are given by name; an IRI parameter may be a registry key.
        """
        from kg.queries import bind, find_query, run

        stored = find_query(name, self.paths.query_dirs)
        raw = [f"{key}={_text(value)}" for key, value in (params or {}).items()]
        keys = None
        if any(p.kind == "iri" for p in stored.params.values()) and raw:
            from kg.registry import load_registry

            registry_file = self.paths.data / "entities.yaml"
            if registry_file.exists():
                keys = {k: e.type for k, e in load_registry(registry_file).entities.items()}
        return run(stored, engine or self.engine(), bind(stored, raw, keys))

    def query(self, name: str, *, as_frame: bool = False, **params: Any) -> Any:
        """A stored query's rows as dicts of strings (``None`` where a column is unbound).

        ``as_frame=True`` returns a pandas DataFrame instead (pandas must be installed).
        """
        results = self.results(name, params)
        rows = [{v: (None if row.get(v) is None else str(row.get(v)))
                 for v in results.variables} for row in results.rows]
        if not as_frame:
            return rows
        try:
            pandas = importlib.import_module("pandas")
        except ImportError:
            raise InputError("as_frame=True needs pandas",
                             hint="pip install pandas, or use the rows as dicts") from None
        return pandas.DataFrame(rows, columns=results.variables)

    def report(self, as_of: datetime.date | None = None) -> str:
        """Who conceded what, where each issue stood on ``as_of`` (default: the latest
        document's date) and what third parties advised, with quotes (``kg report``)."""
        from kg.report import report

        return report(self.paths, self.engine(), as_of)

    def load(self, endpoint: str | None, *, profile: str = "oxigraph",
             graph_base: str | None = None, progress: Callable[[str, int, int], None]
             | None = None, **options: Any) -> LoadReport:
        """Push the build to a triplestore and verify the counts (``kg load``).

        ``options`` are those of :func:`kg.store.connect` (``auth``, ``gsp_url``,
        ``timeouts``, ...); ``progress(step, done, total)`` is called after each graph
        sent. The report's ``notes`` say what was not loaded and why.
        """
        from kg.store import DEFAULT_GRAPH_BASE, check_graph_base, connect, load, read_parts

        base = check_graph_base(graph_base or DEFAULT_GRAPH_BASE)
        notes: list[str] = []
        parts = read_parts(self.paths.build, self.paths.ontology, notes)
        client = connect(endpoint, profile, **options)
        done = [0]

        def step(name: str, part: Any) -> None:
            done[0] += 1
            if progress is not None:
                progress(name, done[0], len(parts))

        try:
            report = load(parts, client, base, progress=step)
        finally:
            client.close()
        report.notes[:0] = notes
        report.endpoint = client.endpoints.base
        return report


def _text(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def add_example(data: Path) -> None:
    """Add the packaged example document, its curation and registry to a new ``data/``."""
    source = vocab_dir() / "example"
    shutil.copyfile(source / "example-memo.txt", data / "text" / "example-memo.txt")
    curation = (source / "example-memo.yaml").read_text(encoding="utf-8")
    from kg.project import schema_comment

    target = data / "curation" / "example-memo.yaml"
    target.write_text(schema_comment("curation", target) + "\n" + curation, encoding="utf-8")
    registry = data / "entities.yaml"
    registry.write_text(schema_comment("registry", registry) + "\n"
                        + (source / "entities.yaml").read_text(encoding="utf-8"),
                        encoding="utf-8")
