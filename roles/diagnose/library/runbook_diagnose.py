#!/usr/bin/python
# -*- coding: utf-8 -*-
"""The runbook's quick diagnostics, read in one round trip and returned as data.

Reads, changing nothing:
  - systemd units (the Docker engine, the proxy, any other): state, since
    when, restarts (`systemctl show`, one call);
  - the compose project's containers: state, since when, restarts, health
    (`docker compose ps` for the ids, one `docker inspect` for all of them);
    skipped when the engine's unit is not active, because a docker command
    would start a socket-activated engine;
  - disk per mount (`df -P -k -T`, pseudo and container filesystems left out);
  - memory (/proc/meminfo, as `free` computes it);
  - the top processes by CPU and by memory, from one `ps` call;
  - the last error lines of some compose services (`docker logs`) and of the
    proxy's error log, ANSI escape sequences stripped (raw: the caller
    redacts, and must register this result with no_log);
  - the last releases of the runbook's ledger (<state_dir>/releases.jsonl).
Commands run with an argument list, never through a shell. A part that cannot
be read is reported in `notes`; the module itself does not fail on it.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_diagnose
short_description: Read services, containers, disk, memory, top processes and error lines of a host
options:
  compose_dir: {type: path, required: true, description: The directory of the app's compose file.}
  engine_service: {type: str, default: docker, description: systemd unit of the Docker engine.}
  services: {type: list, elements: str, default: [], description: Further systemd units to report (the proxy, ...).}
  log_services: {type: list, elements: str, default: [api], description: Compose services whose error lines are read.}
  proxy_name: {type: str, default: nginx, description: Name under which the proxy's error lines are returned.}
  proxy_error_log: {type: path, default: /var/log/nginx/error.log, description: The proxy's error log.}
  log_lines: {type: int, default: 500, description: Lines read from the end of each log.}
  error_pattern: {type: str, description: Regular expression (case-insensitive) of an error line.}
  error_lines: {type: int, default: 20, description: Error lines kept per log (the last ones).}
  top: {type: int, default: 5, description: Processes listed by CPU and by memory.}
  state_dir: {type: path, default: /var/lib/runbook, description: Where the release ledger releases.jsonl is.}
  releases: {type: int, default: 5, description: Ledger entries returned (the last ones).}
"""

import json
import math
import os
import re
import subprocess
import time
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

ERROR_PATTERN = r"error|fatal|exception|panic|crit|traceback|\[(alert|emerg)\]"
# File systems that hold no data a person frees space on.
PSEUDO_TYPES = frozenset({
    "tmpfs", "devtmpfs", "devfs", "proc", "sysfs", "cgroup", "cgroup2", "overlay", "aufs", "squashfs",
    "nsfs", "securityfs", "debugfs", "tracefs", "configfs", "fusectl", "mqueue", "hugetlbfs", "pstore",
    "bpf", "autofs", "binfmt_misc", "efivarfs", "ramfs", "shm", "devpts", "rpc_pipefs", "nfsd",
})
UNIT_PROPERTIES = ("Id", "LoadState", "ActiveState", "SubState", "NRestarts", "StateChangeTimestamp",
                   "ActiveEnterTimestamp", "InactiveEnterTimestamp", "InactiveExitTimestamp", "ActiveExitTimestamp")
# Real escape sequences (CSI and OSC) and their printed forms: \x1b[2K, \u001b[31m, \033[0m, \e[1m.
ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]"
    r"|\\(?:x1[bB]|u001[bB]|033|e)\[[0-?]*[ -/]*[@-~]"
)
# The RFC 3339 time `docker logs --timestamps` puts in front of each line.
DOCKER_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d) ")
COMMAND_WIDTH = 80


def run(argv, cwd=None, timeout=30):
    """(rc, stdout, stderr) of a command; arguments are passed as a list, never through a shell."""
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, "", str(exc)
    return proc.returncode, proc.stdout, proc.stderr


def strip_ansi(text):
    return ANSI.sub("", text)


def iso(epoch):
    """An epoch as 2026-11-29T12:04:36Z, or '' for none."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def docker_epoch(text):
    """Seconds since the epoch of a Docker time (2026-11-29T12:04:47.318342316Z); None for Docker's zero time."""
    found = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$", text or "")
    if not found or found.group(1).startswith("0001-"):
        return None
    zone = "+00:00" if found.group(2) == "Z" else found.group(2)
    return datetime.fromisoformat(found.group(1) + zone).timestamp()


def human_size(kib):
    """A size in KiB as `df -h` shows it (powers of 1024, rounded up): 264212084 -> 252G."""
    value, unit = float(kib), "K"
    for unit in ("K", "M", "G", "T", "P", "E"):
        if value < 1024 or unit == "E":
            break
        value /= 1024
    if value < 10 and unit != "K":
        return "%.1f%s" % (math.ceil(value * 10) / 10, unit)
    return "%d%s" % (math.ceil(value), unit)


def parse_systemctl_show(text, names):
    """The units of `systemctl show -p ... --timestamp=unix NAME...`, in the order of names."""
    blocks = [block for block in text.strip().split("\n\n") if block.strip()]
    units = []
    for name, block in zip(names, blocks):
        props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        active = props.get("ActiveState", "unknown")
        # The time `systemctl status` shows after "since".
        since_property = {"active": "ActiveEnterTimestamp", "reloading": "ActiveEnterTimestamp",
                          "inactive": "InactiveEnterTimestamp", "failed": "InactiveEnterTimestamp",
                          "activating": "InactiveExitTimestamp", "deactivating": "ActiveExitTimestamp"}
        stamp = props.get(since_property.get(active, ""), "") or props.get("StateChangeTimestamp", "")
        since = int(stamp[1:]) if stamp.startswith("@") and stamp[1:].isdigit() else None
        restarts = props.get("NRestarts", "")
        state = "not-found" if props.get("LoadState") == "not-found" else active
        units.append({"name": name, "state": state, "sub_state": props.get("SubState", ""),
                      "since": iso(since), "since_epoch": since,
                      "restarts": int(restarts) if restarts.isdigit() else None})
    return units


def parse_compose_ps(text):
    """Containers of `docker compose ps --all --format json`: one JSON object a line (compose >= 2.21) or one array."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        items = json.loads(text)
    else:
        items = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [{"id": item.get("ID", ""), "name": item.get("Name", ""), "service": item.get("Service", "")}
            for item in items]


def parse_inspect(text):
    """Container rows of `docker inspect ID...`: name, state, since, restarts, health, exit code, service."""
    rows = []
    for item in json.loads(text or "[]"):
        state = item.get("State") or {}
        status = state.get("Status", "unknown")
        if status in ("running", "paused", "restarting"):
            since = docker_epoch(state.get("StartedAt"))
        else:
            since = docker_epoch(state.get("FinishedAt")) or docker_epoch(item.get("Created"))
        labels = (item.get("Config") or {}).get("Labels") or {}
        rows.append({
            "name": item.get("Name", "").lstrip("/"),
            "service": labels.get("com.docker.compose.service", ""),
            "id": item.get("Id", ""),
            "state": status,
            "exit_code": state.get("ExitCode"),
            "since": iso(since),
            "since_epoch": since,
            "restarts": item.get("RestartCount", 0),
            "health": (state.get("Health") or {}).get("Status") or "none",
        })
    return sorted(rows, key=lambda row: row["name"])


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
        name, _, rest = line.partition(":")
        value = rest.split()
        if value and value[0].isdigit():
            kib[name] = int(value[0])
    total = kib.get("MemTotal", 0)
    available = kib.get("MemAvailable", kib.get("MemFree", 0) + kib.get("Buffers", 0) + kib.get("Cached", 0))
    return {"total_mb": total // 1024, "used_mb": (total - available) // 1024, "available_mb": available // 1024,
            "swap_total_mb": kib.get("SwapTotal", 0) // 1024,
            "swap_used_mb": (kib.get("SwapTotal", 0) - kib.get("SwapFree", 0)) // 1024}


def parse_ps(text, skip=()):
    """Processes of `ps -eo pid=,user:32=,pcpu=,pmem=,rss=,args=`, without the pids in skip."""
    processes = []
    for line in text.splitlines():
        fields = line.split(None, 5)
        if len(fields) < 5 or not fields[0].isdigit() or int(fields[0]) in skip:
            continue
        command = " ".join(fields[5].split()) if len(fields) == 6 else ""  # one line, single blanks
        if len(command) > COMMAND_WIDTH:
            command = command[:COMMAND_WIDTH - 3] + "..."
        processes.append({"pid": int(fields[0]), "user": fields[1], "cpu": float(fields[2]),
                          "mem": float(fields[3]), "rss_kb": int(fields[4]), "command": command})
    return processes


def top(processes, key, count):
    """The count processes highest in key (cpu or mem); ties go to the larger resident memory, then the lower pid."""
    return sorted(processes, key=lambda process: (-process[key], -process["rss_kb"], process["pid"]))[:count]


def clean_log_line(line):
    """A log line without ANSI sequences, Docker's time cut to the second (2026-11-29T12:05:39Z)."""
    line = strip_ansi(line).rstrip()
    found = DOCKER_TIME.match(line)
    if found:
        zone = "Z" if found.group(2) in ("Z", "+00:00") else found.group(2)
        line = found.group(1) + zone + " " + line[found.end():]
    return line


def log_time(line):
    """Sort key of a `docker logs --timestamps` line: its time, the fraction padded (Docker trims its zeros)."""
    found = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d) ", line)
    if not found:
        return ("", "")
    return (found.group(1), (found.group(2) or "").ljust(9, "0"))


def error_lines(lines, pattern, keep):
    """The last keep lines that match pattern (case-insensitive), cleaned, oldest first."""
    matcher = re.compile(pattern, re.IGNORECASE)
    found = [clean_log_line(line) for line in lines]
    found = [line for line in found if line and matcher.search(line)]
    return found[-keep:] if keep > 0 else []


def tail_file(path, count, block=65536):
    """The last count lines of a file, read from its end."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = position = f.tell()
        data = b""
        while position > 0 and data.count(b"\n") <= count:
            position = max(0, position - block)
            f.seek(position)
            data = f.read(end - position)
    return data.decode("utf-8", "replace").splitlines()[-count:]


def read_units(names, notes):
    argv = ["systemctl", "show", "--timestamp=unix", "-p", ",".join(UNIT_PROPERTIES), "--", *names]
    rc, out, err = run(argv)
    if rc != 0:
        notes.append("systemd units not read: %s" % (err.strip() or "systemctl exited %d" % rc))
        return []
    return parse_systemctl_show(out, names)


def read_containers(compose_dir, notes):
    rc, out, err = run(["docker", "compose", "ps", "--all", "--format", "json"], cwd=compose_dir)
    if rc != 0:
        notes.append("containers not read (docker compose ps in %s): %s" % (compose_dir, err.strip()))
        return []
    ids = [container["id"] for container in parse_compose_ps(out)]
    if not ids:
        return []
    rc, out, err = run(["docker", "inspect", "--type", "container", "--", *ids])
    if rc != 0:
        notes.append("containers not inspected: %s" % err.strip())
        return []
    return parse_inspect(out)


def read_container_errors(container_id, lines, pattern, keep):
    # docker logs writes the container's stdout and stderr to its own; read both.
    rc, out, err = run(["docker", "logs", "--timestamps", "--tail", str(lines), container_id])
    if rc != 0:
        return None, err.strip()
    merged = sorted(out.splitlines() + err.splitlines(), key=log_time)
    return error_lines(merged, pattern, keep), ""


def read_processes(notes):
    """Every process from one `ps` call, without this module and that ps."""
    try:
        ps = subprocess.Popen(["ps", "-eo", "pid=,user:32=,pcpu=,pmem=,rss=,args="], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, errors="replace")
        out, err = ps.communicate(timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        notes.append("processes not read: %s" % exc)
        return []
    if ps.returncode != 0:
        notes.append("processes not read: %s" % err.strip())
    return parse_ps(out, skip={os.getpid(), ps.pid})


def read_ledger(state_dir, count):
    entries = []
    try:
        with open(os.path.join(state_dir, "releases.jsonl"), encoding="utf-8") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and entry.get("commit"):
                    entries.append(entry)
    except OSError:
        pass
    return entries[-count:] if count > 0 else []


def diagnose(p):
    notes = []
    names = [p["engine_service"]] + [name for name in p["services"] if name != p["engine_service"]]
    services = read_units(names, notes)
    engine_active = any(unit["name"] == p["engine_service"] and unit["state"] == "active" for unit in services)
    containers = []
    if engine_active:
        containers = read_containers(p["compose_dir"], notes)
    else:
        notes.append("Docker engine (%s) not active: containers and their logs not read" % p["engine_service"])

    rc, out, err = run(["df", "-P", "-k", "-T"])
    # df exits 1 when one mount cannot be read (a stale network mount) but still lists the others.
    disk = [row for row in parse_df(out) if os.path.isdir(row["mount"])]
    if rc != 0:
        notes.append("df: %s" % err.strip())

    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            memory = parse_meminfo(f.read())
    except OSError as exc:
        memory = parse_meminfo("")
        notes.append("memory not read: %s" % exc)

    processes = read_processes(notes)

    log_errors, log_sources, log_unread = {}, {}, {}
    for service in p["log_services"]:
        log_errors[service] = []
        matching = [row for row in containers if row["service"] == service]
        if not matching:
            log_unread[service] = "no container of the service" if engine_active else "the Docker engine is not active"
            continue
        latest = max(matching, key=lambda row: row["since_epoch"] or 0)
        found, error = read_container_errors(latest["id"], p["log_lines"], p["error_pattern"], p["error_lines"])
        if found is None:
            log_unread[service] = "docker logs %s: %s" % (latest["name"], error)
        else:
            log_errors[service] = found
            log_sources[service] = "last %d log lines of %s" % (p["log_lines"], latest["name"])
    name = p["proxy_name"]
    log_errors[name] = []
    try:
        log_errors[name] = error_lines(tail_file(p["proxy_error_log"], p["log_lines"]), p["error_pattern"],
                                       p["error_lines"])
        log_sources[name] = "last %d lines of %s" % (p["log_lines"], p["proxy_error_log"])
    except OSError as exc:
        log_unread[name] = "%s: %s" % (p["proxy_error_log"], exc.strerror or exc)

    return {
        "now": iso(time.time()),
        "now_epoch": int(time.time()),
        "services": services,
        "containers": containers,
        "disk": disk,
        "memory": memory,
        "top_cpu": top(processes, "cpu", p["top"]),
        "top_mem": top(processes, "mem", p["top"]),
        "log_errors": log_errors,
        "log_sources": log_sources,
        "log_unread": log_unread,
        "releases": read_ledger(p["state_dir"], p["releases"]),
        "notes": notes,
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            compose_dir=dict(type="path", required=True),
            engine_service=dict(type="str", default="docker"),
            services=dict(type="list", elements="str", default=[]),
            log_services=dict(type="list", elements="str", default=["api"]),
            proxy_name=dict(type="str", default="nginx"),
            proxy_error_log=dict(type="path", default="/var/log/nginx/error.log"),
            log_lines=dict(type="int", default=500),
            error_pattern=dict(type="str", default=ERROR_PATTERN),
            error_lines=dict(type="int", default=20),
            top=dict(type="int", default=5),
            state_dir=dict(type="path", default="/var/lib/runbook"),
            releases=dict(type="int", default=5),
        ),
        supports_check_mode=True,
    )
    try:
        re.compile(module.params["error_pattern"])
    except re.error as exc:
        module.fail_json(msg="runbook_diagnose: error_pattern is not a regular expression: %s" % exc)
    module.exit_json(changed=False, **diagnose(module.params))


if __name__ == "__main__":
    main()
