#!/usr/bin/env bash
# `make ee`: build the execution environment runbook-ee:latest on this machine with
# ansible-builder, from testbed/ee/execution-environment.yml (see its header for how it
# differs from the production definition, execution-environment.yml).
#   base         runbook-app-base:TAG of `make images` (debootstrap Debian 13 + python3)
#   collections  requirements.yml's, from the `ansible` bundle wheel (tools/fetch_collections.py,
#                the source `make venv` uses; .cache/wheels keeps it), and runbook.ops
#   pins         requirements.lock's versions, without hashes, as pip constraints
# The build's RUN steps reach the package index and the Debian mirror through the host's
# network (--network host: the engine runs without a bridge). Docker's layer cache makes a
# second build with nothing changed take seconds.
#   RUNBOOK_EE_TAG         the image's tag (default runbook-ee:latest)
#   RUNBOOK_EE_BASE_IMAGE  the base (default runbook-app-base with the tag of .cache/testhost-image)
#   RUNBOOK_EE_NO_CACHE=1  build every layer again (a cold build)
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${RUNBOOK_EE_TAG:-runbook-ee:latest}
stage=.cache/ee
log() { printf 'build-ee: %s\n' "$*" >&2; }

if [ -n "${RUNBOOK_EE_BASE_IMAGE:-}" ]; then
  base=$RUNBOOK_EE_BASE_IMAGE
else
  [ -s .cache/testhost-image ] || { log ".cache/testhost-image is missing: run make images"; exit 1; }
  host_image=$(cat .cache/testhost-image)
  base="runbook-app-base:${host_image#*:}"
fi
docker image inspect "$base" >/dev/null 2>&1 || { log "base image $base does not exist: run make images"; exit 1; }

log "collections from the ansible bundle wheel into $stage/collections"
mkdir -p "$stage/collections"
python tools/fetch_collections.py "$stage/collections" >&2
# runbook.ops as the work tree has it (the job itself uses the project's copy first, through
# ansible.cfg's collections_path), without test output and bytecode.
rm -rf "$stage/collections/ansible_collections/runbook"
mkdir -p "$stage/collections/ansible_collections/runbook/ops"
tar -C collections/ansible_collections/runbook/ops --exclude=./tests/output --exclude=__pycache__ -c . |
  tar -C "$stage/collections/ansible_collections/runbook/ops" -x

# The lock's pins (name==version), one a line: constraints for every pip install of the build.
grep -E '^[A-Za-z0-9._-]+==[^ ]+' requirements.lock | sed -E 's/[[:space:]]*\\$//' > "$stage/constraints.new"
if cmp -s "$stage/constraints.new" "$stage/constraints.txt"; then
  rm "$stage/constraints.new"
else
  mv "$stage/constraints.new" "$stage/constraints.txt"
fi

# The build's pip trusts what this machine's pip trusts (a machine whose way out goes
# through a TLS proxy has that proxy's CA there); Debian's bundle otherwise.
ca=
for candidate in "${PIP_CERT:-}" "${REQUESTS_CA_BUNDLE:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
  if [ -n "$candidate" ] && [ -s "$candidate" ]; then ca=$candidate; break; fi
done
[ -n "$ca" ] || { log "no CA bundle found for the build's pip (set PIP_CERT)"; exit 1; }
cmp -s "$ca" "$stage/build-ca.crt" || cp "$ca" "$stage/build-ca.crt"

args=(build -f testbed/ee/execution-environment.yml -c "$stage/context" -t "$tag"
  --container-runtime docker --build-arg "EE_BASE_IMAGE=$base"
  --extra-build-cli-args "--network host" -v 2)
[ "${RUNBOOK_EE_NO_CACHE:-}" = 1 ] && args+=(--no-cache)
log "ansible-builder ${args[*]}"
start=$(date +%s)
ansible-builder "${args[@]}" >&2
log "built $tag from $base in $(( $(date +%s) - start ))s"
docker run --rm "$tag" sh -c 'ansible --version | head -1; ansible-runner --version; docker --version' >&2
echo "$tag"
