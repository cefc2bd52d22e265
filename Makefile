# Doorstep: `make run` brings the whole system up; `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install run test test-fast kafka-up kafka-down postgres-up postgres-down browser clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/doorstep run

# Everything the tests need is started here or by the fixtures (the Kafka broker on
# a test port, PostgreSQL on 55432); the real-broker and PostgreSQL tests never skip in CI.
test: install postgres-up browser
	PYTHON=$(PY) bash deploy/kafka.sh fetch
	DOORSTEP_TEST_POSTGRES_URL="$$(bash deploy/postgres.sh url)" $(VENV)/bin/pytest $(PYTEST_ARGS)

test-fast: install
	$(VENV)/bin/pytest tests/unit tests/component $(PYTEST_ARGS)

kafka-up: install
	$(VENV)/bin/doorstep kafka up

kafka-down: install
	$(VENV)/bin/doorstep kafka down

postgres-up:
	bash deploy/postgres.sh up

# Debian's Chromium and its driver for the browser test of the web forms (as root, once;
# nothing is fetched when both are there).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver; }

postgres-down:
	bash deploy/postgres.sh down

clean:
	-bash deploy/postgres.sh down
	-PYTHON=$(PY) bash deploy/kafka.sh down
	rm -rf var
