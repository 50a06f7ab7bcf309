# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host's release ledger, <state_dir>/releases.jsonl: one reader and one writer for every module.

One JSON object a line, oldest first: commit (the full SHA of a release that passed
the health gate), time, epoch, scenario, source and, after a rollback,
rolled_back_from. runbook_release (action=record) writes it; runbook_release's
probe and runbook_diagnose read it. The rule both readers share: an entry counts
only when it is a JSON object whose commit is a full commit SHA (40 hex digits, or
64 in a SHA-256 repository), which is what action=record writes; anything else (a
torn or hand-edited line) is skipped.
"""

from __future__ import annotations

import json
import os
import re
import time

from ansible_collections.runbook.ops.plugins.module_utils.runbook_times import iso

LEDGER = "releases.jsonl"
FULL_SHA = re.compile(r"^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")
# The runbook's own writes of the app's .env (payments switch, secret rotation): one JSON
# object a line (path, sha256 of the file as written, scenario, time), written by
# runbook_common's env_written.yml; the diagnosis tells them from changes nobody explains.
ENV_WRITES = "env-writes.jsonl"
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def ledger_path(state_dir):
    return os.path.join(state_dir, LEDGER)


def is_full_sha(text):
    return bool(FULL_SHA.match(str(text or "")))


def json_objects(lines, keep):
    """The JSON objects of a JSON-lines file's lines for which keep(entry) is true, in order; a torn or
    foreign line is skipped (the ledger and triage's fix log are both read so)."""
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and keep(entry):
            entries.append(entry)
    return entries


def parse_ledger(lines):
    """The entries of the ledger's lines that are objects naming a full commit SHA, in order."""
    return json_objects(lines, lambda entry: is_full_sha(entry.get("commit")))


def unreadable(exc, path, missing):
    """Why a path could not be read: `missing` when it is not there, else the system's reason."""
    if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        return missing
    return "%s: %s (as uid %d)" % (path, exc.strerror or exc, os.getuid())


def read_ledger(state_dir):
    """(why it was not read or '', entries oldest first) of the release ledger."""
    path = ledger_path(state_dir)
    try:
        with open(path, encoding="utf-8") as f:
            return "", parse_ledger(f)
    except OSError as exc:
        return unreadable(exc, path, "no release ledger at %s" % path), []


def ledger_entries(state_dir):
    """The ledger's entries; none when it cannot be read."""
    return read_ledger(state_dir)[1]


def last_env_write(state_dir, path):
    """The runbook's last recorded write of the file at path (an object with its sha256), or None.
    Paths are compared resolved (a symlinked app directory names the same file)."""
    real = os.path.realpath(path)
    try:
        with open(os.path.join(state_dir, ENV_WRITES), encoding="utf-8") as f:
            writes = json_objects(f, lambda entry: (SHA256.match(str(entry.get("sha256")))
                                                    and os.path.realpath(str(entry.get("path"))) == real))
    except OSError:
        return None
    return writes[-1] if writes else None


def new_entry(commit, scenario, source, now, rolled_back_from=""):
    entry = {"commit": commit, "time": iso(int(now)), "epoch": int(now), "scenario": scenario, "source": source}
    if rolled_back_from:
        entry["rolled_back_from"] = rolled_back_from
    return entry


def append_ledger(state_dir, commit, scenario, source, keep, rolled_back_from=""):
    """Append one release (host clock); keep the last `keep` entries. Atomic replace."""
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    entry = new_entry(commit, scenario, source, time.time(), rolled_back_from)
    entries = (ledger_entries(state_dir) + [entry])[-keep:]
    path = ledger_path(state_dir)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        for item in entries:
            f.write(json.dumps(item, sort_keys=True) + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return entry


def record_release(state_dir, commit, scenario, source, keep, rolled_back_from="", is_ancestor=None):
    """Append a release that passed the health gate, unless it is the ledger's last already.

    rolled_back_from is kept only for a real step back in history: when
    is_ancestor(commit, rolled_back_from) says so (moving "back" to a newer
    commit by SHA is a roll forward). The entry written, or None."""
    entries = ledger_entries(state_dir)
    if entries and entries[-1]["commit"] == commit:
        return None
    left = rolled_back_from
    if left and is_ancestor is not None and not is_ancestor(commit, left):
        left = ""
    return append_ledger(state_dir, commit, scenario, source, keep, left)


def last_good(entries, current):
    """The last healthy release in the ledger that is not the one that runs, nor one
    that a later rollback moved away from (two rollbacks never roll forward again)."""
    excluded = {current}
    for entry in reversed(entries):
        if entry["commit"] not in excluded:
            return entry["commit"]
        if entry.get("rolled_back_from"):
            excluded.add(entry["rolled_back_from"])
    return ""
