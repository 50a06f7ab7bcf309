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

action=logs: the files matching the globs that are larger than threshold
bytes are cut down to their last keep_bytes (whole lines, same inode: open
handles keep writing; never deleted). While a lockdown is recorded
(lockdown_file exists) or with archive=true, the last archive_bytes of each
such log are first written gzip-compressed (and fsynced) under evidence_dir;
when there is no room for that, the module stops before cutting that log,
naming it.

action=backups: per series (one directory, names equal but for their digits),
the `keep` newest valid backups always stay (valid: not empty, `gzip -t`
passes for .gz, `pg_restore --list` for .dump); backups older than those and
older than `days` are deleted. A series with fewer valid backups loses
nothing. Broken or unchecked backups are never deleted: they are named.
Subdirectories of backup_dir are searched only with recurse=true.

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
  pending: {type: list, elements: dict, default: [], description: Files (path, size or freed) a check-mode cleanup would free, subtracted from usage (probe).}
  compose_dir: {type: path, description: The app's compose directory (volumes).}
  globs: {type: list, elements: str, default: [], description: Log file globs (logs).}
  threshold: {type: int, default: 0, description: Log files larger than this many bytes are truncated (logs).}
  keep_bytes: {type: int, default: 0, description: The last bytes (whole lines) of a truncated log that stay (logs).}
  archive: {type: bool, default: false, description: Archive the tail of each log before cutting it (logs).}
  lockdown_file: {type: path, description: While this file exists the logs are archived whatever archive says (logs).}
  evidence_dir: {type: path, description: Where the archives go, one folder per run (logs).}
  archive_bytes: {type: int, default: 268435456, description: The last bytes of a log that are archived (logs).}
  backup_dir: {type: path, description: The contract's backup_dir (backups).}
  patterns: {type: list, elements: str, default: [], description: File name globs of backups (backups).}
  days: {type: int, default: 7, description: Backups older than this many days are deleted (backups).}
  keep: {type: int, default: 2, description: Valid backups per series that always stay (backups).}
  recurse: {type: bool, default: false, description: Also search the subdirectories of backup_dir (backups).}
"""

import errno
import fnmatch
import glob
import gzip
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import run

DAY = 86400
PROJECT_LABEL = "com.docker.compose.project"
CHUNK = 1 << 20
# Errors that mean "no room for the evidence archive".
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


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


def series_of(path):
    """A backup's series: its directory and its name with every run of digits (dates, times, numbers) as `*`."""
    directory, name = os.path.split(path)
    return os.path.join(directory, re.sub(r"[0-9]+", "*", name))


def select_backups(files, now, days, keep, check):
    """What to do with backups given as dicts with path, mtime, size, per series.

    Newest first, each backup is checked (check(file) -> (True, why) valid,
    (False, why) broken, (None, why) could not be checked) until `keep` valid
    ones are found: those stay, and so does every backup newer than the last of
    them (a broken one is named, never deleted). The backups older than that
    are deleted when older than `days`, else kept. A series with fewer than
    `keep` valid backups loses nothing. Returns one dict per series, sorted by
    series: series, valid (kept), kept (within the retention), broken (with
    why), deleted."""
    by_series = {}
    for f in files:
        by_series.setdefault(series_of(f["path"]), []).append(f)
    limit = now - days * DAY
    result = []
    for series in sorted(by_series):
        ordered = sorted(by_series[series], key=lambda f: (f["mtime"], f["path"]), reverse=True)
        entry = {"series": series, "valid": [], "kept": [], "broken": [], "deleted": []}
        for f in ordered:
            if len(entry["valid"]) < keep:
                ok, why = check(f)
                if ok:
                    entry["valid"].append(dict(f, why=why))
                else:
                    entry["broken"].append(dict(f, why=why, checked=ok is not None))
            elif f["mtime"] < limit:
                entry["deleted"].append(f)
            else:
                entry["kept"].append(f)
        result.append(entry)
    return result


def tail_start(read_at, size, keep):
    """Where the last `keep` bytes of a file of `size` bytes start, moved on to
    the start of the next whole line (0 when the whole file fits; when no line
    starts in those bytes, where they start). read_at(offset, n) reads bytes."""
    if size <= keep:
        return 0
    start = size - keep
    if read_at(start - 1, 1) == b"\n":
        return start
    pos = start
    while pos < size:
        chunk = read_at(pos, min(CHUNK, size - pos))
        if not chunk:
            break
        found = chunk.find(b"\n")
        if found >= 0:
            return pos + found + 1
        pos += len(chunk)
    return start


def archive_path(evidence_dir, log_path):
    """Where the archive of a log goes: its own path under the run's evidence folder, .gz added."""
    return os.path.join(evidence_dir, log_path.lstrip("/") + ".gz")


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


class NoRoom(Exception):
    """The evidence archive of a log did not fit."""


def read_at_fd(fd):
    return lambda offset, n: os.pread(fd, n, offset)


def keep_tail(path, keep):
    """Cut a log down to its last `keep` bytes (whole lines), in place: the
    same inode, so a process that has it open (O_APPEND) keeps writing to it.
    What was appended while the tail moved is moved too; what is written in
    the instant between the last check and the truncation is lost (as with
    logrotate's copytruncate). Returns the size left."""
    fd = os.open(path, os.O_RDWR)
    try:
        size = os.fstat(fd).st_size
        src = tail_start(read_at_fd(fd), size, keep)
        if src == 0:
            return size
        dst = 0
        while True:
            end = os.fstat(fd).st_size
            while src < end:
                chunk = os.pread(fd, min(CHUNK, end - src), src)
                if not chunk:
                    break
                os.pwrite(fd, chunk, dst)
                src += len(chunk)
                dst += len(chunk)
            if os.fstat(fd).st_size <= end:
                break
        os.ftruncate(fd, dst)
        return dst
    finally:
        os.close(fd)


def private_dir(path):
    """A directory only root reads (0700 whatever the umask), made when missing."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)
    except OSError as exc:
        if exc.errno in NO_ROOM:
            raise NoRoom(str(exc)) from exc
        raise


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def archive_tail(path, size, archive_bytes, dest):
    """Write the last `archive_bytes` (whole lines) of a log, as it is up to
    `size`, gzip-compressed to dest (0600, fsynced). Raises NoRoom when the file
    system is full (nothing is left behind). Returns what was archived."""
    partial = dest + ".partial"
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        fd_in = source.fileno()
        start = tail_start(read_at_fd(fd_in), size, archive_bytes)
        try:
            os.makedirs(os.path.dirname(dest), mode=0o700, exist_ok=True)
            out = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(out, "wb") as raw:
                with gzip.GzipFile(filename=os.path.basename(path), mode="wb", fileobj=raw, compresslevel=6) as packed:
                    pos = start
                    while pos < size:
                        chunk = os.pread(fd_in, min(CHUNK, size - pos), pos)
                        if not chunk:
                            break
                        packed.write(chunk)
                        digest.update(chunk)
                        pos += len(chunk)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, dest)
            fsync_dir(os.path.dirname(dest))
        except OSError as exc:
            try:
                os.remove(partial)
            except OSError:
                pass
            if exc.errno in NO_ROOM:
                raise NoRoom(str(exc)) from exc
            raise
    stat = os.stat(path)
    return {"log": path, "inode": stat.st_ino, "size": size, "from": start, "bytes": pos - start,
            "sha256": digest.hexdigest(), "archive": dest, "compressed": os.path.getsize(dest)}


def write_index(folder, entries):
    """index.json of the evidence folder: which log, which bytes, their sha256, the archive."""
    path = os.path.join(folder, "index.json")
    try:
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as f:
            json.dump(entries, f, indent=2)
            f.write("\n")
    except OSError as exc:
        if exc.errno in NO_ROOM:
            raise NoRoom(str(exc)) from exc
        raise


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
        rc, _, err = run(["gzip", "-t", f["path"]], timeout=900)
        return (True, "gzip -t passed") if rc == 0 else (False, "gzip -t: " + (err.strip().splitlines() or ["failed"])[-1])
    if name.endswith(".dump"):
        if not shutil.which("pg_restore"):
            return None, "not checked: pg_restore is not installed"
        rc, _, err = run(["pg_restore", "--list", f["path"]], timeout=900)
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
