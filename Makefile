# The two commands: `make run` (embedded default, no servers) and `make test` (real services).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# `make run PORT=8001` serves elsewhere; the port is checked before any set-up.
PORT ?= 8000
RUN_HOST := 127.0.0.1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run port-free test lint pytest services-start services-stop services-status migrate demo bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-local: requirements/base.txt requirements/local.txt requirements/constraints.txt | $(VENV)/bin/activate
	$(PY) -m pip install -q -r requirements/local.txt
	touch $@

$(VENV)/.installed-test: requirements/*.txt | $(VENV)/bin/activate
	$(PY) -m pip install -q -r requirements/test.txt
	touch $@ $(VENV)/.installed-local

run: port-free $(VENV)/.installed-local
	DJANGO_SETTINGS_MODULE=config.settings.local $(PY) manage.py migrate_all -v 0
	DJANGO_SETTINGS_MODULE=config.settings.local $(PY) manage.py demo_setup
	@echo
	@echo "  API docs:  http://$(RUN_HOST):$(PORT)/api/docs/"
	@echo "  Admin:     http://$(RUN_HOST):$(PORT)/admin/   (staff credentials above)"
	@echo "  Health:    http://$(RUN_HOST):$(PORT)/readyz"
	@echo
	DJANGO_SETTINGS_MODULE=config.settings.local $(PY) manage.py runserver $(RUN_HOST):$(PORT)

port-free:
	@$(PYTHON) scripts/port_free.py $(RUN_HOST) $(PORT)

services-start:
	bash scripts/services.sh start

services-stop:
	bash scripts/services.sh stop

services-status:
	bash scripts/services.sh status

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/bandit -q -r apps config -x "*/migrations/*"
	bash scripts/audit.sh

pytest: $(VENV)/.installed-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test: $(VENV)/.installed-test services-start lint pytest

$(VENV)/.installed-bench: requirements/bench.txt $(VENV)/.installed-test
	$(PY) -m pip install -q -r requirements/bench.txt
	touch $@

# Benchmarks: ratios against references measured in the same run (see README, Performance).
bench: $(VENV)/.installed-bench services-start
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/*.sqlite3
