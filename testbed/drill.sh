#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `make drill`: every drill of playbooks/drill/drills.yml against a disposable
# test-bed host marked runbook_staging: true, then the host removed.
#   DRILL_HOST    the host's name (default runbook-drill)
#   DRILL         one drill's name instead of --all
#   KEEP=1        leave the host running (make clean removes it)
# The report and chart go to $RUNBOOK_RUNS_DIR (default .cache/drill-runs).
set -euo pipefail
cd "$(dirname "$0")/.."
name=${DRILL_HOST:-runbook-drill}
cache=.cache
inventory=$cache/$name-staging.yml
export RUNBOOK_RUNS_DIR=${RUNBOOK_RUNS_DIR:-$PWD/$cache/drill-runs}
mkdir -p "$cache"

cleanup() { [ "${KEEP:-0}" = 1 ] || python testbed/testhost.py down "$name"; }
trap cleanup EXIT

echo "== a disposable staging host: $name ($RUNBOOK_TESTHOST_IMAGE)"
# The disk-full drill fills a small ext4 filesystem on a loop device: the host gets this
# machine's loop devices (a container has none of its own; the drill refuses without them).
if [ -z "${RUNBOOK_TESTHOST_DEVICES+x}" ] && [ -e /dev/loop-control ]; then
  RUNBOOK_TESTHOST_DEVICES=$(ls -d /dev/loop-control /dev/loop[0-9]* 2>/dev/null | tr '\n' ' ')
  export RUNBOOK_TESTHOST_DEVICES
fi
python testbed/testhost.py up "$name" "$inventory"
# The staging mark, the ACME server the certificate drill renews from (pebble on the host), and the
# release the broken-release drill deploys (published below).
python - "$inventory" <<'PY'
import sys, yaml
path = sys.argv[1]
inventory = yaml.safe_load(open(path))
for host in inventory["app_servers"]["hosts"].values():
    host["runbook_staging"] = True
    host["certbot_renew_acme_server"] = "https://localhost:14000/dir"
    host["runbook_drill_broken_ref"] = "drill/late-failure"
open(path, "w").write(yaml.safe_dump(inventory, sort_keys=False))
PY

echo "== the app stack, nginx, Postgres, and a certbot lineage served by nginx (pebble)"
ansible-playbook -i "$inventory" molecule/shared/prepare-certificate.yml >"$cache/$name-prepare.log" || {
  tail -n 40 "$cache/$name-prepare.log"; exit 1; }

echo "== a release that passes its health gate and breaks 30 s after its start: origin's branch drill/late-failure"
docker exec "$name" /opt/runbook-testbed/make-repo.sh branch /opt/runbook-testbed/fixture-src \
  /srv/git/echoelmusic.git backend drill/late-failure v4-late-failure 30

echo "== runbook drill ${DRILL:---all} -i $inventory"
start=$(date +%s)
status=0
runbook drill ${DRILL:---all} -i "$inventory" || status=$?
echo "runbook drill: exit $status in $(( $(date +%s) - start ))s"
exit "$status"
