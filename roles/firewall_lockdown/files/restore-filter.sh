#!/bin/bash
# Unlock of a host whose ufw was inactive before the lockdown: `ufw disable`
# leaves ufw's (flushed) chains in the filter table. Put the filter table back
# as the lockdown's snapshot ($1) kept it, for IPv4 and IPv6. A dump without a
# filter table (nothing had loaded it) gives an empty one with ACCEPT policies:
# iptables can empty a table, not unload it. Other tables are not touched.
set -eu -o pipefail
snapshot=$1
for tool in iptables ip6tables; do
  kept="$snapshot/$tool.rules"
  if [ ! -r "$kept" ]; then
    echo "$tool: no dump in the snapshot, left as it is"
  elif grep -q '^\*filter' "$kept"; then
    "$tool-restore" -T filter < "$kept"
    echo "$tool: filter table restored from $kept"
  else
    printf '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n' | "$tool-restore" -T filter
    echo "$tool: filter table emptied (the snapshot had none)"
  fi
done
