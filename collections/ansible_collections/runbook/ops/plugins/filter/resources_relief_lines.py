# SPDX-License-Identifier: GPL-3.0-or-later
"""The resources_relief role's summary as lines a person reads."""

from __future__ import annotations

from typing import Any


def _mib(size: int) -> str:
    return "%.0fMiB" % (size / 1048576.0)


def resources_relief_lines(sample: dict[str, Any]) -> list[str]:
    """Containers (average CPU%, memory%, per-sample CPU), then the top processes."""
    lines = ["containers (average of %d samples):" % sample.get("samples", 0)]
    over = {c["service"]: c["why"] for c in sample.get("over", [])}
    for c in sample.get("containers", []):
        line = "  %s: CPU %.1f%% (samples %s), memory %.1f%% (%s)" % (
            c["service"], c["cpu"], ", ".join("%.0f" % s for s in c["samples"]), c["memory"], _mib(c["memory_bytes"]))
        if c["service"] in over:
            line += " - OVER: " + over[c["service"]]
        lines.append(line)
    lines.append("top CPU: " + ", ".join("%s(%d) %.1f%%" % (p["command"], p["pid"], p["cpu"]) for p in sample.get("top_cpu", [])))
    lines.append("top memory: " + ", ".join("%s(%d) %s" % (p["command"], p["pid"], _mib(p["rss_kb"] * 1024))
                                            for p in sample.get("top_mem", [])))
    return lines


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"resources_relief_lines": resources_relief_lines}
