# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host-side items of runbook_diagnose's guide: Docker's disk usage, failed units, ufw,
the newest backup, the run lock, the last healthy release.

Each reader returns a dict with `error` ('' when read) and never raises; the ones
that run a command take a runbook_command.Commands.
"""

from __future__ import annotations

import os
import re

from ansible_collections.runbook.ops.plugins.module_utils.runbook_docker_output import parse_system_df
from ansible_collections.runbook.ops.plugins.module_utils.runbook_ledger import ledger_path, unreadable
from ansible_collections.runbook.ops.plugins.module_utils.runbook_run_lock import (
    LOCK, heartbeat_age, is_stale, read_owner)
from ansible_collections.runbook.ops.plugins.module_utils.runbook_systemd import parse_failed_units
from ansible_collections.runbook.ops.plugins.module_utils.runbook_times import epoch_of, iso


def read_docker_disk(engine_active, engine_service, commands):
    if not engine_active:
        return {"rows": [], "error": "the Docker engine (%s) is not active" % engine_service}
    rc, out, err = commands.run(["docker", "system", "df", "--format", "{{json .}}"], timeout=60)
    if rc != 0:
        return {"rows": [], "error": "docker system df: %s" % (err.strip() or "exited %d" % rc)}
    try:
        return {"rows": parse_system_df(out), "error": ""}
    except ValueError:
        return {"rows": [], "error": "docker system df printed no JSON"}


def read_failed_units(commands):
    rc, out, err = commands.run(["systemctl", "list-units", "--failed", "--all", "--plain", "--no-legend",
                                 "--no-pager"], timeout=30)
    if rc != 0:
        return {"units": [], "error": "systemctl list-units: %s" % (err.strip() or "exited %d" % rc)}
    return {"units": parse_failed_units(out), "error": ""}


def parse_ufw_status(text):
    """active, inactive, or '' from the first line of `ufw status`."""
    found = re.search(r"^Status:\s*(\w+)", text, re.MULTILINE)
    return found.group(1) if found else ""


def parse_ufw_added(text):
    """The user rules `ufw show added` lists (one `ufw ...` line each, whether ufw is active or not)."""
    return [line.strip() for line in text.splitlines() if line.startswith("ufw ")]


def read_ufw(commands):
    ufw = commands.which("ufw")
    if not ufw:
        return {"state": "", "rules": None, "error": "ufw is not installed"}
    rc, out, err = commands.run([ufw, "status"], timeout=30)
    state = parse_ufw_status(out) if rc == 0 else ""
    if not state:
        return {"state": "", "rules": None, "error": "ufw status: %s" % (err.strip() or out.strip() or "exited %d" % rc)}
    rc, out, err = commands.run([ufw, "show", "added"], timeout=30)
    rules = len(parse_ufw_added(out)) if rc == 0 else None
    return {"state": state, "rules": rules,
            "error": "" if rc == 0 else "ufw show added: %s" % (err.strip() or "exited %d" % rc)}


def read_backup(backup_dir, now):
    """The newest file under backup_dir (hidden files, like a dump still being written, left out) and its age."""
    try:
        os.listdir(backup_dir)
    except OSError as exc:
        return {"dir": backup_dir, "error": unreadable(exc, backup_dir, "no backup directory %s" % backup_dir)}
    newest, count, walk_errors = None, 0, []
    for folder, subfolders, files in os.walk(backup_dir, onerror=walk_errors.append):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in files:
            path = os.path.join(folder, name)
            if name.startswith(".") or not os.path.isfile(path):
                continue
            stat = os.stat(path)
            count += 1
            if newest is None or stat.st_mtime > newest[1].st_mtime:
                newest = (path, stat)
    if newest is None:
        why = "%s not readable" % backup_dir if walk_errors else "no backup in %s" % backup_dir
        return {"dir": backup_dir, "error": why}
    path, stat = newest
    return {"dir": backup_dir, "file": os.path.relpath(path, backup_dir), "size": stat.st_size,
            "time": iso(stat.st_mtime), "age": max(0, int(now - stat.st_mtime)), "files": count, "error": ""}


def read_lock(state_dir, stale_after, now):
    """The run lock as runbook_lock leaves it (module_utils/runbook_run_lock.py), on the host's clock.
    Stale as runbook_lock judges it: no heartbeat for stale_after seconds and no reboot mark holding it."""
    lock = os.path.join(state_dir, LOCK)
    try:
        os.stat(lock)
    except OSError as exc:
        return {"held": False, "error": unreadable(exc, lock, "")}
    holder = read_owner(lock) or {}
    age = max(0, int(heartbeat_age(lock, now)))
    started = str(holder.get("started") or "")
    return {"held": True, "owner": str(holder.get("owner") or ""), "scenario": str(holder.get("scenario") or ""),
            "started": started, "started_epoch": epoch_of(started), "heartbeat_age": age,
            "stale": is_stale(holder, age, stale_after), "error": ""}


def last_release(entries, state_dir, ledger_error, now):
    """The last healthy release of the ledger (runbook_ledger.read_ledger's answer) and its age."""
    if ledger_error:
        return {"error": ledger_error}
    if not entries:
        return {"error": "the release ledger %s holds no release" % ledger_path(state_dir)}
    entry = entries[-1]
    epoch = entry.get("epoch") if isinstance(entry.get("epoch"), int) else epoch_of(entry.get("time"))
    return {"commit": str(entry["commit"]), "time": str(entry.get("time") or ""), "scenario": str(entry.get("scenario") or ""),
            "age": None if epoch is None else max(0, int(now - epoch)), "error": ""}
