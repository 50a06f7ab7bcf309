#!/usr/bin/env bash
# `make demo`: a disposable production-like host, broken (an outage), recovered
# by `runbook run outage`, then its health check and incident report shown.
# KEEP=1 leaves the host running afterwards (remove it with `make clean`).
set -euo pipefail
cd "$(dirname "$0")/.."
name=runbook-demo
cache=.cache
inventory=$cache/demo-inventory.yml
export RUNBOOK_RUNS_DIR=${RUNBOOK_RUNS_DIR:-$PWD/$cache/demo-runs}
mkdir -p "$cache"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
health() { docker exec "$name" curl -s -o /dev/null -w '%{http_code}' --max-time 3 http://localhost:3000/health || true; }

cleanup() { [ "${KEEP:-0}" = 1 ] || python testbed/testhost.py down "$name"; }
trap cleanup EXIT

step "Start a disposable Debian 13 host ($RUNBOOK_TESTHOST_IMAGE)"
python testbed/testhost.py up "$name" "$inventory"

step "Lay out the production-like app server (compose stack, nginx, Postgres)"
ansible-playbook -i "$inventory" testbed/fixture/site.yml >"$cache/demo-prepare.log" || {
  tail -n 40 "$cache/demo-prepare.log"; exit 1; }
echo "healthy: GET /health -> $(health)"

step "Break it: the api container and nginx stop (a complete outage)"
docker exec "$name" docker stop backend-api-1 >/dev/null
docker exec "$name" systemctl stop nginx
echo "broken: GET /health -> $(health)"

step "runbook run outage -i $inventory"
runbook run outage -i "$inventory"

step "After recovery"
echo "GET http://localhost:3000/health -> $(health)"
docker exec "$name" curl -s http://localhost:3000/health; echo

step "Incident report"
run_id=$(runbook history --json | python -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
cat "$RUNBOOK_RUNS_DIR/$run_id/report.md"
