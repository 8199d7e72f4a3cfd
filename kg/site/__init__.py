"""``kg site``: a static site to read, browse and check the graph.

:func:`build_site` reads the build (``build/asserted.nq``, ``build/inferred.nq`` and
the ontology, in an embedded Oxigraph store), renders the pages with Jinja2 from
``kg/site/templates/`` and writes them to a temporary folder beside ``build/site/``,
then swaps it in: a failed build leaves the previous site. The same graph gives
byte-identical pages (nothing depends on the clock, the locale or hash order).
"""

from kg.site.render import SiteResult, build_site

__all__ = ["SiteResult", "build_site"]
