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
CODE      := $(wildcard kg/*.py kg/pipeline/*.py)
SITE_CODE := $(wildcard kg/site/*.py kg/site/templates/*.html kg/site/static/*)

ASSERTED  := $(BUILD)/asserted.trig $(BUILD)/asserted.nq $(BUILD)/asserted.ttl \
             $(BUILD)/asserted.nt $(BUILD)/asserted.jsonld $(BUILD)/context.jsonld
INFERRED  := $(BUILD)/inferred.trig $(BUILD)/inferred.nq $(BUILD)/inferred.ttl \
             $(BUILD)/inferred.nt $(BUILD)/inferred.jsonld
VALIDATION := $(BUILD)/validation.ttl

.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.PHONY: help run test server-deps setup build infer validate report site bench serve lint clean

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

$(BUILD)/site/index.html $(BUILD)/void.ttl &: $(DATA) $(INFERRED) $(VALIDATION) $(QUERIES) $(SHAPES) $(SITE_CODE) $(CODE) $(STAMP)
	$(KG) site

site: $(BUILD)/site/index.html ## Write the static site to build/site/ (and build/void.ttl)

run: report ## Set up, build, infer, validate and print the answers (the main job)

test: $(STAMP) server-deps ## Set up and run the whole test suite
	$(BIN)/pytest

# Virtuoso, the second real triplestore the tests load into, and Chromium, the browser
# the site's tests drive (Debian packages; need root). Where they cannot be installed,
# their tests are reported as skipped, never as passed (and fail in CI).
server-deps: ## Install Debian's virtuoso-opensource and chromium for the tests, if root
	@missing=""; \
	command -v virtuoso-t >/dev/null 2>&1 || missing="$$missing virtuoso-opensource"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing$$missing (Debian) for the store and browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "note:$$missing not found and cannot be installed here; their tests will be skipped"; fi

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
