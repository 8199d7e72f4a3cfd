"""dipkg: a knowledge-graph builder for diplomatic documents.

Hand-curated claims about a negotiation, each anchored in the exact words of its
source and attributed to whoever asserts it, compiled into RDF.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dipkg")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
