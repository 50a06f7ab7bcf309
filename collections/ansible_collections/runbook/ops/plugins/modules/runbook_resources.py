#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
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
short_description: Sample CPU and memory of the stack's containers, and the host's top processes
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - Reads, in one round trip, the CPU and memory of the stack's containers and of the host's processes
    (the runbook's diagnosis of a host under load).
  - Takes O(samples) readings of C(docker stats --no-stream), each of which measures CPU between two
    readings of the containers' counters, and averages CPU% and memory% per container, so one instant
    never decides a restart. Maps each container to its compose service (C(docker compose ps)).
  - Reads the top O(top) processes by CPU and by memory (one C(ps) call), and returns the services over
    O(max_cpu) or O(max_memory).
  - The module only reads, and never reports a change.
requirements:
  - The C(docker) CLI with the compose plugin, and C(ps), on the host.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.ops.read_only
attributes:
  check_mode:
    details: The module only reads; it samples the same way in check mode.
  platform:
    platforms: linux
options:
  compose_dir:
    description: The directory of the app's compose file.
    type: path
    required: true
  samples:
    description: How many C(docker stats) readings are averaged (at least one is taken).
    type: int
    default: 3
  max_cpu:
    description: A service whose average CPU% (100 is one core) is above this is over its limit.
    type: float
    default: 80
  max_memory:
    description: A service whose average memory% of its memory limit is above this is over its limit.
    type: float
    default: 80
  top:
    description: How many processes to name by CPU and by memory.
    type: int
    default: 5
"""

EXAMPLES = r"""
- name: Sample CPU and memory of the stack's containers and the top processes
  runbook.ops.runbook_resources:
    compose_dir: /srv/app
    samples: 3
    max_cpu: 80
    max_memory: 80
    top: 5
  register: resources_relief_sample
  check_mode: false

- name: Show the sample as lines a person reads
  ansible.builtin.debug:
    msg: "{{ resources_relief_sample | runbook.ops.resources_relief_lines }}"
"""

RETURN = r"""
containers:
  description: Per container of the stack, sorted by service, the averages of the readings.
  returned: success
  type: list
  elements: dict
  contains:
    service:
      description: The compose service.
      type: str
      returned: always
    id:
      description: The container's short id.
      type: str
      returned: always
    name:
      description: The container's name.
      type: str
      returned: always
    cpu:
      description: The average CPU% (100 is one core); a reading without the container counts as 0.
      type: float
      returned: always
    memory:
      description: The average memory% of the container's limit.
      type: float
      returned: always
    memory_bytes:
      description: The average memory use in bytes.
      type: int
      returned: always
    samples:
      description: The CPU% of each reading.
      type: list
      elements: float
      returned: always
  sample: [{"service": "api", "id": "0123456789ab", "name": "app-api-1", "cpu": 92.3, "memory": 41.0,
            "memory_bytes": 440401920, "samples": [90.1, 95.2, 91.6]}]
over:
  description: The containers over a limit, as in RV(containers) with C(why), such as C(CPU 92.3% > 80%).
  returned: success
  type: list
  elements: dict
  sample: [{"service": "api", "cpu": 92.3, "why": "CPU 92.3% > 80%"}]
top_cpu:
  description: The host's top processes by CPU (the same keys as runbook_diagnose's processes).
  returned: success
  type: list
  elements: dict
  sample: [{"pid": 2211, "user": "app", "cpu": 91.0, "mem": 4.1, "rss_kb": 430080, "command": "node server.js"}]
  contains:
    pid:
      description: The process id.
      type: int
      returned: always
    user:
      description: The process's user.
      type: str
      returned: always
    cpu:
      description: The process's CPU% (C(ps) C(pcpu)).
      type: float
      returned: always
    mem:
      description: The process's memory% (C(ps) C(pmem)).
      type: float
      returned: always
    rss_kb:
      description: The process's resident memory in KiB.
      type: int
      returned: always
    command:
      description: The process's arguments on one line, cut to 80 characters.
      type: str
      returned: always
top_mem:
  description: The host's top processes by memory%, in the same shape as RV(top_cpu).
  returned: success
  type: list
  elements: dict
  sample: [{"pid": 2211, "user": "app", "cpu": 91.0, "mem": 4.1, "rss_kb": 430080, "command": "node server.js"}]
samples:
  description: How many C(docker stats) readings were taken.
  returned: success
  type: int
  sample: 3
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import bounded
from ansible_collections.runbook.ops.plugins.module_utils.runbook_processes import PS_ARGV, parse_ps, top

COMMAND_TIMEOUT = 60
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
                                   "memory_bytes": to_bytes(str(row.get("MemUsage", "0B")).split("/", maxsplit=1)[0])}
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

def run(module, argv, cwd=None):
    """(rc, stdout, stderr) of a command, ended after COMMAND_TIMEOUT seconds when the host has coreutils' timeout."""
    return module.run_command(bounded(module, argv, COMMAND_TIMEOUT), cwd=cwd, ignore_invalid_cwd=False)


def sample(module):
    p = module.params
    docker = module.get_bin_path("docker", required=True)
    rc, out, err = run(module, [docker, "compose", "ps", "--format", "json"], cwd=p["compose_dir"])
    if rc != 0:
        return None, "docker compose ps failed in %s: %s" % (p["compose_dir"], err.strip())
    services = parse_services(out) if out.strip() else {}
    readings = []
    for dummy in range(max(p["samples"], 1)):
        rc, out, err = run(module, [docker, "stats", "--no-stream", "--format", "json"])
        if rc != 0:
            return None, "docker stats failed: %s" % err.strip()
        readings.append(parse_stats(out))
    containers = average(readings, services)
    ps = module.get_bin_path("ps")
    rc, out, dummy = run(module, [ps] + PS_ARGV[1:]) if ps else (1, "", "")
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
    result, error = sample(module)
    if error:
        module.fail_json(msg=error)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
