#!/bin/bash
# Evidence of a security incident, into a root-only directory: $1 bundle dir,
# $2 the app's .env (only its permissions and times), $3 nginx's access log,
# $4 the compose directory (its containers are stopped, not removed: their
# logs, `docker inspect` and `docker diff` go into containers/).
set -u -o pipefail
umask 077
bundle=$1 env_file=$2 access_log=$3 compose_dir=$4
mkdir -p -m 0700 "$bundle"
cd "$bundle" || exit 1
if [ -r "$access_log" ]; then
  grep -E '"(POST|PUT|DELETE) ' "$access_log" > nginx-write-requests.log || true
  awk '{print $1}' "$access_log" | sort | uniq -c | sort -rn | head -n 20 > top-clients.txt
else
  echo "no access log at $access_log" > nginx-write-requests.log
fi
# Debian 13 (OpenSSH 10) logs logins from sshd-session and sshd-auth, not sshd;
# without rsyslog there is no auth.log, only the journal.
{
  if [ -r /var/log/auth.log ]; then cp /var/log/auth.log /dev/stdout; fi
  journalctl --no-pager -q -o short-iso _COMM=sshd _COMM=sshd-session _COMM=sshd-auth _COMM=sudo _COMM=login \
    2>&1 || echo "no journal"
} > auth.log
stat -c '%A %a %U:%G size=%s modified=%y changed=%z %n' "$env_file" > env-permissions.txt 2>&1 || true
docker ps -a --no-trunc > containers.txt 2>&1 || true
mkdir -p -m 0700 containers
ids=$(cd "$compose_dir" 2>/dev/null && docker compose ps -a -q 2>/dev/null || true)
for id in $ids; do
  name=$(docker inspect -f '{{.Name}}' "$id" 2>/dev/null | tr -d '/')
  name=${name:-$id}
  docker logs --timestamps "$id" > "containers/$name.log" 2>&1 || true
  # The environment's values are .env's secrets: names kept, values masked.
  docker inspect "$id" 2>&1 | python3 -c '
import json, sys
text = sys.stdin.read()
try:
    found = json.loads(text)
except ValueError:
    sys.exit(print(text.strip()[:500]))
for item in found:
    env = (item.get("Config") or {}).get("Env") or []
    item["Config"]["Env"] = [entry.split("=", 1)[0] + "=REDACTED" for entry in env]
json.dump(found, sys.stdout, indent=2)
' > "containers/$name.inspect.json" || true
  docker diff "$id" > "containers/$name.diff.txt" 2>&1 || true
done
ss -tulpn > listening-ports.txt 2>&1 || true
# lastlog is gone on Debian 13 (lastlog2 replaces it where installed).
{ last -n 50 -F 2>&1 || true
  if command -v lastlog2 >/dev/null; then lastlog2 2>&1 | head -n 50
  elif command -v lastlog >/dev/null; then lastlog 2>&1 | head -n 50; fi
} > recent-logins.txt
find . -type f -exec chmod 0600 {} +
find . -mindepth 1 -type f | sed 's|^\./||' | sort
