# Carbon Label Ledger — the one interface for humans and CI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= ./var
export CARBONLABEL_DATA_DIR ?= $(DATA)

.PHONY: run test lint types unit bench clean system-deps

# Debian tools the tests drive as a user would: PDF/SVG rasterisers for the printed
# labels and Chromium for the scan page. Installed when missing and we are root.
SYSTEM_TOOLS := pdftoppm:poppler-utils rsvg-convert:librsvg2-bin chromium:chromium

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
	  $(BIN)/carbonlabel log init && \
	  if [ ! -e $(DATA)/demo-tokens.json ]; then \
	    echo "First run: seeding demo labels (carbonlabel demo)…"; $(BIN)/carbonlabel demo; \
	  fi && exec $(BIN)/carbonlabel serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

system-deps:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "please install:$$missing (Debian packages)"; exit 1; fi; \
	fi

unit: $(STAMP) system-deps
	$(BIN)/pytest

test: lint types unit

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
