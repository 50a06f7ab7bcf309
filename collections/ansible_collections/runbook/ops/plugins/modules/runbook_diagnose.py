#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, runbook contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The runbook's quick diagnostics, read in one round trip and returned as data.

The readers and parsers live in module_utils (runbook_systemd, runbook_docker_output,
runbook_usage, runbook_processes, runbook_log_lines, runbook_ledger, runbook_endpoints,
runbook_host_guide, runbook_x509); this module runs the commands and puts the answer together.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_diagnose
short_description: Read services, containers, disk, memory, top processes and error lines of a host
description:
  - Reads, changing nothing, in one round trip, the systemd units (the Docker engine, the proxy, any other) with state,
    since when and restarts (one C(systemctl show)).
  - The compose project's containers (C(docker compose ps) for the ids, one C(docker inspect) for all); skipped when
    the engine's unit is not active, because a docker command would start a socket-activated engine.
  - Disk per mount (C(df -P -k -T), pseudo and container file systems left out), memory (/proc/meminfo, as C(free)
    computes it), the top processes by CPU and by memory from one C(ps) call.
  - The last error lines of some compose services (C(docker logs)) and of the proxy's error log, ANSI escape
    sequences stripped. They are raw, so the caller redacts them and registers the result with C(no_log).
  - The last releases of the runbook's ledger (I(state_dir)/releases.jsonl).
  - With I(guide=true) also the rest of the guide in RV(guide) (each item carries C(error) instead of its data when its
    source is absent or unreadable), the health URLs, the lineage and served certificates, Docker's disk usage,
    failed units, ufw, the newest backup, the run lock and the last healthy release.
  - With I(guide=true) also the signs of sections 3, 6 and 8 - host-wide memory and CPU use (two samples of
    /proc/stat around the whole reading, so no extra wait) and load; OOM kills in the kernel log (C(dmesg), else the
    journal) and failed SSH logins in one C(journalctl) call over their windows (auth.log and kern.log when there is
    no journal); OOM-killed containers (Docker's OOMKilled); payment errors among the
    log lines of I(payment_service) already read; whether I(env_file) changed after the last recorded release (a file
    whose SHA-256 is the one the runbook's own last write of it noted in I(state_dir)/env-writes.jsonl is explained
    by that write, the payments switch or a secret rotation) - each
    compared with its limit.
  - A part that cannot be read is reported in RV(notes); the module itself does not fail on it.
  - With I(health_poll), a health URL is polled side by side with the reading (RV(health_poll)).
  - With I(lock_dir) and I(take_lock), the same round trip takes the run lock when it is free (the only write).
author: runbook maintainers (@runbook)
version_added: 1.0.0
options:
  compose_dir: {type: path, required: true, description: The directory of the app's compose file.}
  engine_service: {type: str, default: docker, description: systemd unit of the Docker engine.}
  services: {type: list, elements: str, default: [], description: 'Further systemd units to report (the proxy, ...).'}
  log_services: {type: list, elements: str, default: [api], description: Compose services whose error lines are read.}
  proxy_name: {type: str, default: nginx, description: Name under which the proxy's error lines are returned.}
  proxy_error_log: {type: path, default: /var/log/nginx/error.log, description: The proxy's error log.}
  log_lines: {type: int, default: 500, description: Lines read from the end of each log.}
  error_pattern:
    type: str
    default: 'error|fatal|exception|panic|crit|traceback|\[(alert|emerg)\]'
    description: Regular expression (case-insensitive) of an error line.
  error_lines: {type: int, default: 20, description: Error lines kept per log (the last ones).}
  top: {type: int, default: 5, description: Processes listed by CPU and by memory.}
  state_dir: {type: path, default: /var/lib/runbook, description: "Where the release ledger releases.jsonl is (and env-writes.jsonl)."}
  releases: {type: int, default: 5, description: Ledger entries returned (the last ones).}
  guide: {type: bool, default: false, description: 'Also read the rest of the guide (returned as RV(guide)).'}
  health_url: {type: str, default: '', description: The app's health URL (guide).}
  db_health_url: {type: str, default: '', description: The app's database health URL (guide).}
  health_timeout: {type: float, default: 5, description: Seconds one health request may take.}
  validate_certs: {type: bool, default: true, description: Validate TLS certificates of an https health URL.}
  domain: {type: str, default: '', description: The name on the TLS certificate (guide).}
  cert_live_dir: {type: path, default: /etc/letsencrypt/live, description: "certbot's live directory, one folder per lineage."}
  https_host: {type: str, default: 127.0.0.1, description: Where the web server serves HTTPS on the host.}
  https_port: {type: int, default: 443, description: Its port.}
  tls_timeout: {type: float, default: 3, description: Seconds the TLS handshake may take.}
  backup_dir: {type: path, default: /root/backups, description: Where the app's backups are (guide).}
  lock_stale_after: {type: int, default: 60, description: Seconds without a heartbeat after which the run lock is stale.}
  env_file: {type: path, default: '', description: "The app's environment file, whose change time is compared with the ledger (guide)."}
  memory_pct_max: {type: float, default: 90, description: Memory in use (total - available) from which memory is over its limit (%).}
  cpu_pct_max: {type: float, default: 90, description: "Host-wide CPU use during the reading (%): CPU is over its limit from it, with I(load_pct_max)."}
  load_pct_max: {type: float, default: 100, description: "The 1-minute load per CPU (%): CPU is over its limit from it, with I(cpu_pct_max)."}
  oom_window: {type: int, default: 60, description: Minutes back in which the OOM killer's kills count.}
  login_window: {type: int, default: 10, description: Minutes back in which failed SSH logins count.}
  login_failures_max: {type: int, default: 10, description: Failed SSH logins within the window that make a burst.}
  payment_service: {type: str, default: api, description: "The compose service whose log lines are searched for payment errors (one of I(log_services))."}
  payment_words: {type: str, default: stripe|payment, description: Regular expression (case-insensitive) of a payment line.}
  payment_error_pattern:
    type: str
    default: 'error|fail|declin|exception|fatal|refused|invalid|timeout'
    description: Regular expression (case-insensitive) that a payment line must also match to be a payment error.
  payment_window: {type: int, default: 30, description: Minutes back in which payment errors count.}
  health_poll:
    type: dict
    description:
      - Also poll this health URL, as runbook.ops.runbook_health does, side by side with the reading (the outage's
        health check before the fix, without a round trip of its own); the result is RV(health_poll).
    suboptions:
      url: {type: str, required: true, description: The URL to poll.}
      status: {type: int, default: 200, description: The HTTP status that means healthy.}
      timeout: {type: float, default: 1, description: 'Seconds to keep polling, real time on the host.'}
      interval: {type: float, default: 0.5, description: Seconds between the start of two requests.}
      request_timeout: {type: float, default: 5, description: 'Seconds one request may take (cut short by the deadline).'}
      validate_certs: {type: bool, default: true, description: Validate the TLS certificate of an https URL.}
  lock_dir:
    type: path
    default: ''
    description: "The run lock's state directory: RV(lock) then says whether a run held the lock while the module read."
  take_lock:
    type: dict
    default: {}
    description: >-
      With I(lock_dir), take the run lock (token, owner, scenario, idle, env_name as runbook_lock's) at the end of the
      reading when no run held or took it meanwhile, so that the diagnosis describes the host as the lock's holder
      finds it. Never in check mode. When it is not taken, the caller takes the lock the usual way (waiting).
attributes:
  check_mode: {support: full, description: 'It only reads (and takes the run lock, with I(take_lock)); check mode changes nothing.'}
  diff_mode: {support: none, description: Nothing changes; there is no diff.}
  platform: {support: full, platforms: posix, description: A Debian host with systemd; Docker and ufw when present.}
"""

EXAMPLES = r"""
- name: Read the services, containers, disk, memory, top processes and last error lines
  runbook.ops.runbook_diagnose:
    compose_dir: /srv/app
    services: [nginx]
    log_services: [api]
    guide: true
    health_url: http://localhost:3000/health
    domain: app.example.com
  register: diagnose_probe
  no_log: true
"""

RETURN = r"""
now: {description: The host's time of the reading (UTC)., returned: always, type: str, sample: '2026-11-29T12:07:26Z'}
now_epoch: {description: The same as seconds since the epoch., returned: always, type: int}
services:
  description: The systemd units (name, state, sub_state, since, since_epoch, restarts), the engine first.
  returned: always
  type: list
  elements: dict
containers:
  description: The compose project's containers (name, service, id, state, exit_code, since, since_epoch, restarts, health, oom_killed).
  returned: always
  type: list
  elements: dict
disk: {description: 'Mounts that hold data (mount, size, used, avail, use_pct, filesystem, type).', returned: always,
       type: list, elements: dict}
memory: {description: 'Memory in MB (total_mb, used_mb, available_mb, swap_total_mb, swap_used_mb).', returned: always,
         type: dict}
top_cpu: {description: 'The top processes by CPU (pid, user, cpu, mem, rss_kb, command).', returned: always,
          type: list, elements: dict}
top_mem: {description: 'The top processes by memory, the same keys as RV(top_cpu).', returned: always,
          type: list, elements: dict}
log_errors: {description: 'Per compose service and the proxy: the last error lines (raw; oldest first).', returned: always,
             type: dict}
log_sources: {description: 'Per log: what was read.', returned: always, type: dict}
log_unread: {description: 'Per log that could not be read: why.', returned: always, type: dict}
releases: {description: The last entries of the release ledger., returned: always, type: list, elements: dict}
notes: {description: 'What could not be read (the module does not fail on it).', returned: always, type: list,
        elements: str}
health_poll:
  description: >-
    With I(health_poll): status, healthy, attempts, elapsed, first_status, msg (as runbook_health returns them), and
    ended_ago, the seconds between the poll's end and the module's answer.
  returned: when health_poll is given
  type: dict
lock:
  description: "With I(lock_dir): read, held (a run held it while the module read), seq, taken (with the token and holder when taken)."
  returned: when lock_dir is given
  type: dict
guide:
  description: >-
    The rest of the guide, one item each (health, db_health, certificate, docker_disk, failed_units, firewall,
    backup, lock, last_release, resources, oom, payments, env_file, failed_logins), each with error set when its
    source could not be read.
  returned: when guide is true
  type: dict
"""

import hashlib
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import Commands
from ansible_collections.runbook.ops.plugins.module_utils.runbook_docker_output import parse_compose_ps, parse_inspect
from ansible_collections.runbook.ops.plugins.module_utils.runbook_endpoints import (
    read_certificate_file, read_health, read_served_certificate)
from ansible_collections.runbook.ops.plugins.module_utils.runbook_health_poll import poll, poll_options
from ansible_collections.runbook.ops.plugins.module_utils.runbook_host_guide import (
    last_release, read_backup, read_docker_disk, read_failed_units, read_lock, read_ufw)
from ansible_collections.runbook.ops.plugins.module_utils.runbook_ledger import last_env_write, read_ledger
from ansible_collections.runbook.ops.plugins.module_utils.runbook_log_lines import (
    ERROR_PATTERN, error_lines, merged_docker_logs, tail_file)
from ansible_collections.runbook.ops.plugins.module_utils.runbook_processes import PS_ARGV, parse_ps, top
from ansible_collections.runbook.ops.plugins.module_utils.runbook_run_lock import lock_state, probe_lock, take_for_probe
from ansible_collections.runbook.ops.plugins.module_utils.runbook_signs import (
    JOURNAL_GREP, auth_log_entries, count_cpus, cpu_pct, cpu_times, dmesg_entries, env_change, failed_logins,
    journal_entries,
    memory_pct, oom_kills, parse_loadavg, payment_errors)
from ansible_collections.runbook.ops.plugins.module_utils.runbook_systemd import parse_systemctl_show, show_argv
from ansible_collections.runbook.ops.plugins.module_utils.runbook_times import iso
from ansible_collections.runbook.ops.plugins.module_utils.runbook_usage import DF_ARGV, parse_df, parse_meminfo

# The module's command runner: module.run_command once main() has the module.
COMMANDS = Commands()
# Lines quoted per sign (OOM kills, failed logins, payment errors); the counts cover the whole window.
SIGN_LINES = 5
# At most this many journal entries are read for the signs: a cap on the output, not a limit of a sign.
JOURNAL_MAX = 20000


def read_units(names, notes):
    rc, out, err = COMMANDS.run(show_argv(names), timeout=30)
    if rc != 0:
        notes.append("systemd units not read: %s" % (err.strip() or "systemctl exited %d" % rc))
        return []
    return parse_systemctl_show(out, names)


def read_containers(compose_dir, notes):
    rc, out, err = COMMANDS.run(["docker", "compose", "ps", "--all", "--format", "json"], cwd=compose_dir, timeout=30)
    if rc != 0:
        notes.append("containers not read (docker compose ps in %s): %s" % (compose_dir, err.strip()))
        return []
    ids = [container["id"] for container in parse_compose_ps(out)]
    if not ids:
        return []
    rc, out, err = COMMANDS.run(["docker", "inspect", "--type", "container", "--"] + ids, timeout=30)
    if rc != 0:
        notes.append("containers not inspected: %s" % err.strip())
        return []
    return parse_inspect(out)


def read_container_log(container_id, lines):
    """(the last lines of a container's log, stdout and stderr merged in time order, or None; why not)."""
    rc, out, err = COMMANDS.run(["docker", "logs", "--timestamps", "--tail", str(lines), container_id], timeout=30)
    if rc != 0:
        return None, err.strip()
    return merged_docker_logs(out, err), ""


def read_processes(notes):
    """Every process from one `ps` call, without this module and that ps."""
    rc, out, err = COMMANDS.run(PS_ARGV, timeout=30)
    if rc != 0:
        notes.append("processes not read: %s" % (err.strip() or "ps exited %d" % rc))
    return parse_ps(out, skip={os.getpid()})


def read_disk(notes):
    rc, out, err = COMMANDS.run(DF_ARGV, timeout=30)
    # df exits 1 when one mount cannot be read (a stale network mount) but still lists the others.
    if rc != 0:
        notes.append("df: %s" % err.strip())
    return [row for row in parse_df(out) if os.path.isdir(row["mount"])]


def read_memory(notes):
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            return parse_meminfo(f.read())
    except OSError as exc:
        notes.append("memory not read: %s" % exc)
        return parse_meminfo("")


def read_logs(p, containers, engine_active):
    """(errors, sources, unread, raw) per log: the compose services' newest containers, then the proxy's error log;
    raw holds each compose service's lines as read (for the payment errors)."""
    log_errors, log_sources, log_unread, raw = {}, {}, {}, {}
    for service in p["log_services"]:
        log_errors[service] = []
        matching = [row for row in containers if row["service"] == service]
        if not matching:
            log_unread[service] = "no container of the service" if engine_active else "the Docker engine is not active"
            continue
        latest = max(matching, key=lambda row: row["since_epoch"] or 0)
        lines, error = read_container_log(latest["id"], p["log_lines"])
        if lines is None:
            log_unread[service] = "docker logs %s: %s" % (latest["name"], error)
        else:
            log_errors[service] = error_lines(lines, p["error_pattern"], p["error_lines"])
            log_sources[service] = "last %d log lines of %s" % (p["log_lines"], latest["name"])
            raw[service] = lines
    name = p["proxy_name"]
    log_errors[name] = []
    try:
        log_errors[name] = error_lines(tail_file(p["proxy_error_log"], p["log_lines"]), p["error_pattern"],
                                       p["error_lines"])
        log_sources[name] = "last %d lines of %s" % (p["log_lines"], p["proxy_error_log"])
    except OSError as exc:
        log_unread[name] = "%s: %s" % (p["proxy_error_log"], exc.strerror or exc)
    return log_errors, log_sources, log_unread, raw


def read_proc(path):
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def read_journal_signs(since):
    """(entries, source, error) of the OOM kills and failed SSH logins since an epoch: one journalctl call that
    only returns the matching entries; without a journal, the tails of auth.log and kern.log."""
    journalctl = COMMANDS.which("journalctl")
    if journalctl:
        # No module reads the journal; journalctl's --grep keeps the output to the matching entries.
        rc, out, err = COMMANDS.run([journalctl, "--no-pager", "--quiet", "-o", "json", "--since", "@%d" % int(since),
                                     "--lines", str(JOURNAL_MAX), "--grep", JOURNAL_GREP,
                                     "--output-fields", "MESSAGE,SYSLOG_IDENTIFIER,_COMM,_PID,SYSLOG_PID"],
                                    timeout=30)
        # journalctl --grep exits 1 when nothing matches
        if rc == 0 or (rc == 1 and not out.strip() and not err.strip()):
            return journal_entries(out), "the journal", ""
        journal_error = "journalctl: %s" % (err.strip() or "exited %d" % rc)
    else:
        journal_error = "no journalctl"
    entries, read = [], []
    for path in ("/var/log/auth.log", "/var/log/kern.log"):
        try:
            entries += auth_log_entries(tail_file(path, JOURNAL_MAX))
            read.append(path)
        except OSError:
            continue
    if not read:
        return [], "", "%s, and no /var/log/auth.log" % journal_error
    return entries, " and ".join(read), ""


def file_sha256(path):
    """The file's SHA-256 (hex), '' when it cannot be read; its contents go nowhere else."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(65536), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()


def read_kernel_log():
    """(entries, source) of the kernel's error lines (where its OOM killer reports), or (None, '') when dmesg
    cannot be read: then the journal's kernel lines count."""
    # The kernel's ring buffer is what journald copies; it also holds it on hosts whose journal does not.
    rc, out, dummy = COMMANDS.run(["dmesg", "--time-format", "iso", "--level", "err"], timeout=10)
    if rc != 0:
        return None, ""
    return dmesg_entries(out), "the kernel log (dmesg)"


def read_signs(p, found, raw, ledger, cpu_before, journal, kernel):
    """The guide's signs of sections 3, 6 and 8, each compared with its limit."""
    now = found["now_epoch"]
    stat = read_proc("/proc/stat")
    cpus = count_cpus(stat)
    load = parse_loadavg(read_proc("/proc/loadavg"))
    cpu = cpu_pct(cpu_before, cpu_times(stat))
    mem = memory_pct(found["memory"])
    load_pct = None if load is None else round(100.0 * load[0] / cpus, 1)
    resources = {
        "memory_pct": mem, "memory_pct_max": p["memory_pct_max"],
        "memory_over": mem is not None and mem >= p["memory_pct_max"],
        "cpu_pct": cpu, "cpu_pct_max": p["cpu_pct_max"], "cpus": cpus,
        "load1": None if load is None else load[0], "load_pct": load_pct, "load_pct_max": p["load_pct_max"],
        # Both: a busy moment during the reading (the reading's own commands count too) and a minute of load.
        "cpu_over": cpu is not None and cpu >= p["cpu_pct_max"] and load_pct is not None and load_pct >= p["load_pct_max"],
        "error": "" if mem is not None and cpu is not None else "/proc/meminfo or /proc/stat not read",
    }
    entries, source, error = journal
    kernel_entries, kernel_source = kernel
    if kernel_entries is None:
        kernel_entries, kernel_source, kernel_error = entries, source, error
    else:
        kernel_error = ""
    oom = dict(oom_kills(kernel_entries, now - 60 * p["oom_window"], SIGN_LINES), window_min=p["oom_window"],
               source=kernel_source, containers=[row["name"] for row in found["containers"] if row.get("oom_killed")],
               error=kernel_error)
    logins = dict(failed_logins(entries, now - 60 * p["login_window"], SIGN_LINES), window_min=p["login_window"],
                  max=p["login_failures_max"], source=source, error=error)
    logins["burst"] = not error and logins["count"] >= p["login_failures_max"]
    service = p["payment_service"]
    payments = {"service": service, "window_min": p["payment_window"], "count": None, "lines": [], "source": "",
                "error": ""}
    if service in raw:
        payments.update(payment_errors(raw[service], now - 60 * p["payment_window"], p["payment_words"],
                                       p["payment_error_pattern"], SIGN_LINES))
        payments["source"] = found["log_sources"].get(service, "")
    else:
        payments["error"] = found["log_unread"].get(service) or "%s is not one of the logs read" % service
    env_mtime = None
    if p["env_file"]:
        try:
            env_mtime = os.stat(p["env_file"]).st_mtime
        except OSError:
            env_mtime = None
    own_write = last_env_write(p["state_dir"], p["env_file"]) if env_mtime is not None else None
    env_file = env_change(p["env_file"], env_mtime, ledger[1], now, own_write,
                          file_sha256(p["env_file"]) if own_write else "")
    if not p["env_file"]:
        env_file["error"] = "no environment file given"
    elif ledger[0] and env_mtime is not None:
        env_file["error"] = ledger[0]
    return {"resources": resources, "oom": oom, "failed_logins": logins, "payments": payments, "env_file": env_file}


def read_guide(p, pool, engine_active, ledger):
    """Start the network probes in the pool, read the local items; returns a function that waits for the rest."""
    now = time.time()
    health = pool.submit(read_health, p["health_url"], p["health_timeout"], p["validate_certs"])
    db_health = pool.submit(read_health, p["db_health_url"], p["health_timeout"], p["validate_certs"])
    domain = p["domain"]
    served = pool.submit(read_served_certificate, p["https_host"], p["https_port"], domain, p["tls_timeout"], now,
                         COMMANDS)
    if domain:
        lineage = read_certificate_file(os.path.join(p["cert_live_dir"], domain, "cert.pem"), now, COMMANDS)
    else:
        lineage = {"path": "", "found": False, "error": "no domain given"}
    guide = {
        "docker_disk": read_docker_disk(engine_active, p["engine_service"], COMMANDS),
        "failed_units": read_failed_units(COMMANDS),
        "firewall": read_ufw(COMMANDS),
        "backup": read_backup(p["backup_dir"], now),
        "lock": read_lock(p["state_dir"], p["lock_stale_after"], now),
        "last_release": last_release(ledger[1], p["state_dir"], ledger[0], now),
    }

    def finish():
        file_cert, served_cert = lineage, served.result()
        same = bool(file_cert.get("found") and served_cert.get("found")
                    and file_cert.get("serial") == served_cert.get("serial"))
        guide.update(health=health.result(), db_health=db_health.result(),
                     certificate={"domain": domain, "file": file_cert, "served": served_cert, "same": same})
        return guide

    return finish


def diagnose(p, pool=None):
    # Host-wide CPU use is measured over the whole reading: this sample, and one at its end.
    cpu_before = cpu_times(read_proc("/proc/stat"))
    started = time.time()
    notes = []
    names = [p["engine_service"]] + [name for name in p["services"] if name != p["engine_service"]]
    services = read_units(names, notes)
    engine_active = any(unit["name"] == p["engine_service"] and unit["state"] == "active" for unit in services)
    ledger = read_ledger(p["state_dir"])
    # The guide's network probes (health URLs, the served certificate) run while the rest is read.
    finish_guide = read_guide(p, pool, engine_active, ledger) if p["guide"] and pool is not None else None
    journal = None
    if finish_guide is not None:
        journal = pool.submit(read_journal_signs, started - 60 * max(p["oom_window"], p["login_window"]))
        kernel = pool.submit(read_kernel_log)
    containers = []
    if engine_active:
        containers = read_containers(p["compose_dir"], notes)
    else:
        notes.append("Docker engine (%s) not active: containers and their logs not read" % p["engine_service"])
    disk = read_disk(notes)
    memory = read_memory(notes)
    processes = read_processes(notes)
    log_errors, log_sources, log_unread, raw = read_logs(p, containers, engine_active)
    found = {
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
        "releases": ledger[1][-p["releases"]:] if p["releases"] > 0 else [],
        "notes": notes,
    }
    if finish_guide is not None:
        found["guide"] = finish_guide()
        found["guide"].update(read_signs(p, found, raw, ledger, cpu_before, journal.result(), kernel.result()))
    return found


def poll_and_end(params):
    """The health poll and when it ended (monotonic clock), for its ended_ago."""
    result = poll(params)
    return result, time.monotonic()


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
            guide=dict(type="bool", default=False),
            health_url=dict(type="str", default=""),
            db_health_url=dict(type="str", default=""),
            health_timeout=dict(type="float", default=5.0),
            validate_certs=dict(type="bool", default=True),
            domain=dict(type="str", default=""),
            cert_live_dir=dict(type="path", default="/etc/letsencrypt/live"),
            https_host=dict(type="str", default="127.0.0.1"),
            https_port=dict(type="int", default=443),
            tls_timeout=dict(type="float", default=3.0),
            backup_dir=dict(type="path", default="/root/backups"),
            lock_stale_after=dict(type="int", default=60),
            env_file=dict(type="path", default=""),
            memory_pct_max=dict(type="float", default=90.0),
            cpu_pct_max=dict(type="float", default=90.0),
            load_pct_max=dict(type="float", default=100.0),
            oom_window=dict(type="int", default=60),
            login_window=dict(type="int", default=10),
            login_failures_max=dict(type="int", default=10),
            payment_service=dict(type="str", default="api"),
            payment_words=dict(type="str", default="stripe|payment"),
            payment_error_pattern=dict(type="str", default="error|fail|declin|exception|fatal|refused|invalid|timeout"),
            payment_window=dict(type="int", default=30),
            health_poll=dict(type="dict", options=poll_options(1.0)),
            lock_dir=dict(type="path", default=""),
            take_lock=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    for name in ("error_pattern", "payment_words", "payment_error_pattern"):
        try:
            re.compile(module.params[name])
        except re.error as exc:
            module.fail_json(msg="runbook_diagnose: %s is not a regular expression: %s" % (name, exc))
    COMMANDS.use(module)
    lock_dir = module.params["lock_dir"]
    # Read before and after everything else: the reading describes a moment with no
    # run holding the lock only when both reads agree and neither saw it held.
    lock_before = lock_state(lock_dir) if lock_dir else None
    health = module.params["health_poll"]
    with ThreadPoolExecutor(max_workers=1) as side:
        polled = side.submit(poll_and_end, health) if health else None
        with ThreadPoolExecutor(max_workers=5) as pool:
            found = diagnose(module.params, pool)
        if polled:
            found["health_poll"], poll_ended = polled.result()
    if lock_dir:
        found["lock"] = probe_lock(lock_dir, lock_before)
        if module.params["take_lock"] and not module.check_mode:
            found["lock"] = take_for_probe(lock_dir, found["lock"], module.params["take_lock"])
    if polled:
        # How long before the module's answer the poll ended (the rest of the reading,
        # the lock): the caller's "first seen down" counts back by it too.
        found["health_poll"]["ended_ago"] = round(time.monotonic() - poll_ended, 2)
    # The lock is bookkeeping, not host state: taking it is no change (as runbook_lock).
    module.exit_json(changed=False, **found)


if __name__ == "__main__":
    main()
