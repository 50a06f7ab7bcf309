# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signs of the guide's sections 3, 6 and 8 in what a host already shows: pure functions.

Host-wide CPU (two samples of /proc/stat), load (/proc/loadavg) and memory use;
OOM kills and failed SSH logins in the journal (`journalctl -o json`) or in
auth.log; payment errors among a container's log lines; whether the app's .env
changed after the last release the ledger recorded. Each returns data; the
module (runbook_diagnose) reads the sources and compares with its limits.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from ansible_collections.runbook.ops.plugins.module_utils.runbook_log_lines import clean_log_line
from ansible_collections.runbook.ops.plugins.module_utils.runbook_times import docker_epoch, epoch_of, iso

# A kill by the kernel's OOM killer: "Out of memory: Killed process 123 (x)" (the whole host) or
# "Memory cgroup out of memory: Killed process 123 (x)" (a container's limit).
OOM_KILL = re.compile(r"out of memory: Killed process \d+", re.IGNORECASE)
# A failed SSH login, as sshd (OpenSSH < 10) or sshd-session/sshd-auth (OpenSSH 10) and PAM log it.
LOGIN_FAILURE = re.compile(
    r"Failed (?:password|publickey|keyboard-interactive\S*|none) for |Invalid user |authentication failure"
    r"|maximum authentication attempts exceeded|Connection closed by authenticating user ")
SSH_IDENTIFIERS = frozenset({"sshd", "sshd-session", "sshd-auth"})
# What journalctl --grep looks for: both kinds above, in one pass over the window.
JOURNAL_GREP = "out of memory: Killed process|Failed (password|publickey|keyboard-interactive|none) for|Invalid user " \
               "|authentication failure|maximum authentication attempts exceeded|Connection closed by authenticating user "
ADDRESS = re.compile(r" from (\S+) port \d+|\brhost=(\S+)|authenticating user \S+ (\S+) port \d+")
# A line of auth.log as rsyslog writes it on Debian 13 (RFC 3339 time first).
SYSLOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))\s+\S+\s+([^:\[\s]+)")


def parse_loadavg(text):
    """(load1, load5, load15) of /proc/loadavg, or None."""
    parts = text.split()
    try:
        return tuple(float(value) for value in parts[:3]) if len(parts) >= 3 else None
    except ValueError:
        return None


def cpu_times(text):
    """(busy, total) jiffies of the `cpu` line of /proc/stat (idle and iowait are not busy), or None."""
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            values = [int(value) for value in parts[1:] if value.isdigit()]
            if len(values) < 4:
                return None
            # user nice system idle iowait irq softirq steal (guest time is already in user and nice)
            total = sum(values[:8])
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            return total - idle, total
    return None


def cpu_pct(before, after):
    """Host-wide CPU use between two cpu_times samples, in % of all CPUs; None when they cannot tell."""
    if not before or not after or after[1] <= before[1]:
        return None
    return round(100.0 * (after[0] - before[0]) / (after[1] - before[1]), 1)


def count_cpus(text):
    """The CPUs /proc/stat lists (cpu0, cpu1 ...); at least 1."""
    return max(1, sum(1 for line in text.splitlines() if re.match(r"cpu\d+ ", line)))


def memory_pct(memory):
    """Memory in use (total - available) in % of the total, from runbook_usage.parse_meminfo; None without a total."""
    total = memory.get("total_mb") or 0
    return round(100.0 * memory.get("used_mb", 0) / total, 1) if total else None


def _text(value):
    """A journal field: a string, or a list of bytes when it was not UTF-8."""
    if isinstance(value, list):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


def journal_entries(text):
    """(epoch, identifier, pid, message) of `journalctl -o json` lines."""
    entries = []
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict):
            continue
        try:
            epoch = int(item.get("__REALTIME_TIMESTAMP")) / 1e6
        except (TypeError, ValueError):
            continue
        identifier = _text(item.get("SYSLOG_IDENTIFIER") or item.get("_COMM"))
        entries.append((epoch, identifier, _text(item.get("_PID") or item.get("SYSLOG_PID")),
                        _text(item.get("MESSAGE"))))
    return entries


def auth_log_entries(lines):
    """(epoch, identifier, pid, message) of auth.log / kern.log lines that carry an RFC 3339 time."""
    entries = []
    for line in lines:
        found = SYSLOG_TIME.match(line)
        if not found:
            continue
        try:
            epoch = datetime.fromisoformat(found.group(1).replace("Z", "+00:00")).timestamp()
        except ValueError:
            continue
        pid = re.match(r"[^\[]*\[(\d+)\]", line[found.start(2):])
        entries.append((epoch, found.group(2), pid.group(1) if pid else "", line[found.end():].lstrip("[]0123456789: ")))
    return entries


def dmesg_entries(text):
    """(epoch, 'kernel', '', message) of `dmesg --time-format iso` lines (2026-12-06T18:34:01,916984+00:00 text)."""
    entries = []
    for line in text.splitlines():
        stamp, dummy, message = line.partition(" ")
        try:
            epoch = datetime.fromisoformat(stamp.replace(",", ".")).timestamp()
        except ValueError:
            continue
        entries.append((epoch, "kernel", "", message.strip()))
    return entries


def _line(epoch, identifier, message):
    return "%s %s: %s" % (iso(int(epoch)), identifier, clean_log_line(message))


def oom_kills(entries, since, keep):
    """{count, lines (the last keep)} of the OOM killer's kills at or after since."""
    found = [_line(epoch, ident, message) for epoch, ident, dummy, message in entries
             if epoch >= since and OOM_KILL.search(message)]
    return {"count": len(found), "lines": found[-keep:] if keep > 0 else []}


def failed_logins(entries, since, keep):
    """{count, sources, lines} of failed SSH logins at or after since: one per sshd process (a connection)
    that logged a failure, so "Invalid user" and its "Failed password" count once; sources as one line,
    'address (n), ...', the five busiest first."""
    attempts = {}
    for epoch, ident, pid, message in entries:
        if epoch < since or not LOGIN_FAILURE.search(message):
            continue
        if ident not in SSH_IDENTIFIERS and "sshd" not in message:
            continue
        key = (ident, pid) if pid else (ident, epoch, message)
        if key not in attempts:
            found = ADDRESS.search(message)
            address = next((group for group in found.groups() if group), "") if found else ""
            attempts[key] = (epoch, ident, message, address)
    rows = sorted(attempts.values(), key=lambda row: row[0])
    by_address = {}
    for row in rows:
        if row[3]:
            by_address[row[3]] = by_address.get(row[3], 0) + 1
    sources = ["%s (%d)" % (address, count)
               for address, count in sorted(by_address.items(), key=lambda item: (-item[1], item[0]))]
    lines = [_line(epoch, ident, message) for epoch, ident, message, dummy in rows]
    return {"count": len(rows), "sources": ", ".join(sources[:5]), "lines": lines[-keep:] if keep > 0 else []}


def payment_errors(lines, since, words, error_pattern, keep):
    """{count, lines} of `docker logs --timestamps` lines at or after since that name a payment word and
    an error (both regular expressions, case-insensitive), cleaned, oldest first."""
    word = re.compile(words, re.IGNORECASE)
    error = re.compile(error_pattern, re.IGNORECASE)
    found = []
    for raw in lines:
        stamp = raw.split(" ", 1)[0]
        epoch = docker_epoch(stamp)
        if epoch is None or epoch < since:
            continue
        line = clean_log_line(raw)
        if word.search(line) and error.search(line):
            found.append(line)
    return {"count": len(found), "lines": found[-keep:] if keep > 0 else []}


def env_change(path, mtime, entries, now, own_write=None, digest=""):
    """Whether the environment file changed after the last release the ledger recorded.
    changed_after_release is None when it cannot tell (no file, no release). A file whose
    SHA-256 (digest) is the one the runbook's own last write of it recorded (own_write) is
    explained by that write (explained_by), and so not changed after the release."""
    item = {"path": path, "found": mtime is not None, "time": iso(int(mtime)) if mtime is not None else "",
            "age": None if mtime is None else max(0, int(now - mtime)), "last_release_time": "",
            "changed_after_release": None, "explained_by": "", "error": ""}
    if mtime is not None and own_write and digest and own_write.get("sha256") == digest:
        scenario, written = own_write.get("scenario") or "own", own_write.get("time") or "?"
        item["explained_by"] = "the runbook's %s run at %s" % (scenario, written)
    if mtime is None:
        item["error"] = "no file %s" % path
        return item
    epochs = [entry["epoch"] if isinstance(entry.get("epoch"), int) else epoch_of(entry.get("time")) for entry in entries]
    last = max([epoch for epoch in epochs if epoch is not None], default=None)
    if last is None:
        item["error"] = "no release recorded to compare with"
        return item
    item["last_release_time"] = iso(last)
    item["changed_after_release"] = mtime > last and not item["explained_by"]
    return item
