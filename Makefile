# One command per chore; CI runs the same ones.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check bench soak install browser nginx node libmagic clean

# make run installs the server with only the extras its settings ask for: postgres when
# FRONTDESK_DATABASE_URL is a PostgreSQL URL, redis when FRONTDESK_REDIS_URL is set.
comma := ,
empty :=
space := $(empty) $(empty)
RUN_EXTRAS := $(strip $(if $(filter postgres%,$(FRONTDESK_DATABASE_URL)),postgres) \
                      $(if $(FRONTDESK_REDIS_URL),redis))
RUN_STAMP := $(VENV)/.installed-run$(if $(RUN_EXTRAS),-$(subst $(space),-,$(RUN_EXTRAS)))

$(VENV)/bin/pip:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/pip libmagic
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/pip libmagic
	$(BIN)/pip install --quiet -e '.$(if $(RUN_EXTRAS),[$(subst $(space),$(comma),$(RUN_EXTRAS))])'
	touch $(RUN_STAMP)

install: $(STAMP)

## make run: set everything up and serve on SQLite with a demo project
run: $(RUN_STAMP)
	$(BIN)/frontdesk migrate
	$(BIN)/frontdesk serve --demo

## make test: set everything up (Python packages, Chromium, nginx, Node clients) and run the
## whole suite
test: $(STAMP) browser nginx node
	$(BIN)/pytest $(PYTEST_ARGS)

# Uploaded files are recognised by their content with libmagic (python-magic loads it).
libmagic:
	@ldconfig -p 2>/dev/null | grep -q 'libmagic\.so\.1' || { \
	  echo "installing Debian's libmagic1 to recognise uploaded files"; \
	  (apt-get update -q && apt-get install -y -q libmagic1) >/dev/null; }

browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -q && apt-get install -y -q chromium) >/dev/null; }

# The deployment tests run Debian's nginx in front of frontdesk with deploy/nginx.conf.
nginx:
	@test -x /usr/sbin/nginx || { \
	  echo "installing Debian's nginx for the deployment tests"; \
	  (apt-get update -q && apt-get install -y -q nginx) >/dev/null; }

# Reinstalled whenever the lock file changes (a new client or test runner).
NODE_STAMP := tests/compat/node_modules/.installed

node: $(NODE_STAMP)

$(NODE_STAMP): tests/compat/package-lock.json
	cd tests/compat && npm ci --silent --no-audit --no-fund
	touch $(NODE_STAMP)

check: $(STAMP)
	$(BIN)/ruff check src tests bench soak
	$(BIN)/mypy

## make soak: a few minutes of mixed loopback traffic; fails if memory or open fds keep growing
soak: $(STAMP)
	$(BIN)/python -m soak $(SOAK_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
