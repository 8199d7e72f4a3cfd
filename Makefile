# dipkg: build, check and query the knowledge graph of diplomatic documents.
#
#   make run     set up, build the graph, infer, validate, print the answers
#   make test    set up, run the whole test suite
#
# Stages are file targets: `make` rebuilds only what changed. Every recipe's
# command writes its outputs atomically (temporary file, then rename), so a
# failed step leaves the previous good files in place.

# --- Paths and tools ---------------------------------------------------------
PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
KG       := $(BIN)/kg
BUILD    := build
STAMP    := $(VENV)/.installed

# kg.toml says where the corpus lives (and adds any vocabulary of its own).
CONFIG    := kg.toml
DATA      := $(CONFIG) data/entities.yaml $(wildcard data/links.yaml) $(wildcard data/wikidata/*.ttl) \
             $(wildcard data/curation/*.yaml) $(wildcard data/text/*.txt)
CHECKS    := $(wildcard queries/*-violation.rq)
# ontology/ and queries/ are links to the package data in kg/vocab/ (one source).
ONTOLOGY  := ontology/dip.ttl
SHAPES    := ontology/shapes.ttl
RULES     := $(wildcard ontology/rules/*.rq)
QUERIES   := $(wildcard queries/*.rq)
CODE      := $(wildcard kg/*.py kg/*/*.py)

ASSERTED  := $(BUILD)/asserted.trig $(BUILD)/asserted.nq $(BUILD)/asserted.ttl \
             $(BUILD)/asserted.nt $(BUILD)/asserted.jsonld $(BUILD)/context.jsonld
INFERRED  := $(BUILD)/inferred.trig $(BUILD)/inferred.nq $(BUILD)/inferred.ttl \
             $(BUILD)/inferred.nt $(BUILD)/inferred.jsonld
VALIDATION := $(BUILD)/validation.ttl

.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.PHONY: help run test server-deps setup build infer validate report bench serve lint clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

# --- Setup ---------------------------------------------------------------------
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(STAMP) ## Create .venv and install the project with its test tools

# --- Pipeline ------------------------------------------------------------------
$(ASSERTED) &: $(DATA) $(ONTOLOGY) $(CODE) $(STAMP)
	$(KG) build

$(INFERRED) &: $(BUILD)/asserted.trig $(ONTOLOGY) $(RULES) $(CODE) $(STAMP)
	$(KG) infer

$(VALIDATION): $(BUILD)/asserted.trig $(BUILD)/inferred.trig $(SHAPES) $(ONTOLOGY) $(CHECKS) $(CODE) $(STAMP)
	$(KG) validate --quiet

build: $(ASSERTED) ## Compile curation into build/asserted.*
infer: $(INFERRED) ## Derive build/inferred.* with OWL RL and the status rules
validate: $(VALIDATION) ## Validate with SHACL; writes build/validation.ttl

report: $(VALIDATION) $(QUERIES) ## Print who conceded what and what remains disputed
	$(KG) report

run: report ## Set up, build, infer, validate and print the answers (the main job)

test: $(STAMP) server-deps ## Set up and run the whole test suite
	$(BIN)/pytest

# Virtuoso, the second real triplestore the tests load into (Debian package; needs root).
# Where it cannot be installed, its tests are reported as skipped, never as passed.
server-deps: ## Install Debian's virtuoso-opensource for the store tests, if root
	@if command -v virtuoso-t >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing virtuoso-opensource (Debian) for the store tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource >/dev/null; \
	else echo "note: virtuoso-t not found and cannot install it here; the Virtuoso tests will be skipped"; fi

BENCH_DOCS ?= 30 90 300 900

bench: $(STAMP) ## Time and peak memory, cold/warm/one edit, at $(BENCH_DOCS) documents (with the naive pipeline up to 90)
	$(KG) bench --docs $(BENCH_DOCS) --naive --naive-max 90

serve: $(INFERRED) ## Start a local Oxigraph server with the graph loaded (Ctrl-C stops it)
	$(KG) serve

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check kg tests
	$(BIN)/mypy

clean: ## Remove build outputs (keeps .venv)
	rm -rf $(BUILD)
