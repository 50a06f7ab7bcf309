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

.PHONY: test demo lint syntax unit molecule integration deps venv engine images clean

test:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory lint unit molecule integration; \
	$(RUN) python testbed/suite.py --report; \
	echo "make test: all passed in $$(( $$(date +%s) - start ))s"

deps: venv engine images

# ansible-core from pyproject.toml, then only the collections of requirements.yml,
# taken from the `ansible` bundle wheel into the venv's site-packages (kept in
# .cache/wheels, so a rebuild needs no network for them): see tools/fetch_collections.py.
venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml requirements.yml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python tools/fetch_collections.py "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
	touch $@

engine:
	@bash testbed/engine.sh

images: engine
	@mkdir -p $(CACHE)
	bash testbed/build-images.sh > $(CACHE)/testhost-image
	@echo "test host image: $$(cat $(CACHE)/testhost-image)"

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

integration: venv images
	$(RUN) RUNBOOK_TESTHOST_IMAGE=$$(cat $(CACHE)/testhost-image) bash testbed/integration.sh -q --durations=8

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

clean:
	-docker ps -aq --filter label=runbook.testhost | xargs -r docker rm -f
	rm -rf $(CACHE)
