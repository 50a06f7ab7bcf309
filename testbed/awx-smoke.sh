#!/usr/bin/env bash
# `make awx-smoke`: scenarios run as AWX runs a job, through ansible-runner's worker
# protocol with the worker inside the execution environment (testbed/awx_worker.py):
#   1. outage: the API container of a test host is stopped; transmit | worker in
#      runbook-ee:latest | process recovers it; the artifacts say `successful`;
#   2. rollback with the survey's answers as extravars (a commit SHA, the booleans as
#      the strings AWX's multiple choice gives, the confirmation): the host runs the
#      release before the one it ran, and answers 200.
# Starts its own test host (runbook-awx-smoke) and always removes it. Needs the EE
# (`make ee`) and the test host image (`make images`).
set -euo pipefail
cd "$(dirname "$0")/.."
name=runbook-awx-smoke
image=${RUNBOOK_EE_IMAGE:-runbook-ee:latest}
inventory=$PWD/.cache/awx-smoke-inventory.yml
app_dir=/root/echoelmusic   # where testbed/fixture/site.yml lays out the app
health_py="import urllib.request; print(urllib.request.urlopen('http://localhost:3000/health', timeout=10).status)"
log() { printf 'awx-smoke: %s\n' "$*" >&2; }
health() { docker exec "$name" python3 -c "$health_py" 2>/dev/null || true; }

docker image inspect "$image" >/dev/null 2>&1 || { log "$image does not exist: run make ee"; exit 1; }
mkdir -p .cache
work=$(mktemp -d)
trap 'python testbed/testhost.py down "$name" >&2; rm -rf "$work"' EXIT
start=$(date +%s)
python testbed/testhost.py up "$name" "$inventory" >&2
ansible-playbook -i "$inventory" testbed/fixture/site.yml >.cache/awx-smoke-prepare.log || {
  tail -n 40 .cache/awx-smoke-prepare.log; exit 1; }
log "test host $name ready in $(( $(date +%s) - start ))s"

docker exec "$name" docker stop backend-api-1 >/dev/null
[ "$(health)" != 200 ] || { log "the host is not broken"; exit 1; }
t=$(date +%s)
python testbed/awx_worker.py "$work/outage" -i "$inventory" -p playbooks/outage.yml --image "$image" \
  >"$work/outage.log" || { tail -n 60 "$work/outage.log"; exit 1; }
[ "$(health)" = 200 ] || { log "outage: successful, yet /health does not answer 200"; exit 1; }
log "outage: recovered through transmit | worker | process in $(( $(date +%s) - t ))s"

before=$(docker exec "$name" git -C "$app_dir" rev-parse HEAD)
target=$(docker exec "$name" git -C "$app_dir" rev-parse HEAD~1)
answers=$(printf '{"commit": "%s", "no_cache": "false", "snapshot": "true", "runbook_confirm": "yes, run rollback"}' "$target")
t=$(date +%s)
python testbed/awx_worker.py "$work/rollback" -i "$inventory" -p playbooks/rollback.yml --image "$image" \
  -e "$answers" >"$work/rollback.log" || { tail -n 60 "$work/rollback.log"; exit 1; }
now=$(docker exec "$name" git -C "$app_dir" rev-parse HEAD)
[ "$now" = "$target" ] || { log "rollback: successful, yet the host runs $now, not $target"; exit 1; }
[ "$(health)" = 200 ] || { log "rollback: successful, yet /health does not answer 200"; exit 1; }
log "rollback: ${before:0:7} -> ${target:0:7} through transmit | worker | process in $(( $(date +%s) - t ))s"
log "passed in $(( $(date +%s) - start ))s"
