# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host's triage fix log, <state_dir>/triage-fixes.jsonl, and the circuit breaker that reads it: pure functions
and one writer.

One JSON object a line, oldest first: epoch (the host's clock, UTC seconds), time, scenario, operator, token.
`runbook triage --fix` records each fix it is about to run (runbook_triage_fixes); the breaker refuses a fix when
the same scenario was recorded `max_fixes` times within the last `window` seconds of the host's clock, so operators
on controllers in other time zones, or with wrong clocks, count the same fixes. A line that is not such an object
(torn, hand-edited) is skipped.
"""

from __future__ import annotations

import fcntl
import json
import os
import re

from ansible_collections.runbook.ops.plugins.module_utils.runbook_ledger import json_objects
from ansible_collections.runbook.ops.plugins.module_utils.runbook_times import iso

FIX_LOG = "triage-fixes.jsonl"
GUARD = FIX_LOG + ".guard"
KEEP = 500  # entries kept; far more than any window holds at a few fixes per hour
# runbook_triage_window: a whole number and a unit, s (seconds), m (minutes), h (hours) or d (days): 90m, 1h, 2d.
WINDOW = re.compile(r"^([1-9][0-9]{0,6})([smhd])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_WINDOW = 7 * 86400
WINDOW_ACCEPTED = "a whole number and a unit: s, m, h or d (e.g. 30m, 1h, 2d; at most 7d)"
MAX_FIXES = 100
MAX_FIXES_ACCEPTED = "a whole number of fixes, 1 to %d" % MAX_FIXES


def window_seconds(text):
    """runbook_triage_window in seconds; ValueError naming what is accepted."""
    found = WINDOW.match(str(text).strip())
    seconds = int(found.group(1)) * UNITS[found.group(2)] if found else 0
    if not found or seconds > MAX_WINDOW:
        raise ValueError("runbook_triage_window=%r is not accepted: give %s" % (str(text), WINDOW_ACCEPTED))
    return seconds


def max_fixes(value):
    """runbook_triage_max_fixes as a number; ValueError naming what is accepted."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or not 1 <= int(text) <= MAX_FIXES:
        raise ValueError("runbook_triage_max_fixes=%r is not accepted: give %s" % (text, MAX_FIXES_ACCEPTED))
    return int(text)


def parse_log(lines):
    """The entries of the log's lines that are objects with a whole epoch and a scenario, in order."""
    return json_objects(lines, lambda entry: (isinstance(entry.get("epoch"), int)
                                              and not isinstance(entry["epoch"], bool)
                                              and isinstance(entry.get("scenario"), str)))


def recent(entries, scenario, now, window):
    """This scenario's fixes within the window ending now (host clock). A fix recorded in the future (the host's
    clock was set back since) counts too: the breaker never opens because a clock moved."""
    return [entry for entry in entries if entry["scenario"] == scenario and entry["epoch"] > now - window]


def decide(entries, scenario, now, window, limit):
    """(allowed, this scenario's fixes within the window): allowed while fewer than `limit` are recorded."""
    found = recent(entries, scenario, now, window)
    return len(found) < limit, found


def new_entry(scenario, now, operator, token):
    return {"epoch": int(now), "time": iso(int(now)), "scenario": scenario, "operator": operator, "token": token}


def log_path(state_dir):
    return os.path.join(state_dir, FIX_LOG)


def read_log(state_dir):
    """The log's entries; none when there is no log yet (any other problem raises OSError)."""
    try:
        with open(log_path(state_dir), encoding="utf-8") as f:
            return parse_log(f)
    except FileNotFoundError:
        return []


class Guard:
    """flock() on <state_dir>/triage-fixes.jsonl.guard around a read-decide-append (beside the run lock, so a
    direct ansible-playbook without it cannot interleave either)."""

    def __init__(self, state_dir):
        self.path = os.path.join(state_dir, GUARD)
        self.fd = -1

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def record_fix(state_dir, scenario, now, window, limit, operator, token, write=True):
    """Decide on the host's clock `now`; when allowed and `write`, append the fix (atomic replace, the last KEEP
    entries kept). Returns (allowed, the fixes within the window before this one, the entry written or None)."""
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    with Guard(state_dir):
        entries = read_log(state_dir)
        allowed, found = decide(entries, scenario, now, window, limit)
        if not (allowed and write):
            return allowed, found, None
        entry = new_entry(scenario, now, operator, token)
        path = log_path(state_dir)
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            for item in (entries + [entry])[-KEEP:]:
                f.write(json.dumps(item, sort_keys=True) + "\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
        return allowed, found, entry
