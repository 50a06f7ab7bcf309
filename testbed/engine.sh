#!/usr/bin/env bash
# Make sure this machine has a running Docker engine and debootstrap (Debian 12).
# The engine runs without a bridge and without iptables: test hosts use
# network_mode none and are reached with `docker exec`.
set -euo pipefail
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "engine: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if docker info >/dev/null 2>&1; then
  exit 0
fi
echo "engine: starting dockerd"
nohup dockerd --bridge=none --iptables=false >/var/log/runbook-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
echo "engine: dockerd did not answer within 60 s, see /var/log/runbook-dockerd.log" >&2
exit 1
