# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The resources_relief role's summary as lines a person reads."""

from __future__ import annotations

DOCUMENTATION = r"""
name: resources_relief_lines
short_description: The resources sample as lines a person reads
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - Turns what P(runbook.ops.runbook_resources#module) sampled into lines, one per container (average CPU%
    with each sample's CPU, memory% and memory), marked C(OVER) with why when over a limit, then the top
    processes by CPU and by memory.
options:
  _input:
    description: The registered result of P(runbook.ops.runbook_resources#module).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show the containers' and processes' CPU and memory
  ansible.builtin.debug:
    msg: "{{ resources_relief_sample | runbook.ops.resources_relief_lines }}"
"""

RETURN = r"""
_value:
  description: A heading, one line per container, then one line of the top processes by CPU and one by memory.
  type: list
  elements: str
"""

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
