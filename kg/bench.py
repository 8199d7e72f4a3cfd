"""``kg bench``: time and peak memory of the pipeline, on corpora of N documents.

``kg bench --docs N`` copies the corpus's documents until there are N (new ids, the
same texts and claims; each copy filed under a copy of its negotiation, see
:func:`replicate`) and measures the incremental pipeline end to end -- build,
infer, validate and every stored query on the working store -- three times: *cold*
(empty build folder), *warm* (nothing changed) and *one edit* (one document's quote
shortened by a word). ``--naive`` also runs the whole-graph pipeline the project had
before (compile, five formats by rdflib, owlrl, rules, one pySHACL run, queries) on
the same corpus, in the same run, for the ratio. Each scenario runs in a forked
process, so its peak memory is its own.

The stage-by-stage view of the whole-graph pipeline (:func:`run_stages`) is kept as
that baseline.

Figures, not verdicts: the machine is shared and noisy, so the command prints what it
measured and ratios against baselines measured in the same run -- the same stage on
one copy of the corpus (to show how cost grows with the number of documents) and
rdflib's SPARQL engine against Oxigraph's (to show why queries run on Oxigraph).
Memory is the process's peak resident set size after the stage (getrusage), and how
much the stage raised it; it includes native memory (Oxigraph). tracemalloc is not
used: it slows Python code several times over and would distort the timings.
"""

from __future__ import annotations

import re
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef

from kg.build import Paths, load_ontology
from kg.compile import compile_corpus, load_corpus
from kg.export import flatten, graph_files, merge, write_atomically
from kg.namespace import ONTOLOGY_GRAPH
from kg.queries import list_queries, run
from kg.reason import apply_rules, load_rules, owl_rl_closure
from kg.sparql import OxigraphEngine, RdflibEngine
from kg.validate import validate_graph


@dataclass
class Measure:
    stage: str
    copies: int
    seconds: float
    peak_mib: float
    growth_mib: float


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def measure(stage: str, copies: int, work: Callable[[], Any]) -> tuple[Measure, Any]:
    before = _peak_rss_mib()
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    after = _peak_rss_mib()
    return Measure(stage, copies, seconds, after, after - before), result


def replicate(data: Path, target: Path, copies: int) -> Path:
    """A corpus of ``copies`` copies of every document (new ids, same text and claims).

    Each copy is a negotiation of its own: copy N of a document is filed under a copy
    of its negotiation's registry entry (``<key>-copyN``, the same parties), as a FRUS
    volume holds many negotiations on the same issues among the same people. Copies of
    one negotiation would make answers that pair claims within a negotiation (the
    Yalta comparison, the disputes) grow with the square of the copies, which no real
    volume does: it holds one Yalta agreement, not N.
    """
    shutil.copytree(data / "text", target / "text")
    registry = (data / "entities.yaml").read_text(encoding="utf-8")
    extra: list[str] = []
    (target / "curation").mkdir()
    for path in sorted((data / "curation").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        negotiation = re.search(r"^  negotiation: (\S+)\n", text, re.MULTILINE)
        for n in range(copies):
            doc_id = path.stem if n == 0 else f"{path.stem}-copy{n}"
            copy = text.replace(f"  id: {path.stem}\n", f"  id: {doc_id}\n", 1)
            if n and negotiation:
                key = f"{negotiation.group(1)}-copy{n}"
                copy = copy.replace(negotiation.group(0), f"  negotiation: {key}\n", 1)
                if key not in extra:
                    extra.append(key)
            (target / "curation" / f"{doc_id}.yaml").write_text(copy, encoding="utf-8")
    for key in extra:
        original, copy_number = key.rsplit("-copy", 1)
        block = re.search(rf"^{re.escape(original)}:\n(?:  .*\n)+", registry, re.MULTILINE)
        if block is None:
            raise ValueError(f"no registry entry {original!r} to copy")
        entry = block.group(0).replace(f"{original}:\n", f"{key}:\n", 1)
        entry = re.sub(r"^(  label: .*)$", rf"\1 (copy {copy_number})", entry, count=1,
                       flags=re.MULTILINE)
        registry += f"\n{entry}"
    (target / "entities.yaml").write_text(registry, encoding="utf-8")
    return target


def run_stages(paths: Paths, data: Path, copies: int, with_rdflib: bool) -> list[Measure]:
    ontology = load_ontology(paths.ontology_file)
    shapes = Graph().parse(paths.shapes_file, format="turtle")
    out: list[Measure] = []

    def compile_all() -> Any:
        return compile_corpus(load_corpus(data, ontology), ontology)

    m, dataset = measure("compile", copies, compile_all)
    out.append(m)
    graphs = {URIRef(str(g.identifier)): g for g in dataset.graphs() if len(g)}
    with tempfile.TemporaryDirectory() as tmp:
        m, _ = measure("write 5 formats", copies,
                       lambda: write_atomically(graph_files(Path(tmp) / "asserted", graphs)))
        out.append(m)
    asserted = flatten(dataset)
    m, closure = measure("infer: OWL RL (owlrl)", copies,
                         lambda: owl_rl_closure(asserted, ontology))
    out.append(m)
    base = merge(asserted, closure, ontology)
    m, (derived, _) = measure("infer: status rules", copies,
                              lambda: apply_rules(base, load_rules(paths.rules_dir)))
    out.append(m)
    data_graph = merge(asserted, closure, derived)
    m, _ = measure("validate (pyshacl)", copies,
                   lambda: validate_graph(data_graph, shapes, ontology))
    out.append(m)
    queries = list_queries(paths.queries)
    with tempfile.TemporaryDirectory() as tmp:
        nt = Path(tmp) / "all.nt"
        nt.write_text(data_graph.serialize(format="nt"), encoding="utf-8")
        engines: list[tuple[str, Any]] = [("oxigraph", OxigraphEngine())]
        if with_rdflib:
            engines.append(("rdflib", RdflibEngine()))
        for name, engine in engines:
            engine.load_file(nt)
            engine.load_file(paths.ontology_file, ONTOLOGY_GRAPH)

            def ask_all(engine: Any = engine) -> list[Any]:
                return [run(q, engine) for q in queries]

            m, _ = measure(f"queries x{len(queries)}: {name}", copies, ask_all)
            out.append(m)
    return out


def bench(paths: Paths, copies: int, with_rdflib: bool = True) -> list[Measure]:
    """Each stage on the corpus as it is, then on ``copies`` copies of it."""
    results = run_stages(paths, paths.data, 1, with_rdflib)
    if copies > 1:
        with tempfile.TemporaryDirectory() as tmp:
            data = replicate(paths.data, Path(tmp) / "data", copies)
            results += run_stages(paths, data, copies, with_rdflib)
    return results


def render(results: list[Measure]) -> str:
    base = {m.stage: m for m in results if m.copies == 1}
    oxigraph = {m.copies: m for m in results if m.stage.endswith(": oxigraph")}
    lines = [f"{'stage':30} {'copies':>6} {'seconds':>9} {'peak RSS MiB':>13} {'(+stage)':>9}  "
             "ratio"]
    for m in results:
        ratio = ""
        if m.copies > 1 and m.stage in base and base[m.stage].seconds > 0:
            per_doc = m.seconds / base[m.stage].seconds / m.copies
            ratio = f"{m.seconds / base[m.stage].seconds:6.1f}x the 1-copy time " \
                    f"({per_doc:.2f} per copy)"
        if m.stage.endswith(": rdflib") and oxigraph.get(m.copies):
            ratio = f"{m.seconds / oxigraph[m.copies].seconds:6.1f}x Oxigraph"
        lines.append(f"{m.stage:30} {m.copies:>6} {m.seconds:>9.3f} {m.peak_mib:>13.1f} "
                     f"{m.growth_mib:>+9.1f}  {ratio}")
    return "\n".join(lines) + "\n"


# --- the incremental pipeline, end to end ------------------------------------------------------

@dataclass
class Scenario:
    docs: int
    name: str
    seconds: float
    peak_mib: float
    rebuilt: int = 0
    query_seconds: float = 0.0


def _measured(work: Callable[[], Any], child: Any) -> None:
    try:
        start = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - start
    except BaseException as exc:  # the parent reports it rather than wait for ever
        child.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scale = 2**20 if sys.platform == "darwin" else 2**10
    child.send((seconds, max(own, kids) / scale, result))


def _in_child(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Run ``work`` in a new process: its seconds, its peak RSS (largest process), result.

    The process is spawned, not forked: a fork of a process that holds an open store (its
    background threads) can deadlock, as it did when the tests ran this after others.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_measured, args=(work, child))
    process.start()
    child.close()  # so that the parent sees the end of the pipe if the child dies
    try:
        message = parent.recv()
    except EOFError:
        message = ("error", "the measured process ended without an answer")
    finally:
        process.join()
    if message[0] == "error":
        raise RuntimeError(f"the benchmark run failed: {message[1]} "
                           f"(exit code {process.exitcode})")
    seconds, peak, result = message
    return seconds, peak, result


def make_corpus(data: Path, target: Path, docs: int) -> Path:
    """A corpus of ``docs`` documents: copies of the corpus's, cut to the number asked."""
    per_copy = len(list((data / "curation").glob("*.yaml")))
    copies = -(-docs // per_copy)
    replicate(data, target, copies)
    extra = sorted((target / "curation").glob("*.yaml"))
    # Keep the originals and the lowest copies; drop the last ones beyond ``docs``.
    extra.sort(key=lambda p: (p.stem.rsplit("-copy", 1)[-1].isdigit()
                              and int(p.stem.rsplit("-copy", 1)[-1]), p.stem))
    for path in extra[docs:]:
        path.unlink()
    return target


def edit_one(data: Path) -> Path:
    """Shorten one claim's quote in the last document by its last word (still a quote of
    the text): the claim's words change, and with them every answer that shows them."""
    path = sorted((data / "curation").glob("*.yaml"))[-1]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    in_claims = False
    for n, line in enumerate(lines):
        if not line.startswith((" ", "#", "\n")):
            in_claims = line.startswith("claims:")
        stripped = line.strip()
        if (in_claims and stripped.startswith('quote: "') and stripped.endswith('"')
                and " " in stripped[8:-1]):
            quote = stripped[8:-1]
            lines[n] = line.replace(quote, quote.rsplit(" ", 1)[0], 1)
            path.write_text("".join(lines), encoding="utf-8")
            return path
    raise ValueError(f"no claim quote to edit in {path}")


def pipeline_once(paths: Paths) -> tuple[int, float]:
    """Build, infer, validate and ask every stored query: chunks rebuilt, query seconds."""
    from kg.pipeline.run import Pipeline

    pipeline = Pipeline(paths, quiet=True)
    built = pipeline.build()
    pipeline.infer()
    pipeline.validate()
    store = pipeline.answers()
    start = time.perf_counter()
    store.prefetch([(query.text, None) for query in list_queries(paths.queries)])
    for query in list_queries(paths.queries):
        run(query, store)
    return len(built.rebuilt), time.perf_counter() - start


def naive_once(paths: Paths) -> int:
    run_stages(paths, paths.data, 1, with_rdflib=False)
    return 0


def bench_docs(paths: Paths, sizes: list[int], naive: bool, naive_max: int,
               report: Callable[[Scenario], None] | None = None) -> list[Scenario]:
    """Every scenario at every size; ``report`` sees each result as soon as it is measured."""
    out: list[Scenario] = []

    def done(result: Scenario) -> None:
        out.append(result)
        if report is not None:
            report(result)

    for docs in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = make_corpus(paths.data, Path(tmp) / "data", docs)
            work = Paths(data=data, ontology=paths.ontology, queries=paths.queries,
                         build=Path(tmp) / "build")
            for name in ("cold", "warm", "one edit"):
                if name == "one edit":
                    edit_one(data)
                seconds, peak, (rebuilt, asked) = _in_child(partial(pipeline_once, work))
                done(Scenario(docs, name, seconds, peak, rebuilt, asked))
            if naive and docs <= naive_max:
                seconds, peak, _ = _in_child(partial(naive_once, work))
                done(Scenario(docs, "naive (whole graph)", seconds, peak))
    return out


HEADER = (f"{'docs':>5} {'scenario':22} {'seconds':>9} {'s/doc':>8} {'queries':>8} "
          f"{'peak RSS MiB':>13} {'rebuilt':>8}  ratio")


def render_row(r: Scenario, earlier: list[Scenario]) -> str:
    """One line of the table; ratios against runs measured before it in the same run."""
    cold = {e.docs: e for e in earlier if e.name == "cold"}
    first = min(cold) if cold else None
    ratio = ""
    base = cold.get(r.docs)
    if r.name == "cold" and first is not None and r.docs != first:
        ratio = (f"{(r.seconds / r.docs) / (cold[first].seconds / first):.2f}x the s/doc "
                 f"at {first} docs")
    elif r.name in ("warm", "one edit") and base is not None and base.seconds > 0:
        ratio = f"{100 * r.seconds / base.seconds:.1f}% of cold"
    elif r.name.startswith("naive") and base is not None and base.seconds > 0:
        ratio = f"{r.seconds / base.seconds:.1f}x the incremental cold run"
    naive = r.name.startswith("naive")
    rebuilt = "-" if naive else str(r.rebuilt)
    asked = "-" if naive else f"{r.query_seconds:.2f}"
    return (f"{r.docs:>5} {r.name:22} {r.seconds:>9.2f} {r.seconds / r.docs:>8.3f} "
            f"{asked:>8} {r.peak_mib:>13.1f} {rebuilt:>8}  {ratio}")


def render_docs(results: list[Scenario]) -> str:
    lines = [HEADER]
    for n, r in enumerate(results):
        lines.append(render_row(r, results[:n]))
    return "\n".join(lines) + "\n"
