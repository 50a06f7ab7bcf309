# runbook: the two commands are `make demo` and `make test` (see README.md).
# Both install what they need: Debian packages (Docker engine, debootstrap),
# the Python venv, the test-host image; and start the Docker engine if it is down.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
CACHE := $(CURDIR)/.cache
RUN := PATH=$(BIN):$$PATH
# `make molecule S=rollback` runs one scenario; JOBS scenarios run at a time.
S ?=
JOBS ?= 2

.PHONY: test demo static lint sanity syntax unit molecule integration deps venv engine images clean compat

# The static checks (lint, then sanity) run beside the unit tests: each of the two mostly
# keeps one core busy, so together they take about as long as the unit tests alone. Each
# part's output is printed whole when it ends (--output-sync).
test:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory venv; \
	$(MAKE) --no-print-directory -j2 --output-sync=target static unit; \
	$(MAKE) --no-print-directory molecule integration; \
	$(RUN) python testbed/suite.py --report; \
	echo "make test: all passed in $$(( $$(date +%s) - start ))s"

static: venv
	$(MAKE) --no-print-directory -j1 lint sanity

deps: venv engine images

# The venv is requirements.lock, exactly: every package of the tree at its locked version,
# each file checked against the lock's hashes (--require-hashes also refuses a lock that
# misses a dependency), then the project itself (editable, built with the locked setuptools:
# --no-build-isolation fetches nothing), then only the collections of requirements.yml,
# taken from the `ansible` bundle wheel into the venv's site-packages (hash-checked, kept in
# .cache/wheels: see tools/fetch_collections.py). tools/check_lock.py then compares
# `pip freeze` with the lock and fails on any difference.
venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml requirements.lock requirements.yml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python tools/fetch_collections.py "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
	$(BIN)/python tools/check_lock.py
	touch $@

# Refresh the lock: the newest versions pyproject.toml's ranges, requirements-dev.in and
# requirements-constraints.txt allow, with hashes. The suite is the gate: a refreshed lock
# is committed only after `make test` (and `make compat` when ansible-core moved) pass on it.
.PHONY: lock
lock: venv
	$(BIN)/uv pip compile --quiet --upgrade --generate-hashes --python-version 3.11 \
	  --extra test --constraint requirements-constraints.txt \
	  --custom-compile-command 'make lock' \
	  pyproject.toml requirements-dev.in --output-file requirements.lock

engine:
	@bash testbed/engine.sh

images: engine
	@mkdir -p $(CACHE)
	bash testbed/build-images.sh > $(CACHE)/testhost-image
	@echo "test host image: $$(cat $(CACHE)/testhost-image)"

# ansible-test sanity on the project's collection (runbook.ops), every test, no ignore
# entry. Offline: tools/sanity.sh says how ansible-test's per-test venvs get pip without
# the download host these machines cannot reach (ensurepip, then ansible-test's own
# pinned sanity requirements from the usual package index).
sanity: venv
	bash tools/sanity.sh

lint: venv
	$(RUN) yamllint --strict .
	$(RUN) ansible-lint --profile production
	$(RUN) check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(MAKE) syntax

syntax: venv
	@for p in playbooks/*.yml playbooks/internal/*.yml; do \
	  echo "syntax-check $$p"; \
	  $(RUN) ansible-playbook -i localhost, --syntax-check "$$p"; \
	done

unit: venv
	$(RUN) pytest -m 'not integration' -q

molecule: venv images
	$(RUN) RUNBOOK_TESTHOST_IMAGE=$$(cat $(CACHE)/testhost-image) python testbed/suite.py --jobs $(JOBS) $(S)
	-docker volume prune -f >/dev/null

integration: venv images ee
	$(RUN) RUNBOOK_TESTHOST_IMAGE=$$(cat $(CACHE)/testhost-image) bash testbed/integration.sh -q --durations=8

# Not part of `make test` (about 12 minutes): the unit tests and molecule's outage scenario
# on the oldest and the newest ansible-core that pyproject.toml's range admits, each in a venv
# of its own locked like the main one (tools/compat.sh). Run it when the range or the lock moves.
compat: venv images
	$(RUN) RUNBOOK_TESTHOST_IMAGE=$$(cat $(CACHE)/testhost-image) bash tools/compat.sh

# The execution environment runbook-ee:latest, built here with ansible-builder on the test
# bed's Debian base (testbed/build-ee.sh; about a minute cold, seconds when nothing changed).
# `make integration` builds it first: tests/integration/test_awx_worker.py runs scenarios
# through ansible-runner's worker protocol in it, as AWX runs a job. `make awx-smoke` does
# the same on a host of its own (testbed/awx-smoke.sh; not part of `make test`).
.PHONY: ee awx-smoke
ee: venv images
	$(RUN) bash testbed/build-ee.sh

awx-smoke: venv images
	$(RUN) RUNBOOK_TESTHOST_IMAGE=$$(cat $(CACHE)/testhost-image) bash testbed/awx-smoke.sh

# Not part of `make test`: times a rollback by the runbook's own commands against
# rollback.yml on two identical test hosts, and a certificate renewal against an
# unreachable ACME server (certificate.yml vs certbot renew), the outage recovery on one
# host and on four at once, and prints the ratios.
.PHONY: bench
bench: venv images
	$(RUN) RUNBOOK_TESTHOST_IMAGE=$$(cat $(CACHE)/testhost-image) $(BIN)/python bench/rollback
	$(RUN) RUNBOOK_TESTHOST_IMAGE=$$(cat $(CACHE)/testhost-image) $(BIN)/python bench/certificate
	$(RUN) RUNBOOK_TESTHOST_IMAGE=$$(cat $(CACHE)/testhost-image) $(BIN)/python bench/fleet

demo: venv images
	$(RUN) RUNBOOK_TESTHOST_IMAGE=$$(cat $(CACHE)/testhost-image) bash testbed/demo.sh

# Not part of `make test` (about 20 minutes): every drill of playbooks/drill/drills.yml
# (`runbook drill --all`) on a disposable test-bed host marked runbook_staging: true, with
# a certbot lineage from pebble; the host is removed after (KEEP=1 keeps it, DRILL=NAME runs
# one drill). The report and chart land in .cache/drill-runs/drill-*/ (testbed/drill.sh).
.PHONY: drill
drill: venv images
	$(RUN) RUNBOOK_TESTHOST_IMAGE=$$(cat $(CACHE)/testhost-image) bash testbed/drill.sh

clean:
	-docker ps -aq --filter label=runbook.testhost | xargs -r docker rm -f
	rm -rf $(CACHE)
