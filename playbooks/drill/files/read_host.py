#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs on the drilled host (ansible.builtin.script): prints one JSON object, changes nothing.

    read_host.py HEALTH_URL DB_HEALTH_URL REPO_DIR STATE_DIR DOMAIN

probe: health, db_health (HTTP status, 0 when nothing answers), disk_max_pct,
cpu_top_pct, certificate_days_left (None without a lineage).
snapshot: the probe's health, the release (git HEAD), the ledger's last
release, ufw's rules, each mount's use %, the lineage's certificate fingerprint
and the state of the services the drills stop.
"""

import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except Exception:  # refused, timed out, reset: nothing answered
        return 0


def output(*argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def mounts():
    found = {}
    for line in output("df", "-P").splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 6 and fields[4].endswith("%") and fields[5].startswith("/"):
            if fields[5].startswith(("/proc", "/sys", "/dev", "/var/lib/docker")):  # containers' own layers
                continue
            found[fields[5]] = int(fields[4].rstrip("%"))
    return found


def cpu_top():
    """The highest %CPU (ps: over the process's life) of processes older than 5 s (a new one reads high)."""
    values = []
    for line in output("ps", "-eo", "pcpu=,etimes=").splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].isdigit() and int(fields[1]) >= 5:
            try:
                values.append(float(fields[0]))
            except ValueError:
                continue
    return max(values, default=0.0)


def ledger_last(state_dir):
    try:
        with open(os.path.join(state_dir, "releases.jsonl"), encoding="utf-8") as ledger:
            lines = [line for line in ledger if line.strip()]
    except OSError:
        return ""
    try:
        return str(json.loads(lines[-1]).get("commit", "")) if lines else ""
    except ValueError:
        return "unreadable"


def certificate(domain):
    path = os.path.join("/etc/letsencrypt/live", domain, "cert.pem")
    if not os.path.exists(path):
        return None, ""
    with open(path, "rb") as pem:
        fingerprint = hashlib.sha256(pem.read()).hexdigest()
    end = output("openssl", "x509", "-in", path, "-noout", "-enddate").strip().partition("=")[2]
    seconds = output("date", "-d", end, "+%s").strip() if end else ""
    days = (int(seconds) - int(time.time())) // 86400 if seconds.isdigit() else None
    return days, fingerprint


def main():
    health_url, db_url, repo, state_dir, domain = sys.argv[1:6]
    used = mounts()
    days, fingerprint = certificate(domain)
    health = status(health_url)
    probe = {"health": health, "db_health": status(db_url), "disk_max_pct": max(used.values(), default=0),
             "cpu_top_pct": cpu_top(), "certificate_days_left": days}
    snapshot = {
        "health": health,
        "release": output("git", "-C", repo, "rev-parse", "HEAD").strip(),
        "ledger_last": ledger_last(state_dir),
        "ufw": output("ufw", "status", "verbose").strip(),
        "disk_pct": used,
        "certificate": fingerprint,
        "services": {name: output("systemctl", "is-active", name).strip()
                     for name in ("docker", "nginx", "postgresql")},
    }
    print(json.dumps({"probe": probe, "snapshot": snapshot}, sort_keys=True))


if __name__ == "__main__":
    main()
