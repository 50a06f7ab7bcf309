#!/bin/bash
# Evidence of a security incident, into a root-only directory: $1 bundle dir,
# $2 the app's .env (only its permissions and times), $3 nginx's access log.
set -u -o pipefail
umask 077
bundle=$1 env_file=$2 access_log=$3
mkdir -p -m 0700 "$bundle"
cd "$bundle" || exit 1
if [ -r "$access_log" ]; then
  grep -E '"(POST|PUT|DELETE) ' "$access_log" > nginx-write-requests.log || true
  awk '{print $1}' "$access_log" | sort | uniq -c | sort -rn | head -n 20 > top-clients.txt
else
  echo "no access log at $access_log" > nginx-write-requests.log
fi
if [ -r /var/log/auth.log ]; then cp /var/log/auth.log auth.log
else journalctl --no-pager -q _COMM=sshd _COMM=sudo _COMM=login > auth.log 2>&1 || echo "no auth log" > auth.log
fi
stat -c '%A %a %U:%G size=%s modified=%y changed=%z %n' "$env_file" > env-permissions.txt 2>&1 || true
docker ps -a --no-trunc > containers.txt 2>&1 || true
ss -tulpn > listening-ports.txt 2>&1 || true
{ last -n 50 -F 2>&1 || true; lastlog 2>&1 | head -n 50 || true; } > recent-logins.txt
chmod 0600 ./*
ls -1
