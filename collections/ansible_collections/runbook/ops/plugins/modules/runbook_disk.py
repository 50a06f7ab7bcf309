#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, runbook contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Disk space for the runbook's section 5, one round trip per step.

The rules are pure functions in module_utils/runbook_disk_rules.py; cutting and archiving
a log is module_utils/runbook_log_cut.py; this module reads the host and runs one action.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_disk
short_description: Probe disk usage, find prunable Docker volumes, truncate big logs, delete old backups
description:
  - C(action=probe) (read-only) returns the usage of the mounts that hold the given paths (df's numbers, from statvfs)
    and, for mounts at or above I(du_min_percent), the biggest directories on them (C(du -x), stopped after
    I(du_timeout) seconds; what du finished by then is still reported). In check mode I(pending) (files a cleanup
    would free) is subtracted per mount, so the verdict reads the usage the cleanup would leave.
  - C(action=volumes) (read-only) returns the volumes Docker could prune that the stack does not own (dangling volumes
    minus every named volume of the compose file and every volume labelled with the stack's compose project), and
    which services set a json log size cap.
  - C(action=logs) cuts the files matching I(globs) that are larger than I(threshold) bytes down to their last
    I(keep_bytes) (whole lines, same inode; never deleted). While a lockdown is recorded (I(lockdown_file) exists) or
    with I(archive=true) the last I(archive_bytes) of each such log are first written gzip-compressed under
    I(evidence_dir); when there is no room for that, the module stops before cutting that log, naming it.
  - C(action=backups) deletes, per series (one directory, names equal but for their digits), the backups older than the
    I(keep) newest valid ones and older than I(days); broken or unchecked backups are never deleted, they are named.
author: runbook maintainers (@runbook)
version_added: 1.0.0
options:
  action: {type: str, choices: [probe, volumes, logs, backups], default: probe, description: What to do.}
  paths: {type: list, elements: path, default: [], description: Paths whose mounts are probed (probe).}
  du_min_percent: {type: int, default: 0, description: Mounts at or above this usage get the biggest directories (probe).}
  du_depth: {type: int, default: 2, description: Directory depth du reports (probe).}
  du_timeout: {type: float, default: 20, description: Seconds du may run per mount (probe).}
  top: {type: int, default: 8, description: How many biggest directories per mount (probe).}
  pending:
    type: list
    elements: dict
    default: []
    description: 'Files (path, size or freed) a check-mode cleanup would free, subtracted from usage (probe).'
  compose_dir: {type: path, description: The app's compose directory (volumes).}
  globs: {type: list, elements: str, default: [], description: Log file globs (logs).}
  threshold: {type: int, default: 0, description: Log files larger than this many bytes are truncated (logs).}
  keep_bytes: {type: int, default: 0, description: The last bytes (whole lines) of a truncated log that stay (logs).}
  archive: {type: bool, default: false, description: Archive the tail of each log before cutting it (logs).}
  lockdown_file: {type: path, description: While this file exists the logs are archived whatever archive says (logs).}
  evidence_dir: {type: path, description: 'Where the archives go, one folder per run (logs).'}
  archive_bytes: {type: int, default: 268435456, description: The last bytes of a log that are archived (logs).}
  backup_dir: {type: path, description: The contract's backup_dir (backups).}
  patterns: {type: list, elements: str, default: [], description: File name globs of backups (backups).}
  days: {type: int, default: 7, description: Backups older than this many days are deleted (backups).}
  keep: {type: int, default: 2, description: Valid backups per series that always stay (backups).}
  recurse: {type: bool, default: false, description: Also search the subdirectories of backup_dir (backups).}
attributes:
  check_mode: {support: full, description: logs and backups report what they would free and change nothing.}
  diff_mode: {support: none, description: No diff is returned.}
  platform: {support: full, platforms: posix, description: A Linux host; Docker for action=volumes.}
"""

EXAMPLES = r"""
- name: Measure the mounts of the app and Docker
  runbook.ops.runbook_disk:
    action: probe
    paths: [/srv/app, /var/lib/docker]
    du_min_percent: 80

- name: Cut the big logs to their last 50 MB
  runbook.ops.runbook_disk:
    action: logs
    globs: [/var/log/nginx/*.log]
    threshold: 104857600
    keep_bytes: 52428800
    evidence_dir: /var/lib/runbook/evidence

- name: Delete old backups, keeping the two newest valid ones per series
  runbook.ops.runbook_disk:
    action: backups
    backup_dir: /root/backups
    patterns: ["*.dump", "*.sql.gz"]
"""

RETURN = r"""
mounts: {description: 'probe: per file system, mount, size, used, avail, percent, biggest, du_complete.', returned: probe,
         type: list, elements: dict}
used: {description: 'probe: bytes used over the mounts.', returned: probe, type: int}
prunable: {description: 'volumes: the dangling volumes the stack does not own (name, labels, mountpoint, bytes).',
           returned: volumes, type: list, elements: dict}
protected: {description: 'volumes: the volume names of the stack.', returned: volumes, type: list, elements: str}
log_caps: {description: 'volumes: per service, the logging driver and its max-size.', returned: volumes, type: list,
           elements: dict}
files: {description: 'logs: the cut logs (path, size, kept, freed, archive).', returned: logs, type: list, elements: dict}
evidence: {description: 'logs: why and where the tails were archived, and the archives.', returned: logs, type: dict}
freed: {description: 'logs, backups: bytes freed (or that would be, in check mode).', returned: 'logs, backups', type: int}
deleted: {description: 'backups: the deleted backups.', returned: backups, type: list, elements: dict}
broken: {description: 'backups: the broken or unchecked backups (never deleted).', returned: backups, type: list,
         elements: dict}
"""

import fnmatch
import glob
import json
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import Commands
from ansible_collections.runbook.ops.plugins.module_utils.runbook_disk_rules import (
    archive_path, log_caps, logs_over, mount_of, parse_du, percent, prunable_volumes, select_backups, stack_volumes,
    tail_start)
from ansible_collections.runbook.ops.plugins.module_utils.runbook_log_cut import (
    NoRoom, archive_tail, keep_tail, private_dir, read_at_fd, write_index)

COMMANDS = Commands()
TIMED_OUT = (124, 137)  # coreutils timeout: the command ran out of time (137: killed after the grace period)


# ---- host side ----

def usage(mount):
    st = os.statvfs(mount)
    total = st.f_blocks * st.f_frsize
    used = total - st.f_bfree * st.f_frsize
    avail = st.f_bavail * st.f_frsize
    return {"mount": mount, "size": total, "used": used, "avail": avail, "percent": percent(used, avail)}


def du(mount, depth, timeout, top):
    """Biggest directories on one mount; du is stopped after timeout seconds,
    what it printed by then (it prints each directory when done) is kept."""
    rc, out, dummy = COMMANDS.run(["du", "-x", "-k", "-d", str(depth), mount], timeout=timeout)
    if rc == 127 and not out:
        return [], False
    return parse_du(out, mount, top), rc not in TIMED_OUT


def probe(p):
    """Usage of each distinct file system holding one of the paths (a bind
    mount of one already seen is the same file system, listed once)."""
    mounts, devices = [], {}
    for path in p["paths"]:
        mount = mount_of(path)
        device = os.stat(mount).st_dev
        if device not in devices:
            devices[device] = usage(mount)
            mounts.append(devices[device])
    for f in p["pending"]:
        existing = f["path"] if os.path.exists(f["path"]) else mount_of(f["path"])
        m = devices.get(os.stat(existing).st_dev)
        if m is not None:
            freed = int(f.get("freed", f.get("size", 0)))  # a cut log frees what goes, a deleted backup its size
            m["used"] = max(m["used"] - freed, 0)
            m["avail"] += freed
            m["percent"] = percent(m["used"], m["avail"])
            m["projected"] = True
    for m in mounts:
        m["biggest"], m["du_complete"] = (du(m["mount"], p["du_depth"], p["du_timeout"], p["top"])
                                          if m["percent"] >= p["du_min_percent"] else ([], True))
    return {"mounts": mounts, "used": sum(m["used"] for m in mounts)}


def dir_bytes(path):
    rc, out, dummy = COMMANDS.run(["du", "-s", "-k", path], timeout=30)
    return int(out.split()[0]) * 1024 if rc == 0 and out.split() and out.split()[0].isdigit() else 0


def volumes(p):
    rc, out, err = COMMANDS.run(["docker", "compose", "config", "--format", "json"], cwd=p["compose_dir"], timeout=60)
    if rc != 0:
        return None, "docker compose config failed in %s: %s" % (p["compose_dir"], err.strip())
    config = json.loads(out)
    project, protected = stack_volumes(config)
    rc, out, err = COMMANDS.run(["docker", "volume", "ls", "-q", "--filter", "dangling=true"], timeout=60)
    if rc != 0:
        return None, "docker volume ls failed: %s" % err.strip()
    names = out.split()
    dangling = []
    if names:
        rc, out, err = COMMANDS.run(["docker", "volume", "inspect"] + names, timeout=60)
        if rc != 0:
            return None, "docker volume inspect failed: %s" % err.strip()
        dangling = [{"name": v["Name"], "labels": v.get("Labels") or {}, "mountpoint": v.get("Mountpoint", "")}
                    for v in json.loads(out)]
    prunable = prunable_volumes(dangling, protected, project)
    for v in prunable:
        v["bytes"] = dir_bytes(v["mountpoint"]) if v["mountpoint"] else 0
    return {"project": project, "protected": protected, "prunable": prunable,
            "kept": sorted(v["name"] for v in dangling if v not in prunable),
            "log_caps": log_caps(config)}, ""


def log_files(globs):
    """The regular files (not symlinks) the globs match, each once: path and size."""
    paths = sorted({path for pattern in globs for path in glob.glob(pattern)
                    if os.path.isfile(path) and not os.path.islink(path)})
    return [{"path": path, "size": os.path.getsize(path)} for path in paths]


def evidence_reason(p):
    """Why the logs are archived first ("" when they are not)."""
    if p.get("lockdown_file") and os.path.exists(p["lockdown_file"]):
        return "a lockdown is recorded (%s)" % p["lockdown_file"]
    if p.get("archive"):
        return "disk_keep_logs=true"
    return ""


def logs(p, check_mode):
    """Cut the logs over the threshold to their last keep_bytes, archiving their tail first when asked."""
    over = logs_over(log_files(p["globs"]), p["threshold"])
    reason = evidence_reason(p)
    folder = (os.path.join(p["evidence_dir"], time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-logs")
              if reason and over else "")
    result = {"changed": False, "files": [], "freed": 0, "evidence": {"reason": reason, "dir": folder, "archives": []}}
    for f in over:
        entry = dict(f, archive=archive_path(folder, f["path"]) if folder else "")
        if check_mode:
            with open(f["path"], "rb") as handle:
                entry["kept"] = f["size"] - tail_start(read_at_fd(handle.fileno()), f["size"], p["keep_bytes"])
        else:
            if folder:
                try:
                    private_dir(p["evidence_dir"])
                    private_dir(folder)
                    archived = archive_tail(f["path"], f["size"], p["archive_bytes"], entry["archive"])
                    write_index(folder, result["evidence"]["archives"] + [archived])
                except NoRoom as exc:
                    result["failed"] = True
                    result["changed"] = bool(result["files"])
                    result["msg"] = (
                        "Stopped before cutting %s: no room under %s for its evidence archive (%s), kept because %s. "
                        "That log and the ones after it are as they were; %d cut before it (archived first). "
                        "Make room there (or copy the log off the host), then run again."
                        % (f["path"], p["evidence_dir"], exc, reason, len(result["files"])))
                    return result
                result["evidence"]["archives"].append(archived)
            entry["kept"] = keep_tail(f["path"], p["keep_bytes"])
        entry["freed"] = max(f["size"] - entry["kept"], 0)
        result["freed"] += entry["freed"]
        result["files"].append(entry)
    result["changed"] = bool(over)
    return result


def check_backup(f):
    """(valid, why) of one backup file: (None, why) when it cannot be checked here."""
    if f["size"] == 0:
        return False, "empty"
    name = os.path.basename(f["path"])
    if name.endswith((".gz", ".tgz")):
        rc, dummy, err = COMMANDS.run(["gzip", "-t", f["path"]], timeout=900)
        return (True, "gzip -t passed") if rc == 0 else (False, "gzip -t: " + (err.strip().splitlines() or ["failed"])[-1])
    if name.endswith(".dump"):
        if not COMMANDS.which("pg_restore"):
            return None, "not checked: pg_restore is not installed"
        rc, dummy, err = COMMANDS.run(["pg_restore", "--list", f["path"]], timeout=900)
        return (True, "pg_restore --list passed") if rc == 0 else (
            False, "pg_restore --list: " + (err.strip().splitlines() or ["failed"])[-1])
    return True, "not empty"


def backup_files(backup_dir, patterns, recurse):
    """(files with path, mtime, size; subdirectories not searched) of the backups under backup_dir."""
    files, skipped = [], []
    if not os.path.isdir(backup_dir):
        return files, skipped
    for root, dirs, names in os.walk(backup_dir):
        if not recurse:
            skipped = sorted(os.path.join(root, d) for d in dirs)
            dirs[:] = []
        for name in sorted(names):
            path = os.path.join(root, name)
            if any(fnmatch.fnmatch(name, pattern) for pattern in patterns) and os.path.isfile(path) \
                    and not os.path.islink(path):
                st = os.stat(path)
                files.append({"path": path, "mtime": int(st.st_mtime), "size": st.st_size})
    return files, skipped


def backups(p, check_mode):
    files, skipped = backup_files(p["backup_dir"], p["patterns"], p["recurse"])
    series = select_backups(files, time.time(), p["days"], p["keep"], check_backup)
    deleted = [f for entry in series for f in entry["deleted"]]
    if not check_mode:
        for f in deleted:
            os.remove(f["path"])
    return {"changed": bool(deleted), "series": series, "deleted": deleted,
            "kept": [f for entry in series for f in entry["valid"] + entry["kept"]],
            "broken": [f for entry in series for f in entry["broken"]],
            "short": [entry["series"] for entry in series if len(entry["valid"]) < p["keep"]],
            "skipped_dirs": skipped, "freed": sum(f["size"] for f in deleted)}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type="str", choices=["probe", "volumes", "logs", "backups"], default="probe"),
            paths=dict(type="list", elements="path", default=[]),
            du_min_percent=dict(type="int", default=0),
            du_depth=dict(type="int", default=2),
            du_timeout=dict(type="float", default=20),
            top=dict(type="int", default=8),
            pending=dict(type="list", elements="dict", default=[]),
            compose_dir=dict(type="path"),
            globs=dict(type="list", elements="str", default=[]),
            threshold=dict(type="int", default=0),
            keep_bytes=dict(type="int", default=0),
            archive=dict(type="bool", default=False),
            lockdown_file=dict(type="path"),
            evidence_dir=dict(type="path"),
            archive_bytes=dict(type="int", default=268435456),
            backup_dir=dict(type="path"),
            patterns=dict(type="list", elements="str", default=[]),
            days=dict(type="int", default=7),
            keep=dict(type="int", default=2),
            recurse=dict(type="bool", default=False),
        ),
        required_if=[("action", "volumes", ("compose_dir",)), ("action", "backups", ("backup_dir",)),
                     ("action", "logs", ("evidence_dir",))],
        supports_check_mode=True,
    )
    COMMANDS.use(module)
    p = module.params
    if p["action"] == "probe":
        module.exit_json(changed=False, **probe(p))
    if p["action"] == "volumes":
        result, error = volumes(p)
        if error:
            module.fail_json(msg=error)
        module.exit_json(changed=False, **result)
    if p["action"] == "logs":
        result = logs(p, module.check_mode)
        if result.pop("failed", False):
            module.fail_json(**result)
        module.exit_json(**result)
    if p["keep"] < 1:
        module.fail_json(msg="keep must be 1 or more: the newest valid backup always stays")
    module.exit_json(**backups(p, module.check_mode))


if __name__ == "__main__":
    main()
