#!/usr/bin/python
# -*- coding: utf-8 -*-
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
short_description: Read daemon.json, the json log caps it should have and the running engine's state
options:
  config: {type: path, default: /etc/docker/daemon.json, description: The engine's configuration file.}
  max_size: {type: str, required: true, description: log-opts max-size (e.g. 10m).}
  max_file: {type: int, required: true, description: log-opts max-file.}
  pidfile: {type: path, default: /var/run/docker.pid, description: The engine's pid file.}
  margin: {type: float, default: 2, description: Seconds of clock slack between the file's mtime and the engine's start.}
"""

RETURN = r"""
problem: {description: Why daemon.json cannot be read (empty when it can); nothing is to be written then, type: str}
driver: {description: The engine's default log driver as daemon.json sets it (json-file when unset), type: str}
applies: {description: The caps apply to that driver (json-file or local), type: bool}
left_alone: {description: What the caps leave alone and why (empty when they apply), type: str}
other_drivers: {description: Running containers on a driver the caps do not cover (name and driver), type: list}
current: {description: daemon.json as it is ({} when missing), type: dict}
merged: {description: daemon.json as it should be, type: dict}
write: {description: True when merged differs from current, type: bool}
exists: {description: daemon.json exists, type: bool}
mode: {description: daemon.json's mode (octal string), 0644 when missing, type: str}
stale: {description: The caps apply and the running engine started before daemon.json last changed, type: bool}
engine_pid: {description: The engine's pid (0 when not found), type: int}
live_restore: {description: The running engine has live-restore on, type: bool}
swarm: {description: The node's swarm state (inactive, active, ...), type: str}
validate_supported: {description: dockerd has --validate, type: bool}
uncapped: {description: Running containers without a json log max-size, type: list}
"""

import json
import os
import subprocess

from ansible.module_utils.basic import AnsibleModule


def run(argv, timeout=30):
    """(rc, stdout, stderr) of a command; arguments are passed as a list, never through a shell."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


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

    rc, out, _ = run(["docker", "info", "--format", "{{json .}}"])
    info = json.loads(out) if rc == 0 and out.strip() else {}
    rc, out, _ = run(["dockerd", "--help"])
    validate_supported = rc == 0 and "--validate" in out
    rc, out, _ = run(["docker", "ps", "-q"])
    ids = out.split() if rc == 0 else []
    inspected = []
    if ids:
        rc, out, _ = run(["docker", "inspect"] + ids)
        inspected = json.loads(out) if rc == 0 else []

    module.exit_json(
        changed=False,
        problem=problem,
        driver="" if problem else driver,
        applies=applies,
        left_alone="" if problem else left_alone(driver),
        other_drivers=other_drivers(inspected),
        current=current,
        merged=merged,
        write=applies and merged != current,
        exists=exists,
        mode=mode,
        stale=applies and is_stale(started, mtime, p["margin"]),
        engine_pid=pid,
        live_restore=bool(info.get("LiveRestoreEnabled")),
        swarm=str((info.get("Swarm") or {}).get("LocalNodeState") or "inactive"),
        validate_supported=validate_supported,
        uncapped=uncapped(inspected),
    )


if __name__ == "__main__":
    main()
