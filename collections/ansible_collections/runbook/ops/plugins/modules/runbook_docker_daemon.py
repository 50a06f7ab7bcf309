#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Docker engine's json log caps, read in one round trip (read-only).

Reads daemon.json and merges into it what the runbook's "limit log size" asks
(log-opts max-size and max-file, log-driver json-file when none is set) plus
live-restore, so the engine can restart without stopping the containers;
every other key is kept as it is. Caps apply only to the json-file and local
drivers: a log driver someone chose (journald, syslog, ...) is left alone,
and so is the file (`left_alone` says why). A daemon.json that is not a JSON
object is never touched either: `problem` names it. Reports whether the file must be written, whether the running
engine started before the file last changed (so it still runs an older
configuration), whether live-restore is active now, whether this Docker can
validate a file (`dockerd --validate`), whether the node is in a swarm
(live-restore does not work there) and which running containers have no json
log cap (the engine's defaults apply only to containers created later).
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_docker_daemon
short_description: Read daemon.json, the json log caps it should have, and the running engine's state
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - Reads the Docker engine's C(daemon.json) and merges into it what the runbook's "limit log size" step asks,
    log-opts C(max-size) and C(max-file), C(log-driver) C(json-file) when none is set, and C(live-restore) so
    the engine can restart without stopping the containers. Every other key is kept as it is.
  - The caps apply only to the C(json-file) and C(local) drivers. A log driver someone chose (journald, syslog...)
    is left alone, and so is the file; RV(left_alone) says why.
  - A C(daemon.json) that is not a JSON object is never touched either. RV(problem) names it and the module warns.
  - Also reports whether the running engine started before the file last changed (so it still runs an older
    configuration), whether live-restore is active now, whether this Docker can validate a file
    (C(dockerd --validate)), the node's swarm state (live-restore does not work in a swarm) and which
    running containers have no log cap (the engine's defaults apply only to containers created later).
  - The module only reads; the role writes the file from RV(merged). It never reports a change.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.ops.read_only
attributes:
  platform:
    platforms: linux
    details: Reads the engine's start time from C(/proc).
options:
  config:
    description: The engine's configuration file.
    type: path
    default: /etc/docker/daemon.json
  max_size:
    description: The log-opts C(max-size) to set, such as C(10m).
    type: str
    required: true
  max_file:
    description: The log-opts C(max-file) to set.
    type: int
    required: true
  pidfile:
    description: The engine's pid file.
    type: path
    default: /var/run/docker.pid
  margin:
    description: Seconds of clock slack between the file's modification time and the engine's start.
    type: float
    default: 2
"""

EXAMPLES = r"""
- name: Read daemon.json, the log caps it should have and the engine's state
  runbook.ops.runbook_docker_daemon:
    config: /etc/docker/daemon.json
    max_size: 10m
    max_file: 3
  register: docker_log_limits_probe
  check_mode: false

- name: Refuse an unparsable daemon.json, nothing changed
  ansible.builtin.fail:
    msg: "{{ docker_log_limits_probe.problem }}"
  when: docker_log_limits_probe.problem | length > 0
"""

RETURN = r"""
problem:
  description: Why C(daemon.json) cannot be used (empty when it can); nothing is to be written then.
  returned: always
  type: str
  sample: ""
driver:
  description: The engine's default log driver as C(daemon.json) sets it (C(json-file) when unset; empty with RV(problem)).
  returned: always
  type: str
  sample: json-file
applies:
  description: The caps apply to that driver (C(json-file) or C(local)).
  returned: always
  type: bool
  sample: true
left_alone:
  description: What the caps leave alone and why (empty when they apply).
  returned: always
  type: str
  sample: ""
other_drivers:
  description: Running containers on a driver the caps do not cover, as C(name (driver)).
  returned: always
  type: list
  elements: str
  sample: ["syslog-relay (syslog)"]
current:
  description: C(daemon.json) as it is (empty when missing or unparsable).
  returned: always
  type: dict
  sample: {"log-driver": "json-file"}
merged:
  description: C(daemon.json) as it should be.
  returned: always
  type: dict
  sample: {"log-driver": "json-file", "log-opts": {"max-size": "10m", "max-file": "3"}, "live-restore": true}
write:
  description: True when RV(merged) differs from RV(current).
  returned: always
  type: bool
  sample: true
exists:
  description: C(daemon.json) exists.
  returned: always
  type: bool
  sample: true
mode:
  description: The mode of C(daemon.json) in octal, C(0644) when it is missing.
  returned: always
  type: str
  sample: "0644"
stale:
  description: The caps apply and the running engine started before C(daemon.json) last changed.
  returned: always
  type: bool
  sample: false
engine_pid:
  description: The engine's pid (0 when it does not run).
  returned: always
  type: int
  sample: 734
live_restore:
  description: The running engine has live-restore on.
  returned: always
  type: bool
  sample: false
swarm:
  description: The node's swarm state (C(inactive), C(active)...).
  returned: always
  type: str
  sample: inactive
validate_supported:
  description: C(dockerd) has C(--validate).
  returned: always
  type: bool
  sample: true
uncapped:
  description: Running containers on C(json-file) or C(local) without a C(max-size).
  returned: always
  type: list
  elements: str
  sample: [app-api-1]
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import bounded

COMMAND_TIMEOUT = 30

CAPPED_DRIVERS = ("json-file", "local")


def driver_of(config):
    """The engine's default log driver as daemon.json sets it; the engine's own default is json-file."""
    return str(config.get("log-driver") or "json-file")


def merge(current, max_size, max_file):
    """daemon.json with the log caps and live-restore; every other key kept, other log-opts too.
    A driver the caps do not cover (journald, syslog, ...) leaves the file as it is."""
    driver = driver_of(current)
    if driver not in CAPPED_DRIVERS:
        return dict(current)
    merged = dict(current)
    opts = dict(current.get("log-opts") or {})
    opts.update({"max-size": max_size, "max-file": str(max_file)})
    merged.update({"log-driver": driver, "log-opts": opts, "live-restore": True})
    return merged


def left_alone(driver):
    """Why the caps leave a driver alone ("" when they apply to it)."""
    if driver in CAPPED_DRIVERS:
        return ""
    return ("log-driver %s left alone: someone chose it in daemon.json, and max-size/max-file apply only to "
            "json-file or local; its own limits govern its size (journald: SystemMaxUse in journald.conf)" % driver)


def parse_config(text):
    """daemon.json's object; an empty file is {}. Raises ValueError on anything else."""
    if not text.strip():
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("daemon.json is not a JSON object")
    return data


def process_start(stat_text, btime, ticks):
    """A process's start time (epoch seconds) from /proc/PID/stat, /proc/stat's btime and clock ticks."""
    fields = stat_text.rsplit(")", 1)[1].split()
    # After the ")" of the command, field 3 (state) is index 0; field 22 (starttime) is index 19.
    return btime + int(fields[19]) / ticks


def boot_time(proc_stat_text):
    for line in proc_stat_text.splitlines():
        if line.startswith("btime "):
            return int(line.split()[1])
    raise ValueError("no btime in /proc/stat")


def is_stale(engine_started, config_mtime, margin):
    """The engine runs an older configuration: the file changed after it started (beyond the clock slack)."""
    if engine_started is None or config_mtime is None:
        return False
    return config_mtime > engine_started + margin


def other_drivers(inspected):
    """"name (driver)" of containers (docker inspect output) on a driver the caps do not cover."""
    found = []
    for item in inspected:
        kind = ((item.get("HostConfig") or {}).get("LogConfig") or {}).get("Type") or ""
        if kind and kind not in CAPPED_DRIVERS:
            found.append("%s (%s)" % (item.get("Name", "").lstrip("/"), kind))
    return sorted(found)


def uncapped(inspected):
    """Names of containers (docker inspect output) whose log driver is json-file or local without max-size."""
    names = []
    for item in inspected:
        log = (item.get("HostConfig") or {}).get("LogConfig") or {}
        if log.get("Type") in ("json-file", "local") and not (log.get("Config") or {}).get("max-size"):
            names.append(item.get("Name", "").lstrip("/"))
    return sorted(names)


def read_text(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def engine_started(pidfile):
    """(pid, start epoch) of the engine from its pid file; (0, None) when it does not run."""
    try:
        pid = int(read_text(pidfile).strip())
        if read_text("/proc/%d/comm" % pid).strip() != "dockerd":
            return 0, None
        started = process_start(read_text("/proc/%d/stat" % pid), boot_time(read_text("/proc/stat")),
                                os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0, None
    return pid, started


def run(module, binary, args):
    """(rc, stdout) of a docker or dockerd command; (127, "") when the host does not have the program."""
    path = module.get_bin_path(binary)
    if not path:
        return 127, ""
    rc, out, dummy = module.run_command(bounded(module, [path] + args, COMMAND_TIMEOUT))
    return rc, out


def engine_state(module):
    """What the running engine says: docker info, whether dockerd has --validate, its containers inspected."""
    rc, out = run(module, "docker", ["info", "--format", "{{json .}}"])
    info = json.loads(out) if rc == 0 and out.strip() else {}
    rc, out = run(module, "dockerd", ["--help"])
    validate_supported = rc == 0 and "--validate" in out
    rc, out = run(module, "docker", ["ps", "-q"])
    ids = out.split() if rc == 0 else []
    inspected = []
    if ids:
        rc, out = run(module, "docker", ["inspect"] + ids)
        inspected = json.loads(out) if rc == 0 else []
    return {"info": info, "validate_supported": validate_supported, "inspected": inspected}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            config=dict(type="path", default="/etc/docker/daemon.json"),
            max_size=dict(type="str", required=True),
            max_file=dict(type="int", required=True),
            pidfile=dict(type="path", default="/var/run/docker.pid"),
            margin=dict(type="float", default=2),
        ),
        supports_check_mode=True,
    )
    p = module.params
    exists = os.path.exists(p["config"])
    problem = ""
    try:
        current = parse_config(read_text(p["config"])) if exists else {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        current = {}
        problem = ("%s is not a JSON object (%s): the engine will refuse to start with it. Fix it by hand; "
                   "it was left as it is." % (p["config"], exc))
        module.warn(problem)
    driver = driver_of(current)
    applies = not problem and driver in CAPPED_DRIVERS
    merged = merge(current, p["max_size"], p["max_file"]) if applies else current
    mode = "%04o" % (os.stat(p["config"]).st_mode & 0o7777) if exists else "0644"
    mtime = os.stat(p["config"]).st_mtime if exists else None
    pid, started = engine_started(p["pidfile"])

    engine = engine_state(module)
    module.exit_json(
        changed=False,
        problem=problem,
        driver="" if problem else driver,
        applies=applies,
        left_alone="" if problem else left_alone(driver),
        other_drivers=other_drivers(engine["inspected"]),
        current=current,
        merged=merged,
        write=applies and merged != current,
        exists=exists,
        mode=mode,
        stale=applies and is_stale(started, mtime, p["margin"]),
        engine_pid=pid,
        live_restore=bool(engine["info"].get("LiveRestoreEnabled")),
        swarm=str((engine["info"].get("Swarm") or {}).get("LocalNodeState") or "inactive"),
        validate_supported=engine["validate_supported"],
        uncapped=uncapped(engine["inspected"]),
    )


if __name__ == "__main__":
    main()
