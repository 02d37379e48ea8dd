# The README names these targets. Each one creates .venv and installs what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: demo test test-fast lint typecheck bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit("crm-graph needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# The explorer page's browser libraries (cytoscape.js), exactly as package-lock.json pins them.
$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "the network explorer needs Node.js and npm (https://nodejs.org)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

demo: $(STAMP) $(NODE_STAMP)  ## generate a bank, load it into the embedded store and show it
	$(BIN)/crm-graph demo

test: $(STAMP) $(NODE_STAMP)  ## the whole suite, Neo4j included (started from Maven Central jars when no Docker)
	$(BIN)/pytest

test-fast: $(STAMP)  ## everything but Neo4j and slow tests
	$(BIN)/pytest -m "not neo4j and not slow and not browser"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)  ## both backends side by side on a generated bank; results in bench/results/
	$(BIN)/crm-graph bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache
