# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""runbook_disk's rules as pure functions: df's Use%, du's biggest directories, which backups
of a series go, where a log's tail starts, which volumes Docker may prune, the log caps."""

from __future__ import annotations

import math
import os
import re

DAY = 86400
PROJECT_LABEL = "com.docker.compose.project"
CHUNK = 1 << 20


def percent(used, avail):
    """df's Use%: used over (used + available to users), rounded up."""
    total = used + avail
    return int(math.ceil(used * 100.0 / total)) if total else 0


def parse_du(text, mount, top):
    """The `top` biggest directories of `du -k` output, the mount itself left out."""
    entries = []
    for line in text.splitlines():
        size, dummy, path = line.partition("\t")
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
