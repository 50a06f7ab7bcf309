# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Disk per mount (`df -P -k -T`) and memory (/proc/meminfo) as a person reads them: pure functions."""

from __future__ import annotations

import math


DF_ARGV = ["df", "-P", "-k", "-T"]
# File systems that hold no data a person frees space on.
PSEUDO_TYPES = frozenset({
    "tmpfs", "devtmpfs", "devfs", "proc", "sysfs", "cgroup", "cgroup2", "overlay", "aufs", "squashfs",
    "nsfs", "securityfs", "debugfs", "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs", "pstore",
    "bpf", "autofs", "binfmt_misc", "efivarfs", "ramfs", "shm", "devpts", "rpc_pipefs", "nfsd",
})
UNITS = ("K", "M", "G", "T", "P", "E")


def human_size(kib):
    """A size in KiB as `df -h` shows it (powers of 1024, rounded up): 264212084 -> 252G."""
    value, unit = float(kib), "K"
    for unit in UNITS:
        if value < 1024 or unit == "E":
            break
        value /= 1024
    if value < 10 and unit != "K":
        return "%.1f%s" % (math.ceil(value * 10) / 10, unit)
    return "%d%s" % (math.ceil(value), unit)


def parse_df(text):
    """Mounts of `df -P -k -T` that hold data: pseudo, container and in-memory file systems left out."""
    rows = []
    for line in text.splitlines()[1:]:
        fields = line.split(None, 6)
        if len(fields) < 7 or not fields[2].isdigit():
            continue
        source, fstype, size, used, avail, capacity, mount = fields
        if fstype in PSEUDO_TYPES and not (fstype == "overlay" and mount == "/"):
            continue
        rows.append({"mount": mount, "size": human_size(int(size)), "used": human_size(int(used)),
                     "avail": human_size(int(avail)), "use_pct": int(capacity.rstrip("%") or 0),
                     "filesystem": source, "type": fstype})
    return rows


def parse_meminfo(text):
    """Memory in MB as `free -m` computes it (used = total - available)."""
    kib = {}
    for line in text.splitlines():
        name, dummy, rest = line.partition(":")
        value = rest.split()
        if value and value[0].isdigit():
            kib[name] = int(value[0])
    total = kib.get("MemTotal", 0)
    available = kib.get("MemAvailable", kib.get("MemFree", 0) + kib.get("Buffers", 0) + kib.get("Cached", 0))
    return {"total_mb": total // 1024, "used_mb": (total - available) // 1024, "available_mb": available // 1024,
            "swap_total_mb": kib.get("SwapTotal", 0) // 1024,
            "swap_used_mb": (kib.get("SwapTotal", 0) - kib.get("SwapFree", 0)) // 1024}
