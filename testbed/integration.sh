#!/usr/bin/env bash
# `make integration`: the CLI's integration tests against a real, prepared test host.
# Exports RUNBOOK_TEST_HOST and RUNBOOK_TEST_INVENTORY for tests marked `integration`.
set -euo pipefail
cd "$(dirname "$0")/.."
name=runbook-integration
mkdir -p .cache
export RUNBOOK_TEST_HOST=$name
export RUNBOOK_TEST_INVENTORY=$PWD/.cache/integration-inventory.yml
trap 'python testbed/testhost.py down "$name"' EXIT
python testbed/testhost.py up "$name" "$RUNBOOK_TEST_INVENTORY"
ansible-playbook -i "$RUNBOOK_TEST_INVENTORY" testbed/fixture/site.yml >.cache/integration-prepare.log || {
  tail -n 40 .cache/integration-prepare.log; exit 1; }
pytest -m integration "$@"
