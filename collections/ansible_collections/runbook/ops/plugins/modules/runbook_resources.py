#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""CPU and memory of the host and of the stack's containers, in one round trip
(runbook section 6's diagnosis), read-only.

Samples `docker stats --no-stream` `samples` times (each call itself measures
CPU between two readings of the container's counters) and averages CPU% and
memory% per container, so one instant never decides a restart. Maps each
container to its compose service (`docker compose ps`), and reads the top
processes by CPU and by memory (`ps`, module_utils/runbook_processes.py: the same
keys as runbook_diagnose's). Returns the services over the limits.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_resources
short_description: Sample CPU and memory of the stack's containers and the top processes
options:
  compose_dir: {type: path, required: true, description: The app's compose directory.}
  samples: {type: int, default: 3, description: How many docker stats readings are averaged.}
  max_cpu: {type: float, default: 80, description: A service whose average CPU% (100 = one core) is above this is over.}
  max_memory: {type: float, default: 80, description: A service whose average memory% of its limit is above this is over.}
  top: {type: int, default: 5, description: How many processes by CPU and by memory.}
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import run
from ansible_collections.runbook.ops.plugins.module_utils.runbook_processes import PS_ARGV, parse_ps, top

UNITS = {"B": 1, "KIB": 1024, "MIB": 1024 ** 2, "GIB": 1024 ** 3, "TIB": 1024 ** 4,
         "KB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3, "TB": 1000 ** 4}


# ---- pure functions (tests/test_resources_module.py) ----

def to_float(text):
    """'12.5%' -> 12.5; '--' or '' -> 0.0."""
    try:
        return float(str(text).strip().rstrip("%"))
    except ValueError:
        return 0.0


def to_bytes(text):
    """'10.26MiB' -> bytes."""
    text = str(text).strip()
    number = text.rstrip("BbKkMmGgTtIi")
    unit = text[len(number):].upper() or "B"
    return int(to_float(number) * UNITS.get(unit, 1))


def parse_stats(text):
    """One `docker stats --format json` reading: {short id: {cpu, memory, memory_bytes, name}}."""
    reading = {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        row = json.loads(line)
        reading[row["ID"][:12]] = {"name": row.get("Name", ""), "cpu": to_float(row.get("CPUPerc")),
                                   "memory": to_float(row.get("MemPerc")),
                                   "memory_bytes": to_bytes(str(row.get("MemUsage", "0B")).split("/")[0])}
    return reading


def parse_services(text):
    """`docker compose ps --format json` (lines or one array): {short id: service}."""
    text = text.strip()
    rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line.strip()]
    return {row["ID"][:12]: row["Service"] for row in rows}


def average(readings, services):
    """Per service, the mean of each reading's CPU% and memory% (a container
    missing from a reading counts as 0 there)."""
    containers = []
    for cid, service in sorted(services.items(), key=lambda item: item[1]):
        seen = [reading.get(cid) for reading in readings]
        present = [s for s in seen if s]
        if not present:
            continue
        count = len(readings)
        containers.append({
            "service": service, "id": cid, "name": present[-1]["name"],
            "cpu": round(sum(s["cpu"] for s in present) / count, 1),
            "memory": round(sum(s["memory"] for s in present) / count, 1),
            "memory_bytes": int(sum(s["memory_bytes"] for s in present) / count),
            "samples": [s["cpu"] if s else 0.0 for s in seen],
        })
    return containers


def over(containers, max_cpu, max_memory):
    """The containers over a limit, each with why."""
    found = []
    for c in containers:
        why = []
        if c["cpu"] > max_cpu:
            why.append("CPU %.1f%% > %g%%" % (c["cpu"], max_cpu))
        if c["memory"] > max_memory:
            why.append("memory %.1f%% > %g%%" % (c["memory"], max_memory))
        if why:
            found.append(dict(c, why=", ".join(why)))
    return found


# ---- host side ----

def sample(p):
    rc, out, err = run(["docker", "compose", "ps", "--format", "json"], cwd=p["compose_dir"])
    if rc != 0:
        return None, "docker compose ps failed in %s: %s" % (p["compose_dir"], err.strip())
    services = parse_services(out) if out.strip() else {}
    readings = []
    for _ in range(max(p["samples"], 1)):
        rc, out, err = run(["docker", "stats", "--no-stream", "--format", "json"])
        if rc != 0:
            return None, "docker stats failed: %s" % err.strip()
        readings.append(parse_stats(out))
    containers = average(readings, services)
    rc, out, _ = run(PS_ARGV)
    processes = parse_ps(out) if rc == 0 else []
    return {"containers": containers, "over": over(containers, p["max_cpu"], p["max_memory"]),
            "top_cpu": top(processes, "cpu", p["top"]),
            "top_mem": top(processes, "mem", p["top"]),
            "samples": len(readings)}, ""


def main():
    module = AnsibleModule(
        argument_spec=dict(
            compose_dir=dict(type="path", required=True),
            samples=dict(type="int", default=3),
            max_cpu=dict(type="float", default=80),
            max_memory=dict(type="float", default=80),
            top=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    result, error = sample(module.params)
    if error:
        module.fail_json(msg=error)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
