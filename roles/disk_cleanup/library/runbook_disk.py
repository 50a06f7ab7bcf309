#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Disk space for the runbook's section 5, one round trip per step.

action=probe (read-only): usage of the mounts that hold the given paths
(df's numbers, from statvfs) and, for mounts at or above du_min_percent, the
biggest directories on them (`du -x`, stopped after du_timeout seconds: what
du finished by then is still reported). In check mode, `pending` (files a
cleanup would free: path and size) is subtracted per mount, so the verdict
reads the usage the cleanup would leave.

action=volumes (read-only): the volumes Docker could prune that the stack does
not own: dangling volumes minus every named volume of the compose file (used
by a service or not, running or stopped) and every volume labelled with the
stack's compose project. Also which services set a json log size cap.

action=logs: truncates (never deletes: open handles keep writing) the files
matching the globs that are larger than threshold bytes.

action=backups: deletes the files under backup_dir matching the patterns whose
mtime is older than `days`, always keeping the newest one whatever its age.

Check mode: logs and backups report what they would free and change nothing.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_disk
short_description: Probe disk usage, find prunable Docker volumes, truncate big logs, delete old backups
options:
  action: {type: str, choices: [probe, volumes, logs, backups], default: probe, description: What to do.}
  paths: {type: list, elements: path, default: [], description: Paths whose mounts are probed (probe).}
  du_min_percent: {type: int, default: 0, description: Mounts at or above this usage get the biggest directories (probe).}
  du_depth: {type: int, default: 2, description: Directory depth du reports (probe).}
  du_timeout: {type: float, default: 20, description: Seconds du may run per mount (probe).}
  top: {type: int, default: 8, description: How many biggest directories per mount (probe).}
  pending: {type: list, elements: dict, default: [], description: Files (path, size) a check-mode cleanup would free, subtracted from usage (probe).}
  compose_dir: {type: path, description: The app's compose directory (volumes).}
  globs: {type: list, elements: str, default: [], description: Log file globs (logs).}
  threshold: {type: int, default: 0, description: Log files larger than this many bytes are truncated (logs).}
  backup_dir: {type: path, description: The contract's backup_dir (backups).}
  patterns: {type: list, elements: str, default: [], description: File name globs of backups (backups).}
  days: {type: int, default: 7, description: Backups older than this many days are deleted (backups).}
"""

import fnmatch
import glob
import json
import math
import os
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.runbook_command import run

DAY = 86400
PROJECT_LABEL = "com.docker.compose.project"


# ---- pure functions (tests/test_disk_module.py) ----

def percent(used, avail):
    """df's Use%: used over (used + available to users), rounded up."""
    total = used + avail
    return int(math.ceil(used * 100.0 / total)) if total else 0


def parse_du(text, mount, top):
    """The `top` biggest directories of `du -k` output, the mount itself left out."""
    entries = []
    for line in text.splitlines():
        size, _, path = line.partition("\t")
        if path and size.isdigit() and path != mount:
            entries.append({"path": path, "bytes": int(size) * 1024})
    entries.sort(key=lambda e: (-e["bytes"], e["path"]))
    return entries[:top]


def select_backups(files, now, days):
    """(delete, keep) of backups given as dicts with path, mtime, size: older than
    `days` goes, except the newest file, which is always kept."""
    if not files:
        return [], []
    ordered = sorted(files, key=lambda f: (f["mtime"], f["path"]))
    limit = now - days * DAY
    delete = [f for f in ordered[:-1] if f["mtime"] < limit]
    keep = [f for f in ordered if f not in delete]
    return delete, keep


def logs_over(files, threshold):
    """The log files (path, size) larger than threshold bytes."""
    return [f for f in files if f["size"] > threshold]


def stack_volumes(config):
    """(project, names) of the compose config: every named volume the stack
    defines or a service mounts, by its engine name."""
    project = config.get("name", "")
    defined = config.get("volumes") or {}
    names = set()
    for key, spec in defined.items():
        names.add((spec or {}).get("name") or "%s_%s" % (project, key))
    for service in (config.get("services") or {}).values():
        for mount in service.get("volumes") or []:
            if isinstance(mount, dict) and mount.get("type") == "volume" and mount.get("source"):
                source = mount["source"]
                spec = defined.get(source)
                names.add((spec or {}).get("name") or ("%s_%s" % (project, source) if spec is not None else source))
    return project, sorted(names)


def prunable_volumes(dangling, protected, project):
    """Dangling volumes (name, labels) neither named by the stack nor labelled with its project."""
    return [v for v in dangling
            if v["name"] not in protected and not (project and (v.get("labels") or {}).get(PROJECT_LABEL) == project)]


def log_caps(config):
    """Per service: the logging driver and its max-size (empty when not capped)."""
    caps = []
    for name, service in sorted((config.get("services") or {}).items()):
        logging = service.get("logging") or {}
        options = logging.get("options") or {}
        caps.append({"service": name, "driver": logging.get("driver", "json-file (engine default)"),
                     "max_size": str(options.get("max-size", ""))})
    return caps


def mount_of(path):
    """The mount point holding path (the nearest existing ancestor's)."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    while not os.path.ismount(path):
        path = os.path.dirname(path)
    return path


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
    argv = ["du", "-x", "-k", "-d", str(depth), mount]
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return [], False
    try:
        out, _ = proc.communicate(timeout=timeout)
        complete = True
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        complete = False
    return parse_du(out, mount, top), complete


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
            m["used"] = max(m["used"] - int(f.get("size", 0)), 0)
            m["avail"] += int(f.get("size", 0))
            m["percent"] = percent(m["used"], m["avail"])
            m["projected"] = True
    for m in mounts:
        m["biggest"], m["du_complete"] = (du(m["mount"], p["du_depth"], p["du_timeout"], p["top"])
                                          if m["percent"] >= p["du_min_percent"] else ([], True))
    return {"mounts": mounts, "used": sum(m["used"] for m in mounts)}


def dir_bytes(path):
    rc, out, _ = run(["du", "-s", "-k", path], timeout=30)
    return int(out.split()[0]) * 1024 if rc == 0 and out.split() and out.split()[0].isdigit() else 0


def volumes(p):
    rc, out, err = run(["docker", "compose", "config", "--format", "json"], cwd=p["compose_dir"])
    if rc != 0:
        return None, "docker compose config failed in %s: %s" % (p["compose_dir"], err.strip())
    config = json.loads(out)
    project, protected = stack_volumes(config)
    rc, out, err = run(["docker", "volume", "ls", "-q", "--filter", "dangling=true"])
    if rc != 0:
        return None, "docker volume ls failed: %s" % err.strip()
    names = out.split()
    dangling = []
    if names:
        rc, out, err = run(["docker", "volume", "inspect", *names])
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


def logs(p, check_mode):
    files = []
    for pattern in p["globs"]:
        for path in sorted(glob.glob(pattern)):
            if os.path.isfile(path) and not os.path.islink(path):
                files.append({"path": path, "size": os.path.getsize(path)})
    over = logs_over(files, p["threshold"])
    if not check_mode:
        for f in over:
            os.truncate(f["path"], 0)
    return {"changed": bool(over), "files": over, "freed": sum(f["size"] for f in over)}


def backups(p, check_mode):
    files = []
    if os.path.isdir(p["backup_dir"]):
        for root, _, names in os.walk(p["backup_dir"]):
            for name in names:
                path = os.path.join(root, name)
                if any(fnmatch.fnmatch(name, pattern) for pattern in p["patterns"]) and os.path.isfile(path) \
                        and not os.path.islink(path):
                    st = os.stat(path)
                    files.append({"path": path, "mtime": int(st.st_mtime), "size": st.st_size})
    delete, keep = select_backups(files, time.time(), p["days"])
    if not check_mode:
        for f in delete:
            os.remove(f["path"])
    return {"changed": bool(delete), "deleted": delete, "kept": keep, "freed": sum(f["size"] for f in delete),
            "newest": keep[-1]["path"] if keep else ""}


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
            backup_dir=dict(type="path"),
            patterns=dict(type="list", elements="str", default=[]),
            days=dict(type="int", default=7),
        ),
        required_if=[("action", "volumes", ("compose_dir",)), ("action", "backups", ("backup_dir",))],
        supports_check_mode=True,
    )
    p = module.params
    if p["action"] == "probe":
        module.exit_json(changed=False, **probe(p))
    if p["action"] == "volumes":
        result, error = volumes(p)
        if error:
            module.fail_json(msg=error)
        module.exit_json(changed=False, **result)
    if p["action"] == "logs":
        module.exit_json(**logs(p, module.check_mode))
    module.exit_json(**backups(p, module.check_mode))


if __name__ == "__main__":
    main()
