# Carbon Label Ledger — the one interface for humans and CI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= ./var
export CARBONLABEL_DATA_DIR ?= $(DATA)

.PHONY: run test lint types unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Start the service on the embedded SQLite store; first run creates keys and store.
run: $(STAMP)
	@mkdir -p $(DATA)
	@if [ -z "$$CARBONLABEL_KEYSTORE_PASSPHRASE" ] && [ ! -s $(DATA)/dev-passphrase ]; then \
	  umask 077; $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))" > $(DATA)/dev-passphrase; \
	  echo "Generated a DEVELOPMENT keystore passphrase in $(DATA)/dev-passphrase."; \
	  echo "In production set CARBONLABEL_KEYSTORE_PASSPHRASE (or ..._FILE) yourself."; \
	fi
	@if [ -z "$$CARBONLABEL_KEYSTORE_PASSPHRASE" ]; then export CARBONLABEL_KEYSTORE_PASSPHRASE_FILE=$(DATA)/dev-passphrase; fi; \
	  $(BIN)/carbonlabel log init && exec $(BIN)/carbonlabel serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint types unit

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
