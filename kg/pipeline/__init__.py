"""The incremental pipeline: per-document work, cached, on an on-disk Oxigraph store.

The stages, in order, each in its own module:

- :mod:`kg.pipeline.cache` -- what a document's work depends on (its key) and where its
  results are kept under ``build/cache/``;
- :mod:`kg.pipeline.chunks` -- one document (or the registry, or the link decisions)
  compiled into its graph, its entailments and its serialised fragments, in a worker
  process;
- :mod:`kg.pipeline.closure` -- the entailments the queries and shapes rely on (the
  ontology's class and property hierarchies, domains and ranges), derived per chunk;
  owlrl stays the reference (:mod:`kg.reason`);
- :mod:`kg.pipeline.shacl` -- SHACL per chunk (pySHACL, over the machine's cores) and
  the shapes' SPARQL constraints as whole-store queries;
- :mod:`kg.pipeline.workstore` -- the working store (``build/store``), where graphs are
  replaced chunk by chunk and the status rules, checks and queries run;
- :mod:`kg.pipeline.outputs` -- the five formats, assembled from the cached fragments
  with memory bounded by the largest document;
- :mod:`kg.pipeline.run` -- the orchestration (``kg build``, ``kg infer``,
  ``kg validate``).
"""

import os


def workers() -> int:
    """Processes (or threads) for work done side by side: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
