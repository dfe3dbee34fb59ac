# Two commands for a newcomer: `make run` (the bot, on SQLite) and `make test` (the suite).
# Both create the virtual environment in .venv and install the project on first use.

VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint bench health backup restore

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: $(VENV)/.installed
	$(PY) -m bot

test: $(VENV)/.installed
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(VENV)/.installed
	$(PY) -m bench.run

health: $(VENV)/.installed
	$(PY) -m bot.health

# make backup [BACKUP=file]; make restore BACKUP=file [FORCE=1]  (README, "Backups")
backup: $(VENV)/.installed
	$(PY) -m bot.backup $(BACKUP)

restore: $(VENV)/.installed
	$(PY) -m bot.restore $(BACKUP) $(if $(FORCE),--force)
