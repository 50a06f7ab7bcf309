# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filters of the disk_cleanup role: `docker system df` as four numbers, and
the probe's mounts as lines a person reads.

community.docker.docker_host_info with disk_usage and verbose_output returns
the engine's /system/df answer; people need its summary (bytes per kind).
"""

from __future__ import annotations

from typing import Any

UNITS = ("B", "K", "M", "G", "T")


def human(size: int) -> str:
    """df -h style: 1023B, 4.0K, 61M, 1.2G."""
    value = float(size)
    for unit in UNITS:
        if abs(value) < 1024 or unit == UNITS[-1]:
            return "%d%s" % (value, unit) if unit == "B" or value >= 10 else "%.1f%s" % (value, unit)
        value /= 1024
    return "%dB" % size


def _sizes(items: list[dict[str, Any]] | None, key: str) -> int:
    return sum(max(int(item.get(key) or 0), 0) for item in items or [])


def disk_cleanup_df(df: dict[str, Any]) -> dict[str, int]:
    """Bytes used by images (layers), containers (writable layers), volumes and the build cache."""
    summary = {
        "images": int(df.get("LayersSize") or 0),
        "containers": _sizes(df.get("Containers"), "SizeRw"),
        "volumes": _sizes([volume.get("UsageData") or {} for volume in df.get("Volumes") or []], "Size"),
        "build_cache": _sizes(df.get("BuildCache"), "Size"),
    }
    summary["total"] = sum(summary.values())
    return summary


def disk_cleanup_df_compare(before: dict[str, int], after: dict[str, int]) -> str:
    """docker system df before -> after, per kind."""
    kinds = ("images", "containers", "volumes", "build_cache")
    parts = ["%s %s -> %s" % (kind.replace("_", " "), human(before[kind]), human(after[kind])) for kind in kinds]
    return "docker system df: %s -> %s (%s)" % (human(before["total"]), human(after["total"]), ", ".join(parts))


def disk_cleanup_line(mount: dict[str, Any]) -> str:
    """One mount: usage, free space and its biggest directories when probed."""
    line = "%s: %d%% used (%s of %s, %s free)" % (
        mount["mount"], mount["percent"], human(mount["used"]), human(mount["used"] + mount["avail"]), human(mount["avail"]))
    if mount.get("biggest"):
        line += "; biggest: " + ", ".join("%s %s" % (entry["path"], human(entry["bytes"])) for entry in mount["biggest"])
        if not mount.get("du_complete", True):
            line += " (du stopped at its time limit)"
    return line


def disk_cleanup_lines(mounts: list[dict[str, Any]]) -> list[str]:
    return [disk_cleanup_line(mount) for mount in mounts]


def disk_cleanup_summary(mounts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The mounts without their directory lists, for set_stats."""
    return [{key: mount[key] for key in ("mount", "percent", "used", "avail")} for mount in mounts]


def disk_cleanup_log_line(entry: dict[str, Any]) -> str:
    """One cut log: its size, what stays, and where its tail was archived."""
    line = "%s: %s, the last %s kept" % (entry["path"], human(entry["size"]), human(entry["kept"]))
    return line + ("; archived to " + entry["archive"] if entry.get("archive") else "")


def _names(files: list[dict[str, Any]]) -> str:
    return ", ".join(file["path"].rsplit("/", 1)[-1] for file in files) or "none"


def disk_cleanup_series_line(series: dict[str, Any], keep: int) -> str:
    """One series of backups: the valid ones kept, and what happened to the others."""
    valid = series["valid"]
    line = "%s: %d valid kept (%s)" % (series["series"], len(valid), _names(valid))
    if len(valid) < keep:
        return line + "; fewer than %d valid, so nothing of this series is deleted" % keep
    return line + "; %d within the retention kept, %d deleted" % (len(series["kept"]), len(series["deleted"]))


def disk_cleanup_broken_line(file: dict[str, Any]) -> str:
    return "%s (%s)" % (file["path"], file["why"])


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"disk_cleanup_df": disk_cleanup_df, "disk_cleanup_lines": disk_cleanup_lines,
                "disk_cleanup_line": disk_cleanup_line, "disk_cleanup_summary": disk_cleanup_summary,
                "disk_cleanup_human": human,
                "disk_cleanup_df_compare": disk_cleanup_df_compare,
                "disk_cleanup_log_line": disk_cleanup_log_line,
                "disk_cleanup_series_line": disk_cleanup_series_line,
                "disk_cleanup_broken_line": disk_cleanup_broken_line}
