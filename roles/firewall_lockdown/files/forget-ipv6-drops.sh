#!/bin/bash
# Unlock: remove the drops the lockdown put straight into ip6tables' INPUT
# (ufw's IPV6=no), found by their comment; nothing else is touched. Prints
# how many went.
set -eu -o pipefail
command -v ip6tables >/dev/null || { echo "ip6tables: not installed, nothing to remove"; exit 0; }
rules=$(ip6tables -S INPUT | grep -F -- '--comment "runbook lockdown"' || true)
if [ -z "$rules" ]; then
  echo "ip6tables: no lockdown drop to remove"
  exit 0
fi
# xargs reads each line as ip6tables reads its words (the comment's quotes included).
printf '%s\n' "$rules" | sed 's/^-A /-D /' | xargs -r -L1 ip6tables
echo "ip6tables: removed $(printf '%s\n' "$rules" | wc -l) lockdown drop(s)"
